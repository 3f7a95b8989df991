"""HTTP(S) server and routing of the EM emulator.

``http.server.ThreadingHTTPServer`` with HTTP/1.1 keep-alive (every response carries
Content-Length), TLS handshakes done in the connection's thread (a slow client never blocks
``accept``), one ``EmulatorState`` shared by all threads. Paths under ``/api/`` emulate EM;
``/_emulator/...`` is the unauthenticated JSON control plane for tests (faults, stats, dataset,
clock). Behaviour choices for undocumented cases are listed in tests/emulator/README.md.
"""
import json
import random
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from . import render, reps
from .auth import API_VERSIONS, ROLE_RESTORE, ROLE_USER, SessionStore
from .faults import FaultManager, billion_laughs_body, huge_body_chunks
from .filterexpr import FilterError
from .model import TaskSession
from .query import QueryError, ResultCache, page_params, paging, select
from .querydefs import DOCUMENTED_TYPES, TYPES
from .tasks import TaskManager
from .timeutil import DAY_US, US, parse_dt

WINDOW_DAYS = 30
XML_CT = "application/xml"
JSON_CT = "application/json"


class HttpError(Exception):
    def __init__(self, status, message, headers=None):
        Exception.__init__(self, message)
        self.status = status
        self.message = message
        self.headers = headers or {}


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


EM_VERSIONS = ("12", "13")
DEFAULT_EM_VERSION = "13"
PLACEHOLDER_END = "1900-01-01T00:00:00Z"


def em_version_number(version):
    return int(str(version).split(".", 1)[0])


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


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, state, ssl_ctx=None, family=socket.AF_INET):
        self.address_family = family
        self.state = state
        self.ssl_ctx = ssl_ctx
        ThreadingHTTPServer.__init__(self, addr, Handler)

    def finish_request(self, request, client_address):
        if self.ssl_ctx is not None:
            try:
                request.settimeout(15)
                request = self.ssl_ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError, ValueError):
                try:
                    request.close()
                except OSError:
                    pass
                return
            try:
                self.RequestHandlerClass(request, client_address, self)
            finally:
                self.shutdown_request(request)
            return
        self.RequestHandlerClass(request, client_address, self)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError, socket.timeout)):
            return
        ThreadingHTTPServer.handle_error(self, request, client_address)


