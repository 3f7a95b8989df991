"""A fake EM at the requests transport layer, and synthetic EM bodies in both media types.

``FakeEM`` is a ``requests`` adapter mounted on the client's own Session: the client code runs
unchanged down to ``Session.send``; every request is recorded (method, path, parsed query,
headers, verify, timeout) so tests can assert on what went over the wire.

Bodies follow docs/em-api-facts.md 3: XML with the default namespace, attributes for Href/Type/
Name/UID/VmDisplayName, ``<Reason />`` for empty strings, omitted nulls; JSON with nulls present,
``Links`` arrays, doubled ``Entities`` keys and (optionally, in both media) a UTF-8 BOM.
"""
import base64
import io
import json
import re
import uuid
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape, quoteattr

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

NS = "http://www.veeam.com/ent/v1.0"
ATTRIBUTES = ("Href", "Type", "Name", "UID", "VmDisplayName", "Success", "PageNum", "PageSize", "PagesCount")
SESSION_ID = "15a3fc97-0325-4119-b789-5c0367c6c565"
TOKEN = base64.b64encode(SESSION_ID.encode()).decode()
REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}


# ---- rendering: EM-JSON-shaped dicts -> XML / JSON bodies ------------------------------------

def element_xml(tag, node, root=False):
    """EM JSON-shaped dict -> XML element (attributes by name, Links wrapped, nulls omitted)."""
    attrs = []
    children = []
    for key, value in node.items():
        if value is None:
            continue
        if key in ATTRIBUTES and not isinstance(value, (dict, list)):
            attrs.append("%s=%s" % (key, quoteattr(_scalar(value))))
        elif key == "Links":
            links = "".join("<Link %s />" % " ".join("%s=%s" % (k, quoteattr(str(v)))
                                                     for k, v in link.items() if v is not None)
                            for link in value)
            children.append("<Links>%s</Links>" % links)
        elif isinstance(value, dict):
            children.append(element_xml(key, value))
        elif isinstance(value, list):
            children.append("".join(element_xml(key, item) for item in value))
        elif value == "":
            children.append("<%s />" % key)
        else:
            children.append("<%s>%s</%s>" % (key, escape(_scalar(value)), key))
    ns = ' xmlns="%s"' % NS if root else ""
    head = "<%s%s%s" % (tag, ns, "".join(" " + a for a in attrs))
    if not children:
        return head + " />"
    return "%s>%s</%s>" % (head, "".join(children), tag)


def _scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def xml_doc(tag, node):
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + element_xml(tag, node, root=True)).encode("utf-8")


def paging_info(page, pages_count, page_size, href="https://em:9398/api/query?type=X"):
    links = [{"Rel": "First", "Href": href + "&pageSize=%d&page=1" % page_size, "Name": None, "Type": None}]
    if page < pages_count:
        links.append({"Rel": "Next", "Href": href + "&pageSize=%d&page=%d" % (page_size, page + 1),
                      "Name": None, "Type": None})
    links.append({"Rel": "Last", "Href": href + "&pageSize=%d&page=%d" % (page_size, pages_count),
                  "Name": None, "Type": None})
    return {"Links": links, "PageNum": page, "PageSize": page_size, "PagesCount": pages_count}


ENTITY_KEYS = ("Jobs", "BackupJobSessions", "ReplicaJobSessions", "ReplicaTaskSessions", "BackupTaskSessions",
               "BackupServers", "EnterpiseRoles", "SystemSessions")


def query_result_json(list_tag, items, paging, container="Entities", bom=False):
    """Real-output JSON: every Entities key null but ours, which is doubled."""
    if container == "Entities":
        entities = {key: None for key in ENTITY_KEYS}
        entities[list_tag] = {list_tag: items}
        doc = {"Refs": None, "Entities": entities, "Resources": None, "Links": None, "PagingInfo": paging}
    else:
        doc = {"Refs": None, "Entities": None, "Resources": {list_tag: {list_tag: items}}, "Links": None,
               "PagingInfo": paging}
    body = json.dumps(doc).encode("utf-8")
    return (b"\xef\xbb\xbf" + body) if bom else body


