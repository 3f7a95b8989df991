"""In-memory EM data model: backup servers, VMs, jobs, job sessions, task sessions.

Everything is served from memory. Session lists are kept sorted by (CreationTime, GUID) so the
query engine can bisect a CreationTime window out of 150k task sessions instead of scanning,
and so "no sort given" has a stable, documented order. ``version`` increases on every change
so cached query results are invalidated (paging while items are inserted sees the shift, as on
a real EM).

The JSON dataset format (``--dataset`` / ``--dump-dataset`` / ``GET /_emulator/dataset``) is
documented in tests/emulator/README.md; ``to_json``/``from_json`` are its only reader/writer.
"""
import bisect
import threading

from .timeutil import fmt_dt, fmt_name_ts, parse_dt

DATASET_FORMAT = "veeam-em-emulator-dataset/1"
# Job types a dataset may give: the Job entity's JobType values [DOC, FACTS 5.6]. A BackupCopy or
# ImmediateBackupCopy job's sessions are backup job/task sessions (FACTS 6: job types share the
# task-session query; the type is on the job session) [INF from the schema: no capture of a copy
# job's task sessions]. The generator makes none; hand-written datasets use them.
DATASET_JOB_TYPES = ("Backup", "BackupCopy", "ImmediateBackupCopy", "Replica")


def _ctkey(x):
    return (x.ct, x.guid)


class BackupServer:
    __slots__ = ("guid", "name", "description", "port", "version", "wcf_port", "restricted")
    kind = "BackupServer"

    def __init__(self, guid, name, description="", port=9392, version="12.3.1.1139", wcf_port=9405,
                 restricted=False):
        self.guid = guid
        self.name = name
        self.description = description
        self.port = port
        self.version = version
        self.wcf_port = wcf_port
        self.restricted = restricted

    @property
    def uid(self):
        return "urn:veeam:BackupServer:" + self.guid

    server = property(lambda self: self)


class Vm:
    __slots__ = ("uid", "name", "server", "size_bytes")

    def __init__(self, uid, name, server, size_bytes):
        self.uid = uid
        self.name = name
        self.server = server
        self.size_bytes = size_bytes


class Job:
    __slots__ = ("guid", "name", "job_type", "platform", "description", "server", "vms",
                 "schedule_configured", "schedule_enabled", "next_run", "retry_times")
    kind = "Job"

    def __init__(self, guid, name, job_type, server, vms, platform="VMware", description="",
                 schedule_configured=True, schedule_enabled=True, next_run=None, retry_times=3):
        self.guid = guid
        self.name = name
        self.job_type = job_type          # "Backup" | "Replica"
        self.platform = platform
        self.description = description
        self.server = server
        self.vms = vms
        self.schedule_configured = schedule_configured
        self.schedule_enabled = schedule_enabled
        self.next_run = next_run          # µs or None
        self.retry_times = retry_times

    @property
    def uid(self):
        return "urn:veeam:Job:" + self.guid


class JobSession:
    __slots__ = ("guid", "job", "name", "ct", "et", "state", "result", "progress", "is_retry",
                 "failure_message", "tasks", "ct_s", "et_s")

    def __init__(self, guid, job, ct, et, state, result, progress, is_retry=False, name=None,
                 failure_message=None):
        self.guid = guid
        self.job = job
        self.ct = ct
        self.et = et
        self.state = state                # Starting Stopping Working Pausing Resuming Stopped
        self.result = result              # Success Warning Failed | None (while running)
        self.progress = progress
        self.is_retry = is_retry
        self.failure_message = failure_message
        self.name = name or "%s@%s" % (job.name, fmt_name_ts(ct))
        self.tasks = []
        self.ct_s = fmt_dt(ct)
        self.et_s = fmt_dt(et)

    @property
    def kind(self):
        return "ReplicaJobSession" if self.job.job_type == "Replica" else "BackupJobSession"

    @property
    def uid(self):
        return "urn:veeam:%s:%s" % (self.kind, self.guid)

    @property
    def server(self):
        return self.job.server

    def set_end(self, et):
        self.et = et
        self.et_s = fmt_dt(et)


