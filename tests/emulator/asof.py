"""The opt-in as-of view: the sessions as EM would show them at the data clock, and late collection.

The dataset is generated once, for its ``now``; a test that sets the clock back (``/_emulator/clock``)
to replay night after night would otherwise be answered with sessions created after that night and
with the final state of sessions that were still running then. With the view on (``--as-of``,
``POST /_emulator/view``), every session collection, query and entity answers as of the data clock T:

* a session (job or task) created after T is absent, and so is a task session of an absent job session;
* a session that ended after T is running at T, in the generator's representation of a running session
  (generator.run_session): a task session ``InProgress`` with no end, result, reason, size or restore
  point; a job session ``Working`` with no end, result or failure message, its progress the share of its
  task sessions ended by T. The end time written on it is the version's (``--running-end-time``, FACTS 6
  "Placeholder times"), as for any running session (handlers.common.entity);
* a restore point (derived from a task session) exists from that task session's end.

Late collection [INF: EM collects the sessions of each backup server it manages; a server EM could not
reach has its sessions collected when it is back, with their past CreationTimeUTC (docs/em-api-facts.md
6, "Sessions can arrive in EM after their creation"). EM documents no collection delay; the outage model
is an emulator choice]: ``late_collection`` names a backup server and an outage ``[from, until)``. While
T is inside the outage, EM shows that server's sessions as they were at ``from`` (the last collection):
nothing created since, the running ones still running. From ``until`` on they are all there, each with
its own creation time.

Off by default: nothing changes unless the view is turned on. Job actions (tasks.py) and the dataset
dump (``/_emulator/dataset``) see the whole dataset, never the view.
"""
from .model import JobSession, TaskSession
from .reps import RestorePointView
from .timeutil import fmt_dt, parse_dt

SESSION_KINDS = ("BackupTaskSession", "ReplicaTaskSession", "BackupJobSession", "ReplicaJobSession")


class ViewError(ValueError):
    pass


class Outage:
    """A backup server EM could not reach in ``[start, end)`` (epoch µs)."""
    __slots__ = ("server", "start", "end")

    def __init__(self, server, start, end):
        self.server, self.start, self.end = server, start, end

    def doc(self):
        return {"server": self.server.name, "from": fmt_dt(self.start), "until": fmt_dt(self.end)}


def parse_outages(ds, specs):
    """``[{"server": name, "from": iso, "until": iso}, ...]`` → [Outage]; ``ViewError`` names the bad value."""
    if not isinstance(specs, list):
        raise ViewError("late_collection must be a list of {server, from, until}")
    by_name = dict((s.name.lower(), s) for s in ds.servers)
    outages = []
    for spec in specs:
        if not isinstance(spec, dict) or set(spec) != {"server", "from", "until"}:
            raise ViewError("late_collection item %r: expected exactly the keys server, from, until" % (spec,))
        server = by_name.get(str(spec["server"]).lower())
        if server is None:
            raise ViewError("late_collection: unknown backup server %r" % (spec["server"],))
        try:
            start, end = parse_dt(spec["from"]), parse_dt(spec["until"])
        except (TypeError, ValueError) as e:
            raise ViewError("late_collection %r: %s" % (spec, e))
        if end <= start:
            raise ViewError("late_collection %r: until must be after from" % (spec,))
        outages.append(Outage(server, start, end))
    return outages


class AsOfView:
    """The sessions of ``ds`` as of a moment; built once per (dataset version, moment)."""

    def __init__(self, outages=()):
        self.outages = list(outages)
        self._built = None          # ((version, now), {kind: list}, {(kind, guid): obj or None})

    def doc(self):
        return {"as_of": True, "late_collection": [o.doc() for o in self.outages]}

    def moment(self, server, now):
        """What EM has collected of ``server`` at ``now``: the start of an outage ``now`` is in, else now."""
        seen = now
        for o in self.outages:
            if o.server is server and o.start <= now < o.end:
                seen = min(seen, o.start)
        return seen

    def _build(self, ds, now):
        key = (ds.version, now)
        built = self._built
        if built is not None and built[0] == key:
            return built
        with ds.lock:
            self._built = self._build_locked(ds, now, key)
        return self._built

    def _build_locked(self, ds, now, key):
        lists, by_guid, jobs = {}, {}, {}
        for js in ds.backup_js + ds.replica_js:
            jobs[js.guid] = by_guid[(js.kind, js.guid)] = self._job_session(js, now)
        for name, src in (("BackupJobSession", ds.backup_js), ("ReplicaJobSession", ds.replica_js)):
            lists[name] = [jobs[js.guid] for js in src if jobs[js.guid] is not None]
        for name, src in (("BackupTaskSession", ds.backup_ts), ("ReplicaTaskSession", ds.replica_ts)):
            shown = []
            for t in src:
                v = self._task_session(t, now) if jobs.get(t.js.guid) is not None else None
                by_guid[(t.kind, t.guid)] = v
                if v is not None:
                    shown.append(v)
            lists[name] = shown
        rps = [RestorePointView(t) for t in lists["BackupTaskSession"] if t.point_guid]
        rps.sort(key=lambda r: (r.ct, r.guid))
        lists["VmRestorePoint"] = rps
        return (key, lists, by_guid)

    def _task_session(self, t, now):
        seen = self.moment(t.server, now)
        if t.ct > seen:
            return None
        if t.et is None or t.et <= seen:
            return t
        # running at T: generator.run_session's running task session
        return TaskSession(t.guid, t.js, t.vm, t.ct, None, "InProgress", None, "", 0, None, None, t.name, t.vm_name)

    def _job_session(self, js, now):
        seen = self.moment(js.server, now)
        if js.ct > seen:
            return None
        if js.et is None or js.et <= seen:
            return js       # ended by T, or still running at the dataset's now (as generated)
        # running at T: generator.run_session's Working job session, its progress the share of its task
        # sessions ended by T
        done = sum(1 for t in js.tasks if t.et is not None and t.et <= seen)
        progress = int(100 * done / max(1, len(js.tasks)))
        view = JobSession(js.guid, js.job, js.ct, None, "Working", None, progress, js.is_retry, js.name, None)
        view.tasks = js.tasks
        return view

    # ---- what the handlers ask
    def items(self, ds, now, qt_name, items):
        """The list of ``qt_name`` as of ``now`` (``items`` for the types the view does not touch)."""
        if qt_name not in SESSION_KINDS and qt_name != "VmRestorePoint":
            return items
        return self._build(ds, now)[1][qt_name]

    def one(self, ds, now, obj):
        """``obj`` as of ``now``, or None when absent then."""
        if obj is None or getattr(obj, "kind", None) not in SESSION_KINDS:
            return obj
        return self._build(ds, now)[2].get((obj.kind, obj.guid))

    def tasks_of(self, ds, now, js):
        by_guid = self._build(ds, now)[2]
        return [v for v in (by_guid.get((t.kind, t.guid)) for t in js.tasks) if v is not None]
