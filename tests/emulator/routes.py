"""The ``/api/`` route table, built once at import.

A route is a path pattern below ``/api`` (case-insensitive literals, ``{id}`` for one segment),
its handler per HTTP method (else 405 with ``Allow``) and the roles it refuses (then 403: the
method is chosen before authorisation, as in ASP.NET Web API [INF]). Every route but the API
root and ``sessionMngr`` needs a logon session, and an unknown path under ``/api/`` answers 401
before 404 without one, as the if-chain this replaces did. A path no route matches is 404
whatever the method or role.
"""
from .errors import HttpError
from .handlers import query, resources, sessions, tasks
from .querydefs import TYPES


class Route:
    def __init__(self, pattern, methods, denied=(), public=False):
        self.pattern = pattern
        self.segments = tuple(None if s == "{id}" else s.lower() for s in pattern.split("/") if s)
        self.methods = methods
        self.denied = frozenset(denied)
        self.public = public

    @property
    def key(self):
        return len(self.segments), self.segments[0] if self.segments else ""

    def matches(self, low):
        return all(p is None or p == s for p, s in zip(self.segments, low))

    def ids(self, segs):
        return [s for p, s in zip(self.segments, segs) if p is None]

    def handler(self, method, sess, path):
        """The handler for ``method``, after the method check (405) and the role check (403)."""
        if method not in self.methods:
            raise HttpError(405, "Method %s is not allowed for %s" % (method, path),
                            {"Allow": ", ".join(self.methods)})
        if sess is not None and sess.role in self.denied:
            raise HttpError(403, "Access denied.")
        return self.methods[method]


def _resource_routes(path, qname, child=None):
    """Collection, one object and (for job sessions) its task sessions, under ``qname``'s roles."""
    denied = TYPES[qname.lower()].roles_denied
    routes = [Route(path, {"GET": resources.collection(qname)}, denied),
              Route(path + "/{id}", {"GET": resources.one(qname)}, denied)]
    if child:
        child_path, child_qname = child
        routes.append(Route(path + "/{id}/" + child_path, {"GET": resources.children(qname, child_qname)}, denied))
    return routes


_JOB_DENIED = TYPES["job"].roles_denied

ROUTES = [
    Route("", {"GET": sessions.root}, public=True),
    Route("sessionMngr", {"POST": sessions.logon}, public=True),
    Route("logonSessions", {"GET": sessions.list_logon_sessions}),
    Route("logonSessions/{id}", {"GET": sessions.get_logon_session, "DELETE": sessions.delete_logon_session}),
    Route("query", {"GET": query.query}),  # the role check depends on type=: the handler does it
    Route("querySvc", {"GET": sessions.query_svc}),
    Route("tasks", {"GET": tasks.list_tasks}),
    Route("tasks/{id}", {"GET": tasks.get_task, "DELETE": tasks.delete_task}),
    Route("jobs", {"GET": resources.collection("Job")}, _JOB_DENIED),
    Route("jobs/{id}", {"GET": resources.one("Job"), "POST": tasks.job_action}, _JOB_DENIED),
    Route("jobs/{id}/backupSessions", {"GET": resources.job_sessions_of_job}, _JOB_DENIED),
]
ROUTES += _resource_routes("backupTaskSessions", "BackupTaskSession")
ROUTES += _resource_routes("replicaTaskSessions", "ReplicaTaskSession")
ROUTES += _resource_routes("backupSessions", "BackupJobSession", ("taskSessions", "BackupTaskSession"))
ROUTES += _resource_routes("replicaSessions", "ReplicaJobSession", ("replicaTaskSessions", "ReplicaTaskSession"))
ROUTES += _resource_routes("backupServers", "BackupServer")
ROUTES += _resource_routes("vmRestorePoints", "VmRestorePoint")

_INDEX = {}
for _route in ROUTES:
    _INDEX.setdefault(_route.key, []).append(_route)


def resolve(segs):
    """``(route, ids)`` for the path segments below ``/api``, or ``(None, None)``."""
    low = [s.lower() for s in segs]
    for route in _INDEX.get((len(low), low[0] if low else ""), ()):
        if route.matches(low):
            return route, route.ids(segs)
    return None, None