class TaskSession:
    __slots__ = ("guid", "js", "vm", "vm_name", "name", "ct", "et", "state", "result", "reason",
                 "total_size", "point_guid", "point_name", "ct_s", "et_s", "uid")

    def __init__(self, guid, js, vm, ct, et, state, result, reason, total_size, point_guid=None,
                 point_name=None, name=None, vm_name=None):
        self.guid = guid
        self.js = js
        self.vm = vm
        self.vm_name = vm_name if vm_name is not None else vm.name
        self.ct = ct
        self.et = et
        self.state = state                # InProgress Pending Completed
        self.result = result              # Success Warning Failed | None
        self.reason = reason
        self.total_size = total_size
        self.point_guid = point_guid
        self.point_name = point_name
        self.name = name or "%s@%s" % (self.vm_name, fmt_name_ts(ct))
        self.ct_s = fmt_dt(ct)
        self.et_s = fmt_dt(et)
        self.uid = "urn:veeam:%s:%s" % (self.kind, guid)

    @property
    def kind(self):
        return "ReplicaTaskSession" if self.js.job.job_type == "Replica" else "BackupTaskSession"

    @property
    def server(self):
        return self.js.job.server

    @property
    def job(self):
        return self.js.job

    def set_end(self, et):
        self.et = et
        self.et_s = fmt_dt(et)


