"""EM Tasks: asynchronous-operation handles owned by the logon session that started them.

``POST /api/jobs/{id}?action=start|stop|retry`` answers ``202`` with a Task in state
``Running``. After half of ``task_seconds`` it reports ``OperationFinished`` (done on the
backup server, EM has not collected the data yet), after ``task_seconds`` ``Finished``; at
that moment the effect becomes visible in the data (a new job session with one task session
per VM of the job, an ``IsRetry`` session for retries, a stopped session for stop). A Running
task has no ``Result`` (as captured from a real EM).

Progress is driven by the monotonic clock; new sessions are stamped with the emulator's data
clock (``Clock``), so a fixed ``--now`` keeps data deterministic.
"""
import itertools
import random
import threading
import time
import uuid

from .model import JobSession, TaskSession
from .timeutil import US, fmt_name_ts, now_us

OPERATIONS = {"start": "StartJob", "stop": "StopJob", "retry": "RetryJob"}


class Clock:
    """The emulator's notion of "now" for data: fixed (``--now``/``/_emulator/clock``) or real."""

    def __init__(self, fixed_us=None):
        self.fixed_us = fixed_us

    def now(self):
        return self.fixed_us if self.fixed_us is not None else now_us()


class Task:
    __slots__ = ("task_id", "operation", "action", "job", "created", "state", "success", "message", "related",
                 "done", "session")

    def __init__(self, task_id, action, job, session):
        self.task_id = task_id
        self.action = action
        self.operation = OPERATIONS[action]
        self.job = job
        self.session = session
        self.created = time.monotonic()
        self.state = "Running"
        self.success = None
        self.message = None
        self.related = []       # [(type, href-relative-to-/api, name)]
        self.done = False

    @property
    def uid(self):
        """Sort tie-break key (tasks have no UID): numeric order of the task counter."""
        return "task-%012d" % int(self.task_id.split("-", 1)[1])


class TaskManager:
    def __init__(self, dataset, clock, task_seconds=2.0):
        self.ds = dataset
        self.clock = clock
        self.task_seconds = float(task_seconds)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._pending = []
        self._rng = random.Random(4242)

    def create(self, session, job, action):
        with self._lock:
            t = Task("task-%d" % next(self._ids), action, job, session)
            session.tasks[t.task_id] = t
            self._pending.append(t)
        self.advance()
        return t

    def advance(self):
        """Move every pending task along its lifecycle (called per request and by a ticker)."""
        if not self._pending:
            return
        now = time.monotonic()
        with self._lock:
            still = []
            for t in self._pending:
                age = now - t.created
                if age >= self.task_seconds:
                    t.state = "OperationFinished"
                    self._finish(t)
                    t.state = "Finished"
                elif age >= self.task_seconds / 2.0:
                    t.state = "OperationFinished"
                    still.append(t)
                else:
                    still.append(t)
            self._pending = still

    # ------------------------------------------------------------ effects
    def _guid(self):
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _finish(self, t):
        job = self.ds.get("Job", t.job.guid) or t.job
        with self.ds.lock:
            if t.action == "start":
                self._start(t, job)
            elif t.action == "stop":
                self._stop(t, job)
            else:
                self._retry(t, job)
        t.done = True

    def _running(self, job):
        lst = self.ds.replica_js if job.job_type == "Replica" else self.ds.backup_js
        return [s for s in lst if s.job is job and s.state == "Working"]

    def _new_session(self, t, job, vms, is_retry):
        now = self.clock.now()
        n = max(1, len(vms))
        start = now - (n * 2 + 10) * US
        js = JobSession(self._guid(), job, start, now, "Stopped", "Success", 100, is_retry)
        self.ds.add_job_session(js)
        for i, vm in enumerate(vms):
            ct = start + (5 + i * 2) * US
            et = ct + 2 * US
            if job.job_type == "Backup":
                pn = "%s-%s@%s" % (vm.name, "emul", fmt_name_ts(et))
            else:
                pn = "%s@%s" % (vm.name, fmt_name_ts(et))
            ts = TaskSession(self._guid(), js, vm, ct, et, "Completed", "Success", "", vm.size_bytes, self._guid(), pn)
            self.ds.add_task_session(ts)
        path = "replicaSessions" if job.job_type == "Replica" else "backupSessions"
        t.related.append((js.kind, "/%s/%s?format=Entity" % (path, js.guid), js.name))
        return js

    def _start(self, t, job):
        if self._running(job):
            t.success, t.message = False, 'Job "%s" is already running.' % job.name
            return
        self._new_session(t, job, list(job.vms), False)
        t.success, t.message = True, 'Job "%s" triggered to start.' % job.name

    def _stop(self, t, job):
        running = self._running(job)
        if not running:
            t.success, t.message = False, 'Job "%s" is not running.' % job.name
            return
        now = self.clock.now()
        for js in running:
            js.state, js.result, js.progress = "Stopped", "Failed", 100
            js.set_end(now)
            for ts in js.tasks:
                if ts.state != "Completed":
                    ts.state, ts.result, ts.reason, ts.total_size = "Completed", "Failed", \
                        "Error: Job has been stopped by user ", 0
                    ts.set_end(now)
            path = "replicaSessions" if job.job_type == "Replica" else "backupSessions"
            t.related.append((js.kind, "/%s/%s?format=Entity" % (path, js.guid), js.name))
        self.ds.touch()
        t.success, t.message = True, 'Job "%s" stopped.' % job.name

    def _retry(self, t, job):
        lst = self.ds.replica_js if job.job_type == "Replica" else self.ds.backup_js
        mine = [s for s in lst if s.job is job and s.state == "Stopped"]
        if not mine:
            t.success, t.message = False, 'Job "%s" has no sessions to retry.' % job.name
            return
        last = mine[-1]
        failed = [ts.vm for ts in last.tasks if ts.result == "Failed"]
        if not failed:
            t.success, t.message = False, 'Job "%s": the last session has no failed objects to retry.' % job.name
            return
        self._new_session(t, job, failed, True)
        t.success, t.message = True, 'Job "%s" triggered to retry.' % job.name
