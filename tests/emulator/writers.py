"""Response writers: functions over the request handler (``req``).

Every ``/api/`` response goes through ``send_raw``, where the body faults (bom, malformed,
truncate), the latency and the request statistics apply; the control plane writes with
``send_json``, which none of those touch.
"""
import json
import socket
import struct
import time

from . import render
from .errors import Done

XML_CT = "application/xml"
JSON_CT = "application/json"


def _count(req, status, nbytes):
    req.st.stats.count("%s %s" % (req.method, req.req_path), status, nbytes)


def _latency(req):
    if req.st.latency:
        time.sleep(req.st.latency)


def _body_faults(req, ctype, body):
    """The body after the bom and malformed faults, and whether the truncate fault applies."""
    if ctype == JSON_CT and body and req.fault("bom") is not None:
        body = b"\xef\xbb\xbf" + body
    if body and req.fault("malformed") is not None:
        cut = max(1, len(body) // 2)
        body = body[:cut] + (b'"}]{,' if ctype == JSON_CT else b"<</Broken")
    return body, bool(body) and req.fault("truncate") is not None


def _write_truncated(req, status, body):
    """Half the announced body, then the connection is shut: the truncate fault."""
    req.wfile.write(body[:max(1, len(body) // 2)])
    req.wfile.flush()
    _count(req, status, len(body) // 2)
    req.close_connection = True
    try:
        req.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    raise Done()


def reset_connection(req):
    """Close with a TCP RST (SO_LINGER 0): the reset fault."""
    try:
        req.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        req.connection.close()
    except OSError:
        pass
    req.close_connection = True


def send_raw(req, status, ctype, body, headers=None):
    """Write a response, applying body faults (bom, malformed, truncate)."""
    _latency(req)
    body, truncate = _body_faults(req, ctype, body)
    req.send_response(status)
    if ctype:
        req.send_header("Content-Type", ctype)
    req.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        req.send_header(k, v)
    if truncate:
        req.send_header("Connection", "close")
    req.end_headers()
    if req.method != "HEAD":
        if truncate:
            _write_truncated(req, status, body)
        req.wfile.write(body)
    _count(req, status, len(body))


def send_stream(req, status, ctype, total, chunks):
    _latency(req)
    req.send_response(status)
    req.send_header("Content-Type", ctype)
    req.send_header("Content-Length", str(total))
    req.end_headers()
    sent = 0
    try:
        for c in chunks:
            req.wfile.write(c)
            sent += len(c)
    except (ConnectionError, OSError):
        req.close_connection = True
    _count(req, status, sent)


def send_doc(req, status, xml_text, json_doc, headers=None):
    """XML text or a JSON document, whichever the request accepts (JSON keys as the EM version writes them)."""
    if req.want_json:
        send_raw(req, status, JSON_CT, render.json_bytes(json_doc, req.st.camel_json), headers)
    else:
        send_raw(req, status, XML_CT, xml_text.encode("utf-8"), headers)


def send_obj(req, status, obj, headers=None):
    if req.want_json:
        send_doc(req, status, None, render.to_json(obj), headers)
    else:
        send_doc(req, status, render.XML_DECL + render.to_xml(obj, root=True), None, headers)


def send_list(req, objs, tag, key=None):
    """A 200 collection: ``<tag>`` of the objects in XML, ``{key or tag: [...]}`` in JSON."""
    if req.want_json:
        return send_doc(req, 200, None, {key or tag: [render.to_json(o) for o in objs]})
    return send_doc(req, 200, render.wrap_xml(tag, "".join(render.to_xml(o) for o in objs)), None)


def send_error(req, status, message, headers=None):
    try:
        if req.want_json:
            body = render.json_bytes(render.error_json(status, message), req.st.camel_json)
            send_raw(req, status, JSON_CT, body, headers)
        else:
            send_raw(req, status, XML_CT, render.error_xml(status, message).encode("utf-8"), headers)
    except Done:
        pass


def send_empty(req, status, headers=None):
    send_raw(req, status, None, b"", headers)


def send_json(req, status, doc):
    """Control-plane JSON: no faults, no latency, not counted."""
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    req.send_response(status)
    req.send_header("Content-Type", JSON_CT)
    req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    if req.method != "HEAD":
        req.wfile.write(body)