class Dataset:
    """The whole fleet plus indexes. Mutations go through ``add_*`` under ``lock``."""

    def __init__(self, now_us=None):
        self.lock = threading.RLock()
        self.version = 0
        self.generated_now = now_us
        self.servers = []
        self.vms = []
        self.jobs = []
        self.backup_js = []
        self.replica_js = []
        self.backup_ts = []
        self.replica_ts = []
        self.by_guid = {}        # (kind, guid) -> object
        self.vms_by_uid = {}

    # ---- building
    def add_server(self, s):
        self.servers.append(s)
        self.by_guid[("BackupServer", s.guid)] = s

    def add_vm(self, vm):
        self.vms.append(vm)
        self.vms_by_uid[vm.uid] = vm

    def add_job(self, j):
        self.jobs.append(j)
        self.by_guid[("Job", j.guid)] = j

    def add_job_session(self, js, sorted_insert=True):
        lst = self.replica_js if js.job.job_type == "Replica" else self.backup_js
        if sorted_insert:
            bisect.insort(lst, js, key=_ctkey)
        else:
            lst.append(js)
        self.by_guid[(js.kind, js.guid)] = js
        self.version += 1

    def add_task_session(self, ts, sorted_insert=True):
        lst = self.replica_ts if ts.js.job.job_type == "Replica" else self.backup_ts
        if sorted_insert:
            bisect.insort(lst, ts, key=_ctkey)
        else:
            lst.append(ts)
        ts.js.tasks.append(ts)
        self.by_guid[(ts.kind, ts.guid)] = ts
        self.version += 1

    def finish_bulk(self):
        """Sort everything once after a bulk load (faster than 150k insorts)."""
        for lst in (self.backup_js, self.replica_js, self.backup_ts, self.replica_ts):
            lst.sort(key=_ctkey)
        for js in self.backup_js + self.replica_js:
            js.tasks.sort(key=_ctkey)
        self.version += 1

    def get(self, kind, guid):
        return self.by_guid.get((kind, (guid or "").lower()))

    def touch(self):
        self.version += 1

    # ---- JSON dataset format
    def to_json(self):
        def ts_json(t):
            return {
                "id": t.guid, "job_session_id": t.js.guid, "vm_id": t.vm.uid, "vm_display_name": t.vm_name,
                "name": t.name, "creation_time": t.ct_s, "end_time": t.et_s, "state": t.state,
                "result": t.result, "reason": t.reason, "total_size": t.total_size,
                "point_id": t.point_guid, "point_name": t.point_name,
            }

        return {
            "format": DATASET_FORMAT,
            "generated_now": fmt_dt(self.generated_now),
            "backup_servers": [
                {"id": s.guid, "name": s.name, "description": s.description, "port": s.port,
                 "version": s.version, "wcf_port": s.wcf_port, "restricted": s.restricted}
                for s in self.servers],
            "vms": [{"id": v.uid, "name": v.name, "backup_server_id": v.server.guid, "size_bytes": v.size_bytes}
                    for v in self.vms],
            "jobs": [
                {"id": j.guid, "name": j.name, "type": j.job_type, "platform": j.platform,
                 "description": j.description, "backup_server_id": j.server.guid,
                 "schedule_configured": j.schedule_configured, "schedule_enabled": j.schedule_enabled,
                 "next_run": fmt_dt(j.next_run), "retry_times": j.retry_times,
                 "vms": [v.uid for v in j.vms]}
                for j in self.jobs],
            "job_sessions": [
                {"id": s.guid, "job_id": s.job.guid, "name": s.name, "creation_time": s.ct_s,
                 "end_time": s.et_s, "state": s.state, "result": s.result, "progress": s.progress,
                 "is_retry": s.is_retry, "failure_message": s.failure_message}
                for s in sorted(self.backup_js + self.replica_js, key=_ctkey)],
            "task_sessions": [ts_json(t) for t in sorted(self.backup_ts + self.replica_ts, key=_ctkey)],
        }

    @classmethod
    def from_json(cls, doc, now_us=None):
        """Build a Dataset from the documented JSON format; ``ValueError`` on inconsistencies."""
        def dt(v):
            return None if v in (None, "") else parse_dt(v)

        ds = cls(now_us=now_us if now_us is not None else dt(doc.get("generated_now")))
        servers = {}
        for s in doc.get("backup_servers", []):
            bs = BackupServer(s["id"].lower(), s["name"], s.get("description", ""), int(s.get("port", 9392)),
                              s.get("version", "12.3.1.1139"), int(s.get("wcf_port", 9405)),
                              bool(s.get("restricted", False)))
            servers[bs.guid] = bs
            ds.add_server(bs)
        vms = {}
        for v in doc.get("vms", []):
            vm = Vm(v["id"], v["name"], servers[v["backup_server_id"].lower()], int(v.get("size_bytes", 0)))
            vms[vm.uid] = vm
            ds.add_vm(vm)
        jobs = {}
        for j in doc.get("jobs", []):
            if j.get("type", "Backup") not in DATASET_JOB_TYPES:
                raise ValueError("job %s: type must be one of %s" % (j.get("id"), ", ".join(DATASET_JOB_TYPES)))
            job = Job(j["id"].lower(), j["name"], j.get("type", "Backup"), servers[j["backup_server_id"].lower()],
                      [vms[u] for u in j.get("vms", [])], j.get("platform", "VMware"), j.get("description", ""),
                      bool(j.get("schedule_configured", True)), bool(j.get("schedule_enabled", True)),
                      dt(j.get("next_run")), int(j.get("retry_times", 3)))
            jobs[job.guid] = job
            ds.add_job(job)
        sessions = {}
        for s in doc.get("job_sessions", []):
            js = JobSession(s["id"].lower(), jobs[s["job_id"].lower()], dt(s["creation_time"]), dt(s.get("end_time")),
                            s.get("state", "Stopped"), s.get("result"), int(s.get("progress", 100)),
                            bool(s.get("is_retry", False)), s.get("name"), s.get("failure_message"))
            sessions[js.guid] = js
            ds.add_job_session(js, sorted_insert=False)
        for t in doc.get("task_sessions", []):
            js = sessions[t["job_session_id"].lower()]
            vm = vms.get(t.get("vm_id"))
            if vm is None:  # a VM not listed: make a stand-in so hand-written datasets stay short
                vm = Vm(t.get("vm_id") or "", t.get("vm_display_name", ""), js.job.server, 0)
            ts = TaskSession(t["id"].lower(), js, vm, dt(t["creation_time"]), dt(t.get("end_time")),
                             t.get("state", "Completed"), t.get("result"), t.get("reason") or "",
                             int(t.get("total_size", 0)), (t.get("point_id") or None) and t["point_id"].lower(),
                             t.get("point_name"), t.get("name"), t.get("vm_display_name"))
            ds.add_task_session(ts, sorted_insert=False)
        ds.finish_bulk()
        return ds
