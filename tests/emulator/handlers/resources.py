"""Resource endpoints: ``/jobs``, ``/backupSessions``, ``/backupServers``, ... and their children.

Collections show the last ``WINDOW_DAYS`` of time-ordered types (README: resource collections);
``?format=Entity`` switches references to entities. The ``collection``, ``one`` and ``children``
factories make the handler of one query type; routes.py lists which path gets which.
"""
import bisect

from ..errors import HttpError
from ..querydefs import TYPES
from ..timeutil import DAY_US
from ..writers import send_list, send_obj
from .common import entity, format_entity, visible

WINDOW_DAYS = 30


def _window(req, qt, items):
    if not qt.sorted_by_ct or qt.name == "VmRestorePoint":
        return items
    lo = req.st.clock.now() - WINDOW_DAYS * DAY_US
    return items[bisect.bisect_left(items, lo, key=lambda x: x.ct):]


def _find(req, qt, oid, sess):
    if qt.name == "VmRestorePoint":
        for rp in req.st.source(qt, sess):
            if rp.guid == oid.lower():
                return rp
        return None
    return req.st.as_of(req.st.ds.get(qt.name, oid))


def _send_items(req, qt, items, as_entities):
    """Resource collection: ``<Plural>`` of entities or ``EntityReferences`` of ``Ref``."""
    if as_entities:
        return send_list(req, [entity(req, qt, x) for x in items], qt.plural)
    return send_list(req, [qt.ref(req.base, x) for x in items], "EntityReferences", "Refs")


def _visible_one(req, sess, qt, oid):
    """The object ``oid`` of ``qt`` the caller may see, else 404."""
    show = visible(sess)
    obj = _find(req, qt, oid, sess)
    if obj is None or (show is not None and not show(obj)):
        raise HttpError(404, "%s '%s' was not found." % (qt.name, oid))
    return obj


def collection(qname):
    qt = TYPES[qname.lower()]

    def handler(req, sess, _ids):
        as_entities = format_entity(req)
        show = visible(sess)
        with req.st.ds.lock:
            items = _window(req, qt, req.st.source(qt, sess))
            items = [x for x in items if show(x)] if show is not None else list(items)
        _send_items(req, qt, items, as_entities)
    return handler


def one(qname):
    qt = TYPES[qname.lower()]

    def handler(req, sess, ids):
        as_entities = format_entity(req)
        obj = _visible_one(req, sess, qt, ids[0])
        if as_entities:
            return send_obj(req, 200, entity(req, qt, obj))
        return send_obj(req, 200, qt.ref(req.base, obj, "EntityRef"))
    return handler


def children(qname, child_qname):
    """The task sessions of one job session (last ``WINDOW_DAYS``)."""
    qt, child_qt = TYPES[qname.lower()], TYPES[child_qname.lower()]

    def handler(req, sess, ids):
        js = _visible_one(req, sess, qt, ids[0])
        as_entities = format_entity(req)
        lo = req.st.clock.now() - WINDOW_DAYS * DAY_US
        _send_items(req, child_qt, [t for t in req.st.tasks_of(js) if t.ct >= lo], as_entities)
    return handler


def job_sessions_of_job(req, sess, ids):
    """``/jobs/{id}/backupSessions``: the job's sessions, backup or replica by the job's type."""
    job = req.st.ds.get("Job", ids[0])
    if job is None:
        raise HttpError(404, "Job '%s' was not found." % ids[0])
    as_entities = format_entity(req)
    qt = TYPES["replicajobsession" if job.job_type == "Replica" else "backupjobsession"]
    with req.st.ds.lock:
        items = [s for s in _window(req, qt, req.st.source(qt, sess)) if s.job is job]
    _send_items(req, qt, items, as_entities)
