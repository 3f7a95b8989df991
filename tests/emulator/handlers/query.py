"""``GET /query``: the query service (type, filter, sort, paging, References/Entities)."""
from .. import reps, render
from ..errors import HttpError
from ..query import page_params, paging, select
from ..querydefs import DOCUMENTED_TYPES, TYPES
from ..writers import JSON_CT, XML_CT, send_raw
from .common import deny, entity, visible


def _query_type(params):
    tname = (params.get("type") or "").strip()
    if not tname:
        raise HttpError(400, "Query parameter 'type' is required.")
    qt = TYPES.get(tname.lower())
    if qt is None:
        if tname.lower() in DOCUMENTED_TYPES:
            raise HttpError(501, "Query type '%s' is not implemented by the emulator." % tname)
        raise HttpError(400, "Unknown query type '%s'." % tname)
    return qt


def _format(params):
    fmt = (params.get("format") or "references").strip().lower()
    if fmt not in ("references", "entities"):
        raise HttpError(400, "Invalid format '%s': expected References or Entities." % params.get("format"))
    return fmt


def _items(req, sess, qt, ftext, sort_field, sort_desc):
    """The whole sorted answer; shared types are cached per (query, role, dataset version)."""
    st = req.st
    if qt.resources:  # Task: session-local, never cached
        items = select(qt, qt.source(st.ds, sess), ftext, sort_field, sort_desc, None)
        if not sort_field:
            items.sort(key=lambda t: int(t.task_id.split("-")[1]))
        return items
    key = (qt.name, ftext, (sort_field or "").lower(), sort_desc, sess.role, st.ds.version)
    items = st.cache.get(key)
    if items is None:
        with st.ds.lock:
            items = select(qt, st.source(qt, sess), ftext, sort_field, sort_desc, visible(sess))
        st.cache.put(key, items)
    return items


def _objects(req, qt, fmt, chunk):
    if qt.resources:
        return "resources", [reps.task_obj(req.base, t) for t in chunk]
    if fmt == "entities":
        return "entities", [entity(req, qt, x) for x in chunk]
    return "refs", [qt.ref(req.base, x) for x in chunk]


def query(req, sess, _ids):
    p = req.params
    qt = _query_type(p)
    deny(sess, qt.roles_denied)
    fmt = _format(p)
    sort_desc = "sortdesc" in p and p.get("sortdesc") != ""
    sort_field = p.get("sortdesc") if sort_desc else (p.get("sortasc") or None)
    page_size, page = page_params(p)
    items = _items(req, sess, qt, p.get("filter") or "", sort_field, sort_desc)
    pinfo = paging(req.base, req.raw_params, len(items), page_size, page)
    kind, objs = _objects(req, qt, fmt, items[(page - 1) * page_size: page * page_size])
    if req.want_json:
        body = render.json_bytes(render.query_result_json(kind, objs, qt.plural, pinfo), req.st.camel_json)
        ctype = JSON_CT
    else:
        body = render.query_result_xml(kind, objs, qt.plural, pinfo).encode("utf-8")
        ctype = XML_CT
    # the insert-while-paging fault fires once page 1 has been computed
    if page == 1:
        for f in req.st.faults.fire(req.method, req.req_path, kinds={"insert_during_paging"},
                                    qtype=qt.name.lower()):
            req.st.insert_task_sessions(f)
    send_raw(req, 200, ctype, body)