class _Abort(Exception):
    """Raised after a reset/truncate fault: the connection is gone, stop handling."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    timeout = 120

    def log_message(self, fmt, *args):  # quiet: tests read stdout for the listening line only
        pass

    def version_string(self):
        return self.server_version

    # ------------------------------------------------------------ entry points
    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def _read_body(self):
        n = self.headers.get("Content-Length")
        if not n:
            return b""
        try:
            n = int(n)
        except ValueError:
            raise HttpError(400, "Invalid Content-Length")
        if n > 50 * 1024 * 1024:
            raise HttpError(413, "Request body too large")
        return self.rfile.read(n) if n > 0 else b""

    def _dispatch(self, method):
        st = self.server.state
        self.st = st
        self.method = method
        self.extra_headers = []
        self.pending_faults = []
        split = urlsplit(self.path)
        self.req_path = unquote(split.path) or "/"
        self.raw_params = parse_qsl(split.query, keep_blank_values=True)
        self.params = {k.lower(): v for k, v in self.raw_params}
        self.want_json = "application/json" in (self.headers.get("Accept") or "").lower()
        host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
        self.base = "%s://%s/api" % (st.scheme, host)
        try:
            body = self._read_body()
        except HttpError as e:
            self.close_connection = True
            self._send_error(e.status, e.message)
            return
        if self.req_path.startswith("/_emulator"):
            try:
                self._control(method, body)
            except HttpError as e:
                self._send_json(e.status, {"error": e.message})
            except Exception:  # pragma: no cover
                traceback.print_exc()
                self._send_json(500, {"error": "internal emulator error"})
            return
        try:
            self.pending_faults = st.faults.fire(method, self.req_path, has_token=self._token() is not None)
            self._pre_faults()
            st.tasks.advance()
            self._route(method)
        except _Done:
            pass  # a fault path wrote the whole response (and closed the connection if it had to)
        except _Abort:
            self.close_connection = True
        except HttpError as e:
            self._send_error(e.status, e.message, e.headers)
        except (QueryError,) as e:
            self._send_error(e.status, e.message)
        except FilterError as e:
            self._send_error(400, str(e))
        except (ConnectionError, TimeoutError, ssl.SSLError):
            self.close_connection = True
        except Exception:
            traceback.print_exc()
            self._send_error(500, "Object reference not set to an instance of an object.")

    # ------------------------------------------------------------ faults applied before routing
    def _fault(self, kind):
        for f in self.pending_faults:
            if f.kind == kind:
                return f
        return None

    def _pre_faults(self):
        f = self._fault("expire_session")
        if f is not None:
            tok = self._token()
            if tok:
                self.st.sessions.expire(tok)
        f = self._fault("delay")
        if f is not None:
            time.sleep(f.seconds)
        if self._fault("reset") is not None:
            self._reset_connection()
            raise _Abort()
        f = self._fault("status")
        if f is not None:
            headers = {}
            if f.spec.get("retry_after") is not None:
                headers["Retry-After"] = str(f.spec["retry_after"])
            defaults = {500: "Internal Server Error (injected fault)", 502: "Bad Gateway (injected fault)",
                        503: "Service Unavailable (injected fault)"}
            msg = f.spec.get("message") or defaults.get(f.status, "Injected fault %d" % f.status)
            raise HttpError(f.status, msg, headers)
        if self._fault("billion_laughs") is not None:
            self._send_raw(200, "application/xml", billion_laughs_body())
            raise _Done()
        f = self._fault("huge_body")
        if f is not None:
            total, chunks = huge_body_chunks(self.want_json, int(f.size_mb * 1024 * 1024), self.base)
            self._send_stream(200, JSON_CT if self.want_json else XML_CT, total, chunks)
            raise _Done()

    def _reset_connection(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    # ------------------------------------------------------------ output
    def _count(self, status, nbytes):
        self.st.stats.count("%s %s" % (self.method, self.req_path), status, nbytes)

    def _latency(self):
        if self.st.latency:
            time.sleep(self.st.latency)

    def _send_raw(self, status, ctype, body, headers=None):
        """Write a response, applying body faults (bom, malformed, truncate)."""
        self._latency()
        truncate = False
        if ctype == JSON_CT and body and self._fault("bom") is not None:
            body = b"\xef\xbb\xbf" + body
        if body and self._fault("malformed") is not None:
            cut = max(1, len(body) // 2)
            body = body[:cut] + (b'"}]{,' if ctype == JSON_CT else b"<</Broken")
        if body and self._fault("truncate") is not None:
            truncate = True
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        for k, v in self.extra_headers:
            self.send_header(k, v)
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.method != "HEAD":
            if truncate:
                self.wfile.write(body[:max(1, len(body) // 2)])
                self.wfile.flush()
                self._count(status, len(body) // 2)
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                raise _Done()
            self.wfile.write(body)
        self._count(status, len(body))

    def _send_stream(self, status, ctype, total, chunks):
        self._latency()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(total))
        self.end_headers()
        sent = 0
        try:
            for c in chunks:
                self.wfile.write(c)
                sent += len(c)
        except (ConnectionError, OSError):
            self.close_connection = True
        self._count(status, sent)

    def _send_doc(self, status, xml_text, json_doc, headers=None):
        if self.want_json:
            self._send_raw(status, JSON_CT, render.json_bytes(json_doc, self.st.camel_json), headers)
        else:
            self._send_raw(status, XML_CT, xml_text.encode("utf-8"), headers)

    def _send_obj(self, status, obj, headers=None):
        if self.want_json:
            self._send_doc(status, None, render.to_json(obj), headers)
        else:
            self._send_doc(status, render.XML_DECL + render.to_xml(obj, root=True), None, headers)

    def _send_error(self, status, message, headers=None):
        try:
            if self.want_json:
                body = render.json_bytes(render.error_json(status, message), self.st.camel_json)
                self._send_raw(status, JSON_CT, body, headers)
            else:
                self._send_raw(status, XML_CT, render.error_xml(status, message).encode("utf-8"), headers)
        except _Done:
            pass

    def _send_empty(self, status, headers=None):
        self._send_raw(status, None, b"", headers)

    def _send_json(self, status, doc):
        body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", JSON_CT)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.method != "HEAD":
            self.wfile.write(body)

    # ------------------------------------------------------------ auth helpers
    def _token(self):
        cookie = self.headers.get("Cookie")
        if cookie:
            for part in cookie.split(";"):
                if "=" in part:
                    k, v = part.split("=", 1)
                    if k.strip().lower() == "x-restsvcsessionid":
                        return v.strip().strip('"')  # the cookie wins over the header
        return (self.headers.get("X-RestSvcSessionId") or "").strip() or None

    def _session(self):
        sess = self.st.sessions.lookup(self._token())
        if sess is None:
            raise HttpError(401, "Authorization header expected but not found, or found but expired.")
        return sess

    def _deny(self, sess, *roles):
        if sess.role in roles:
            raise HttpError(403, "Access denied.")

    @staticmethod
    def _visible(sess):
        if sess.role == ROLE_USER:
            return lambda x: not x.server.restricted
        return None

    # ------------------------------------------------------------ routing
    def _route(self, method):
        segs = [s for s in self.req_path.split("/") if s]
        if not segs or segs[0].lower() != "api":
            raise HttpError(404, "Resource not found: %s" % self.req_path)
        segs = segs[1:]
        low = [s.lower() for s in segs]
        if not segs:
            self._allow(method, "GET")
            return self._send_obj(200, reps.enterprise_manager(self.base))
        if low == ["sessionmngr"]:
            self._allow(method, "POST")
            return self._logon()
        sess = self._session()
        head = low[0]
        n = len(segs)
        if head == "logonsessions" and n <= 2:
            return self._logon_sessions(method, sess, segs[1] if n == 2 else None)
        if head == "query" and n == 1:
            self._allow(method, "GET")
            return self._query(sess)
        if head == "querysvc" and n == 1:
            self._allow(method, "GET")
            return self._send_obj(200, reps.query_svc(self.base))
        if head == "jobs" and n == 3 and low[2] == "backupsessions":
            self._deny(sess, ROLE_USER, ROLE_RESTORE)
            self._allow(method, "GET")
            return self._job_sessions_of_job(sess, segs[1])
        if head == "tasks" and n <= 2:
            return self._tasks(method, sess, segs[1] if n == 2 else None)
        if head == "jobs" and n <= 2:
            self._deny(sess, ROLE_USER, ROLE_RESTORE)
            if n == 2 and method == "POST":
                return self._job_action(sess, segs[1])
            self._allow(method, "GET")
            return self._resource(sess, "Job", segs[1] if n == 2 else None)
        table = {
            "backuptasksessions": ("BackupTaskSession", None),
            "replicatasksessions": ("ReplicaTaskSession", None),
            "backupsessions": ("BackupJobSession", "tasksessions"),
            "replicasessions": ("ReplicaJobSession", "replicatasksessions"),
            "backupservers": ("BackupServer", None),
            "vmrestorepoints": ("VmRestorePoint", None),
        }
        if head in table:
            qname, child = table[head]
            self._allow(method, "GET")
            qt = TYPES[qname.lower()]
            self._deny(sess, *qt.roles_denied)
            if n <= 2:
                return self._resource(sess, qname, segs[1] if n == 2 else None)
            if n == 3 and child and low[2] == child:
                return self._children(sess, qname, segs[1])
        raise HttpError(404, "Resource not found: %s" % self.req_path)

    def _allow(self, method, *allowed):
        if method not in allowed:
            raise HttpError(405, "Method %s is not allowed for %s" % (method, self.req_path),
                            {"Allow": ", ".join(allowed)})

    # ------------------------------------------------------------ logon / logoff
    def _logon(self):
        v = self.params.get("v")
        if v is None or v == "":
            v = "latest"
        version = API_VERSIONS.get(v.lower())
        if version is None:
            raise HttpError(400, "Unsupported API version '%s'. Supported versions: v1_5, v1_6, v1_7, latest." % v)
        acc = self.st.sessions.authenticate(self.headers.get("Authorization"))
        if acc is None:
            raise HttpError(401, "Authentication failed: invalid user name or password.",
                            {"WWW-Authenticate": "Basic Realm=RestSvc"})
        sess = self.st.sessions.create(acc, version)
        headers = {
            "X-RestSvcSessionId": sess.token,
            "Set-Cookie": "X-RestSvcSessionId=%s; Path=/api" % sess.token,
            "Location": "%s/logonSessions/%s" % (self.base, sess.session_id),
        }
        self._send_obj(201, reps.logon_session(self.base, sess), headers)

    def _logon_sessions(self, method, sess, sid):
        if sid is None:
            self._allow(method, "GET")
            obj = reps.logon_session(self.base, sess)
            xml = render.wrap_xml("LogonSessions", render.to_xml(obj))
            return self._send_doc(200, xml, {"LogonSessions": [render.to_json(obj)]})
        self._allow(method, "GET", "DELETE")
        if sid.lower() != sess.session_id:
            raise HttpError(404, "Logon session '%s' was not found." % sid)
        if method == "DELETE":
            self.st.sessions.delete(sess)
            return self._send_empty(204)
        return self._send_obj(200, reps.logon_session(self.base, sess))

    # ------------------------------------------------------------ tasks
    def _tasks(self, method, sess, tid):
        if tid is None:
            self._allow(method, "GET")
            objs = [reps.task_obj(self.base, t) for t in list(sess.tasks.values())]
            xml = render.wrap_xml("Tasks", "".join(render.to_xml(o) for o in objs))
            return self._send_doc(200, xml, {"Tasks": [render.to_json(o) for o in objs]})
        self._allow(method, "GET", "DELETE")
        task = sess.tasks.get(tid.lower())
        if task is None:
            raise HttpError(404, "Task '%s' was not found." % tid)
        if method == "DELETE":
            sess.tasks.pop(task.task_id, None)
            return self._send_empty(204)
        return self._send_obj(200, reps.task_obj(self.base, task))

    def _job_action(self, sess, jid):
        job = self.st.ds.get("Job", jid)
        if job is None:
            raise HttpError(404, "Job '%s' was not found." % jid)
        action = (self.params.get("action") or "").lower()
        if action not in ("start", "stop", "retry"):
            raise HttpError(400, "Action '%s' is not supported for jobs by the emulator (start, stop, retry)."
                            % (self.params.get("action") or ""))
        task = self.st.tasks.create(sess, job, action)
        self._send_obj(202, reps.task_obj(self.base, task))

    # ------------------------------------------------------------ query service
    def _query(self, sess):
        p = self.params
        tname = (p.get("type") or "").strip()
        if not tname:
            raise HttpError(400, "Query parameter 'type' is required.")
        qt = TYPES.get(tname.lower())
        if qt is None:
            if tname.lower() in DOCUMENTED_TYPES:
                raise HttpError(501, "Query type '%s' is not implemented by the emulator." % tname)
            raise HttpError(400, "Unknown query type '%s'." % tname)
        self._deny(sess, *qt.roles_denied)
        fmt = (p.get("format") or "references").strip().lower()
        if fmt not in ("references", "entities"):
            raise HttpError(400, "Invalid format '%s': expected References or Entities." % p.get("format"))
        sort_desc = "sortdesc" in p and p.get("sortdesc") != ""
        sort_field = p.get("sortdesc") if sort_desc else (p.get("sortasc") or None)
        page_size, page = page_params(p)
        ftext = p.get("filter") or ""
        visible = self._visible(sess)
        if qt.resources:  # Task: session-local, never cached
            items = select(qt, qt.source(self.st.ds, sess), ftext, sort_field, sort_desc, None)
            if not sort_field:
                items.sort(key=lambda t: int(t.task_id.split("-")[1]))
        else:
            key = (qt.name, ftext, (sort_field or "").lower(), sort_desc, sess.role, self.st.ds.version)
            items = self.st.cache.get(key)
            if items is None:
                with self.st.ds.lock:
                    items = select(qt, qt.source(self.st.ds, sess), ftext, sort_field, sort_desc, visible)
                self.st.cache.put(key, items)
        total = len(items)
        chunk = items[(page - 1) * page_size: page * page_size]
        pinfo = paging(self.base, self.raw_params, total, page_size, page)
        if qt.resources:
            objs = [reps.task_obj(self.base, t) for t in chunk]
            kind = "resources"
        elif fmt == "entities":
            objs = [self._entity(qt, x) for x in chunk]
            kind = "entities"
        else:
            objs = [qt.ref(self.base, x) for x in chunk]
            kind = "refs"
        if self.want_json:
            body = render.json_bytes(render.query_result_json(kind, objs, qt.plural, pinfo), self.st.camel_json)
            ctype = JSON_CT
        else:
            body = render.query_result_xml(kind, objs, qt.plural, pinfo).encode("utf-8")
            ctype = XML_CT
        # the insert-while-paging fault fires once page 1 has been computed
        if page == 1:
            for f in self.st.faults.fire(self.method, self.req_path, kinds={"insert_during_paging"},
                                         qtype=qt.name.lower()):
                self.st.insert_task_sessions(f)
        self._send_raw(200, ctype, body)

    def _entity(self, qt, item):
        """The entity representation, with the version's placeholder end time on running sessions."""
        return reps.with_end_placeholder(qt.entity(self.base, item), self.st.running_end_time)

    # ------------------------------------------------------------ resource endpoints
    def _format_entity(self):
        fmt = self.params.get("format")
        if fmt is None or fmt == "":
            return False
        if fmt.strip().lower() == "entity":
            return True
        raise HttpError(400, "Invalid format '%s': expected Entity." % fmt)

    def _window(self, qt, items):
        if not qt.sorted_by_ct or qt.name == "VmRestorePoint":
            return items
        import bisect
        lo = self.st.clock.now() - WINDOW_DAYS * DAY_US
        return items[bisect.bisect_left(items, lo, key=lambda x: x.ct):]

    def _resource(self, sess, qname, oid):
        qt = TYPES[qname.lower()]
        entity = self._format_entity()
        visible = self._visible(sess)
        if oid is None:
            with self.st.ds.lock:
                items = self._window(qt, qt.source(self.st.ds, sess))
                if visible is not None:
                    items = [x for x in items if visible(x)]
                else:
                    items = list(items)
            return self._send_list(qt, items, entity)
        obj = self._find(qt, oid, sess)
        if obj is None or (visible is not None and not visible(obj)):
            raise HttpError(404, "%s '%s' was not found." % (qt.name, oid))
        if entity:
            return self._send_obj(200, self._entity(qt, obj))
        return self._send_obj(200, qt.ref(self.base, obj, "EntityRef"))

    def _find(self, qt, oid, sess):
        if qt.name == "VmRestorePoint":
            for rp in qt.source(self.st.ds, sess):
                if rp.guid == oid.lower():
                    return rp
            return None
        return self.st.ds.get(qt.name, oid)

    def _children(self, sess, qname, oid):
        qt = TYPES[qname.lower()]
        visible = self._visible(sess)
        js = self.st.ds.get(qt.name, oid)
        if js is None or (visible is not None and not visible(js)):
            raise HttpError(404, "%s '%s' was not found." % (qt.name, oid))
        entity = self._format_entity()
        child_qt = TYPES["replicatasksession" if qname == "ReplicaJobSession" else "backuptasksession"]
        lo = self.st.clock.now() - WINDOW_DAYS * DAY_US
        items = [t for t in list(js.tasks) if t.ct >= lo]
        return self._send_list(child_qt, items, entity)

    def _job_sessions_of_job(self, sess, jid):
        job = self.st.ds.get("Job", jid)
        if job is None:
            raise HttpError(404, "Job '%s' was not found." % jid)
        entity = self._format_entity()
        qt = TYPES["replicajobsession" if job.job_type == "Replica" else "backupjobsession"]
        with self.st.ds.lock:
            items = [s for s in self._window(qt, qt.source(self.st.ds, sess)) if s.job is job]
        return self._send_list(qt, items, entity)

    def _send_list(self, qt, items, entity):
        """Resource collection: ``<Plural>`` of entities or ``EntityReferences`` of ``Ref``."""
        if entity:
            objs = [self._entity(qt, x) for x in items]
            tag, key = qt.plural, qt.plural
        else:
            objs = [qt.ref(self.base, x) for x in items]
            tag, key = "EntityReferences", "Refs"
        if self.want_json:
            return self._send_doc(200, None, {key: [render.to_json(o) for o in objs]})
        return self._send_doc(200, render.wrap_xml(tag, "".join(render.to_xml(o) for o in objs)), None)

    # ------------------------------------------------------------ control plane
    def _control(self, method, body):
        st = self.st
        path = self.req_path.rstrip("/").lower()

        def load():
            try:
                return json.loads(body.decode("utf-8-sig") or "null")
            except ValueError as e:
                raise HttpError(400, "invalid JSON body: %s" % e)

        if path == "/_emulator/stats" and method == "GET":
            return self._send_json(200, st.stats_doc())
        if path == "/_emulator/stats/reset" and method == "POST":
            st.reset_stats()
            return self._send_json(200, st.stats_doc())
        if path == "/_emulator/dataset" and method == "GET":
            with st.ds.lock:
                doc = st.ds.to_json()
            return self._send_json(200, doc)
        if path == "/_emulator/faults":
            if method == "GET":
                return self._send_json(200, {"faults": st.faults.describe(), "injected": st.faults.injected})
            if method == "POST":
                try:
                    st.faults.add(load())
                except (ValueError, TypeError) as e:
                    raise HttpError(400, str(e))
                return self._send_json(200, {"faults": st.faults.describe()})
            if method == "DELETE":
                st.faults.clear()
                return self._send_json(200, {"faults": []})
        if path == "/_emulator/clock":
            if method == "GET":
                return self._send_json(200, {"now": _fmt(st.clock.now()), "fixed": st.clock.fixed_us is not None})
            if method == "POST":
                doc = load() or {}
                now = doc.get("now") if isinstance(doc, dict) else None
                if now in (None, "", "real"):
                    st.clock.fixed_us = None
                else:
                    try:
                        st.clock.fixed_us = parse_dt(now)
                    except ValueError as e:
                        raise HttpError(400, str(e))
                st.ds.touch()
                return self._send_json(200, {"now": _fmt(st.clock.now()), "fixed": st.clock.fixed_us is not None})
        if path == "/_emulator/health":
            return self._send_json(200, {"ok": True})
        raise HttpError(404, "unknown control endpoint %s %s" % (method, self.req_path))


class _Done(_Abort):
    """Response fully written by a fault path; nothing more to send."""


def _fmt(us):
    from .timeutil import fmt_dt
    return fmt_dt(us)


def start_ticker(state, interval=0.1):
    """Advance tasks in the background so their effects appear even if nobody polls."""
    def run():
        while not state.stop_event.wait(interval):
            try:
                state.tasks.advance()
            except Exception:  # pragma: no cover
                traceback.print_exc()
    t = threading.Thread(target=run, name="task-ticker", daemon=True)
    t.start()
    return t
