"""What every request handler shares: dataset, clock, logon sessions, tasks, faults, stats."""
import random
import threading

from .asof import AsOfView, ViewError, parse_outages
from .auth import SessionStore
from .faults import FaultManager
from .model import TaskSession
from .query import ResultCache
from .tasks import TaskManager
from .timeutil import DAY_US, US

EM_VERSIONS = ("12", "13")
DEFAULT_EM_VERSION = "13"
PLACEHOLDER_END = "1900-01-01T00:00:00Z"


def em_version_number(version):
    return int(str(version).split(".", 1)[0])


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests = {}
        self.total = 0
        self.bytes_sent = 0
        self.statuses = {}

    def count(self, key, status, nbytes):
        with self.lock:
            self.requests[key] = self.requests.get(key, 0) + 1
            self.total += 1
            self.bytes_sent += nbytes
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1


class EmulatorState:
    """Everything the request handlers share."""

    def __init__(self, dataset, clock, accounts, idle_seconds=900, task_seconds=2.0, latency_ms=0, scheme="https",
                 em_version=DEFAULT_EM_VERSION, running_end_time=None):
        self.ds = dataset
        # EM version behaviours (docs/em-api-facts.md 3.3, 6, 7): 13 writes camelCase JSON keys
        # [OBS]; running sessions carry a placeholder end time [OBS, version not known: the
        # emulator sends it by default as EM 13 only, so the default run exercises it].
        self.em_version = em_version
        self.camel_json = em_version_number(em_version) >= 13
        if running_end_time is None:
            running_end_time = PLACEHOLDER_END if self.camel_json else ""
        self.running_end_time = running_end_time or None
        self.clock = clock
        self.sessions = SessionStore(accounts, idle_seconds)
        self.tasks = TaskManager(dataset, clock, task_seconds)
        self.faults = FaultManager()
        self.stats = Stats()
        self.cache = ResultCache()
        self.latency = max(0.0, latency_ms / 1000.0)
        self.scheme = scheme
        self.insert_rng = random.Random(7)
        self.stop_event = threading.Event()
        self.view = None                # the as-of view (asof.py), off by default

    # ------------------------------------------------------------ the as-of view (asof.py)
    def set_view(self, as_of, late_collection=()):
        """Turn the as-of view on (with the late-collection outages) or off; ``asof.ViewError`` on bad input."""
        if late_collection and not as_of:
            raise ViewError("late_collection needs as_of true (late collection is part of the as-of view)")
        with self.ds.lock:
            self.view = AsOfView(parse_outages(self.ds, list(late_collection or []))) if as_of else None
            self.ds.touch()

    def view_doc(self):
        return self.view.doc() if self.view is not None else {"as_of": False, "late_collection": []}

    def source(self, qt, sess):
        """The items of query type ``qt`` the handlers serve: the dataset's, or the as-of view's."""
        items = qt.source(self.ds, sess)
        if self.view is None:
            return items
        return self.view.items(self.ds, self.clock.now(), qt.name, items)

    def as_of(self, obj):
        """``obj`` as the handlers show it (None: absent at the data clock)."""
        return obj if self.view is None else self.view.one(self.ds, self.clock.now(), obj)

    def tasks_of(self, js):
        return list(js.tasks) if self.view is None else self.view.tasks_of(self.ds, self.clock.now(), js)

    def stats_doc(self):
        st = self.stats
        with st.lock:
            doc = {"requests_total": st.total, "requests": dict(st.requests), "bytes_sent": st.bytes_sent,
                   "statuses": dict(st.statuses)}
        doc.update({
            "open_sessions": self.sessions.open_count(),
            "sessions_created": self.sessions.created,
            "sessions_deleted": self.sessions.deleted,
            "sessions_expired": self.sessions.expired,
            "faults_injected": self.faults.injected,
            "dataset_version": self.ds.version,
        })
        return doc

    def reset_stats(self):
        with self.stats.lock:
            self.stats.reset()
        self.sessions.created = self.sessions.deleted = self.sessions.expired = 0
        self.faults.injected = 0

    # ------------------------------------------------------------ paging-time inserts
    def insert_task_sessions(self, fault):
        """Insert ``fault.items`` task sessions of the fault's type (see faults.py)."""
        kind = "replica" if fault.qtype.startswith("replica") else "backup"
        with self.ds.lock:
            jss = self.ds.replica_js if kind == "replica" else self.ds.backup_js
            tss = self.ds.replica_ts if kind == "replica" else self.ds.backup_ts
            if not jss:
                return
            rng = self.insert_rng
            newest = max((t.ct for t in tss), default=self.clock.now())
            oldest = min((t.ct for t in tss), default=newest - DAY_US)
            for dummy in range(fault.items):
                js = rng.choice(jss[-50:]) if fault.position == "before" else rng.choice(jss)
                vm = rng.choice(js.job.vms) if js.job.vms else (js.tasks[0].vm if js.tasks else None)
                if vm is None:
                    continue
                if fault.position == "before":
                    ct = max(newest, self.clock.now()) + rng.randint(1, 600) * US
                else:
                    ct = rng.randint(oldest, newest)
                ts = TaskSession("%08x-%04x-4%03x-8%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16),
                                                                  rng.getrandbits(12), rng.getrandbits(12),
                                                                  rng.getrandbits(48)),
                                 js, vm, ct, ct + 60 * US, "Completed", "Success", "", vm.size_bytes)
                self.ds.add_task_session(ts)
