"""``/_emulator/...``: the unauthenticated JSON control plane for tests.

Faults, statistics, the dataset, the clock and the as-of view (README: control plane). Answers go through
``writers.send_json``: no faults, no latency, not counted in the statistics.
"""
import json

from .errors import HttpError
from .timeutil import fmt_dt, parse_dt
from .writers import send_json


def _load(body):
    try:
        return json.loads(body.decode("utf-8-sig") or "null")
    except ValueError as e:
        raise HttpError(400, "invalid JSON body: %s" % e)


def _stats(st, _body):
    return st.stats_doc()


def _reset_stats(st, _body):
    st.reset_stats()
    return st.stats_doc()


def _dataset(st, _body):
    with st.ds.lock:
        return st.ds.to_json()


def _faults(st, _body):
    return {"faults": st.faults.describe(), "injected": st.faults.injected}


def _add_fault(st, body):
    try:
        st.faults.add(_load(body))
    except (ValueError, TypeError) as e:
        raise HttpError(400, str(e))
    return {"faults": st.faults.describe()}


def _clear_faults(st, _body):
    st.faults.clear()
    return {"faults": []}


def _clock(st, _body):
    return {"now": fmt_dt(st.clock.now()), "fixed": st.clock.fixed_us is not None}


def _set_clock(st, body):
    """``{"now": "<ISO-8601>"}`` fixes the clock; ``null``, ``""`` or ``"real"`` frees it."""
    doc = _load(body) or {}
    now = doc.get("now") if isinstance(doc, dict) else None
    if now in (None, "", "real"):
        st.clock.fixed_us = None
    else:
        try:
            st.clock.fixed_us = parse_dt(now)
        except ValueError as e:
            raise HttpError(400, str(e))
    st.ds.touch()
    return _clock(st, body)


def _view(st, _body):
    return st.view_doc()


def _set_view(st, body):
    """``{"as_of": true, "late_collection": [{"server", "from", "until"}, ...]}`` (asof.py); ``as_of`` false: off."""
    doc = _load(body)
    if not isinstance(doc, dict) or not isinstance(doc.get("as_of"), bool) \
            or not set(doc) <= {"as_of", "late_collection"}:
        raise HttpError(400, "expected {\"as_of\": true|false, \"late_collection\": [...]}")
    try:
        st.set_view(doc["as_of"], doc.get("late_collection") or [])
    except ValueError as e:
        raise HttpError(400, str(e))
    return st.view_doc()


def _health(_st, _body):
    return {"ok": True}


# (path, method) -> handler(state, body) -> JSON document; "*": any method
CONTROL = {
    ("/_emulator/stats", "GET"): _stats,
    ("/_emulator/stats/reset", "POST"): _reset_stats,
    ("/_emulator/dataset", "GET"): _dataset,
    ("/_emulator/faults", "GET"): _faults,
    ("/_emulator/faults", "POST"): _add_fault,
    ("/_emulator/faults", "DELETE"): _clear_faults,
    ("/_emulator/clock", "GET"): _clock,
    ("/_emulator/clock", "POST"): _set_clock,
    ("/_emulator/view", "GET"): _view,
    ("/_emulator/view", "POST"): _set_view,
    ("/_emulator/health", "*"): _health,
}


def control(req, body):
    """Answer one control-plane request (errors as ``{"error": ...}`` JSON, never EM's format)."""
    path = req.req_path.rstrip("/").lower()
    fn = CONTROL.get((path, req.method)) or CONTROL.get((path, "*"))
    try:
        if fn is None:
            raise HttpError(404, "unknown control endpoint %s %s" % (req.method, req.req_path))
        send_json(req, 200, fn(req.st, body))
    except HttpError as e:
        send_json(req, e.status, {"error": e.message})