def query_result_xml(list_tag, item_tag, items, paging, container="Entities", bom=False):
    """XML QueryResult; ``bom`` prefixes a UTF-8 BOM. EM is only seen to send one before JSON
    (docs/em-api-facts.md), but a proxy or a later EM may: the client must detect XML after it."""
    inner = "".join(element_xml(item_tag, item) for item in items)
    box = "<%s><%s>%s</%s></%s>" % (container, list_tag, inner, list_tag, container) if items else \
        "<%s><%s /></%s>" % (container, list_tag, container)
    paging_xml = element_xml("PagingInfo", paging) if paging else ""
    body = ('<?xml version="1.0" encoding="utf-8"?>\n<QueryResult xmlns="%s">%s%s</QueryResult>'
            % (NS, box, paging_xml)).encode("utf-8")
    return (b"\xef\xbb\xbf" + body) if bom else body


def synthetic_task_session(index, kind="Backup", reason=None):
    """One task session in EM JSON shape (deterministic GUIDs from the index)."""
    guid = str(uuid.UUID(int=index + 1))
    job_guid = str(uuid.UUID(int=10 ** 6 + index // 10))
    vm = "vm%05d" % index
    created = "2025-06-%02dT%02d:%02d:%02d.%03dZ" % (1 + index % 28, index % 24, index % 60, index % 59, index % 1000)
    links = [
        {"Rel": "Up", "Href": "https://em:9398/api/backupServers/7445e6ce-86f5-4171-b909-dac209c66563",
         "Name": "enterprise06.tech.local", "Type": "BackupServerReference"},
        {"Rel": "Up", "Href": "https://em:9398/api/%sSessions/%s" % (kind.lower(), job_guid),
         "Name": "%s Job %d@2025-06-01 01:00:00" % (kind, index // 10), "Type": "%sJobSessionReference" % kind},
        {"Rel": "Alternate", "Href": "https://em:9398/api/%sTaskSessions/%s" % (kind.lower(), guid),
         "Name": "%s@2025-06-01 01:00:00" % vm, "Type": "%sTaskSessionReference" % kind},
    ]
    item = {
        "JobSessionUid": "urn:veeam:%sJobSession:%s" % (kind, job_guid),
        "CreationTimeUTC": created,
        "EndTimeUTC": created,
        "State": "Completed",
        "Result": ("Success", "Warning", "Failed")[index % 3],
        "Reason": reason if reason is not None else ("" if index % 3 == 0 else "Error: disk <C:> & \"quota\" full"),
        "TotalSize": index * 1024,
    }
    if kind == "Backup":
        item["VmUid"] = "urn:VMware:Vm:de28dc43-b8ee-4e17-8e63-3d38b6604033.vm-%d" % index
    item.update({"VmDisplayName": vm, "Name": "%s@2025-06-01 01:00:00" % vm,
                 "UID": "urn:veeam:%sTaskSession:%s" % (kind, guid), "Links": links,
                 "Href": "https://em:9398/api/%sTaskSessions/%s?format=Entity" % (kind.lower(), guid),
                 "Type": "%sTaskSession" % kind})
    return item


def logon_body(media):
    node = {"Links": [{"Rel": "Delete", "Href": "https://em:9398/api/logonSessions/%s" % SESSION_ID}],
            "UserName": "EM\\emadmin", "SessionId": SESSION_ID,
            "Href": "https://em:9398/api/logonSessions/%s" % SESSION_ID, "Type": "LogonSession"}
    if media == "json":
        return json.dumps(node).encode()
    return xml_doc("LogonSession", node)


def error_body(media, status, message):
    node = {"FirstChanceExceptionMessage": None, "Message": message, "StackTrace": "at Secret.Stack.Trace()",
            "Status": None, "StatusCode": status}
    if media == "json":
        return json.dumps(node).encode()
    return ('<?xml version="1.0" encoding="utf-8"?>\n<Error xmlns="%s" Message=%s StatusCode="%d">'
            '<StackTrace>at Secret.Stack.Trace()</StackTrace></Error>' % (NS, quoteattr(message), status)).encode()


# ---- transport ---------------------------------------------------------------------------------

class Reply:
    def __init__(self, status=200, body=b"", headers=None, exc=None):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.exc = exc


class Call:
    def __init__(self, request, verify, timeout):
        parts = urlsplit(request.url)
        self.method = request.method
        self.url = request.url
        self.path = parts.path
        self.raw_query = parts.query
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.headers = dict(request.headers)
        self.body = request.body
        self.verify = verify
        self.timeout = timeout

    def __repr__(self):
        return "<Call %s %s>" % (self.method, self.url)


class FakeEM(BaseAdapter):
    """Routes requests to ``handler(call) -> Reply`` after the built-in logon/logoff routes."""

    def __init__(self, media="json", handler=None, logon=None, logoff=None):
        super(FakeEM, self).__init__()
        self.media = media
        self.handler = handler
        self.logon_handler = logon
        self.logoff_handler = logoff
        self.calls = []
        self.logons = 0
        self.logoffs = 0

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        call = Call(request, verify, timeout)
        self.calls.append(call)
        reply = self.route(call)
        if reply.exc is not None:
            raise reply.exc
        return self.build(request, reply)

    def route(self, call):
        if call.method == "POST" and call.path == "/api/sessionMngr/":
            self.logons += 1
            if self.logon_handler:
                return self.logon_handler(call)
            return Reply(201, logon_body(self.media),
                         {"X-RestSvcSessionId": TOKEN, "Set-Cookie": "X-RestSvcSessionId=%s; Path=/api" % TOKEN})
        if call.method == "DELETE" and call.path.startswith("/api/logonSessions/"):
            self.logoffs += 1
            if self.logoff_handler:
                return self.logoff_handler(call)
            return Reply(204)
        reply = self.handler(call) if self.handler else None
        return reply if reply is not None else Reply(404, error_body(self.media, 404, "Not found"))

    def build(self, request, reply):
        response = requests.Response()
        response.status_code = reply.status
        response.reason = REASONS.get(reply.status, "")
        content_type = "application/json" if self.media == "json" else "application/xml"
        headers = {"Content-Type": content_type}
        headers.update(reply.headers)
        response.headers = CaseInsensitiveDict(headers)
        response.raw = io.BytesIO(reply.body)
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self):
        pass

    def api_calls(self, path="/api/query"):
        return [call for call in self.calls if call.path == path]


def paged_handler(items, media, list_tag="BackupTaskSessions", item_tag="BackupTaskSession", bom=False,
                  container="Entities"):
    """Serve ``items`` page by page for GET /api/query as EM does (PagingInfo + Next links)."""
    def handler(call):
        if call.path != "/api/query":
            return None
        size = int(call.query.get("pageSize", 100))
        page = int(call.query.get("page", 1))
        pages_count = max(1, -(-len(items) // size))
        chunk = items[(page - 1) * size: page * size]
        paging = paging_info(page, pages_count, size)
        if media == "json":
            return Reply(200, query_result_json(list_tag, chunk, paging, container, bom=bom))
        return Reply(200, query_result_xml(list_tag, item_tag, chunk, paging, container, bom=bom))
    return handler


def mount(client, fake):
    """Mount ``fake`` on the client's Session for both schemes."""
    client.http.mount("https://", fake)
    client.http.mount("http://", fake)
    return fake


FILTER_VALUE_RE = re.compile(r'"((?:[^"]|"")*)"')
