"""HTTP(S) server of the EM emulator: connections, request parsing, faults, dispatch.

``http.server.ThreadingHTTPServer`` with HTTP/1.1 keep-alive (every response carries
Content-Length), TLS handshakes done in the connection's thread (a slow client never blocks
``accept``), one ``EmulatorState`` (state.py) shared by all threads. Paths under ``/api/`` emulate
EM: routes.py maps them to handlers/ , writers.py writes the answers; ``/_emulator/...`` is the
unauthenticated JSON control plane for tests (control.py). Behaviour choices for undocumented
cases are listed in tests/emulator/README.md.
"""
import socket
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from . import routes
from .auth import request_token
from .control import control
from .errors import Abort, Done, HttpError
from .faults import billion_laughs_body, huge_body_chunks
from .filterexpr import FilterError
from .query import QueryError
from .writers import JSON_CT, XML_CT, reset_connection, send_error, send_json, send_raw, send_stream

_INJECTED_STATUS = {500: "Internal Server Error (injected fault)", 502: "Bad Gateway (injected fault)",
                    503: "Service Unavailable (injected fault)"}


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


class Handler(BaseHTTPRequestHandler):
    """One connection's requests: parse, apply the request's faults, route, write."""

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

    def _parse(self, method):
        """The request attributes handlers and writers read (``req.st``, ``req.params``, ...)."""
        self.st = self.server.state
        self.method = method
        self.pending_faults = []
        split = urlsplit(self.path)
        self.req_path = unquote(split.path) or "/"
        self.raw_params = parse_qsl(split.query, keep_blank_values=True)
        self.params = {k.lower(): v for k, v in self.raw_params}
        self.want_json = "application/json" in (self.headers.get("Accept") or "").lower()
        self.token = request_token(self.headers)
        host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
        self.base = "%s://%s/api" % (self.st.scheme, host)

    def _dispatch(self, method):
        self._parse(method)
        try:
            body = self._read_body()
        except HttpError as e:
            self.close_connection = True
            send_error(self, e.status, e.message)
            return
        if self.req_path.startswith("/_emulator"):
            try:
                control(self, body)
            except Exception:  # pragma: no cover
                traceback.print_exc()
                send_json(self, 500, {"error": "internal emulator error"})
            return
        self._api()

    def _api(self):
        try:
            self.pending_faults = self.st.faults.fire(self.method, self.req_path, has_token=self.token is not None)
            self._pre_faults()
            self.st.tasks.advance()
            self._route()
        except Done:
            pass  # a fault path wrote the whole response (and closed the connection if it had to)
        except Abort:
            self.close_connection = True
        except HttpError as e:
            send_error(self, e.status, e.message, e.headers)
        except QueryError as e:
            send_error(self, e.status, e.message)
        except FilterError as e:
            send_error(self, 400, str(e))
        except (ConnectionError, TimeoutError, ssl.SSLError):
            self.close_connection = True
        except Exception:
            traceback.print_exc()
            send_error(self, 500, "Object reference not set to an instance of an object.")

    def _route(self):
        segs = [s for s in self.req_path.split("/") if s]
        if not segs or segs[0].lower() != "api":
            raise HttpError(404, "Resource not found: %s" % self.req_path)
        route, ids = routes.resolve(segs[1:])
        sess = None if route is not None and route.public else self._session()
        if route is None:
            raise HttpError(404, "Resource not found: %s" % self.req_path)
        route.handler(self.method, sess, self.req_path)(self, sess, ids)

    # ------------------------------------------------------------ logon session of the request
    def _session(self):
        sess = self.st.sessions.lookup(self.token)
        if sess is None:
            raise HttpError(401, "Authorization header expected but not found, or found but expired.")
        return sess

    # ------------------------------------------------------------ faults (faults.py) of this request
    def fault(self, kind):
        """The pending fault of ``kind`` for this request, or ``None`` (writers ask for body faults)."""
        for f in self.pending_faults:
            if f.kind == kind:
                return f
        return None

    def _pre_faults(self):
        """The faults that act before routing: expire, delay, reset, status, and whole-body replacements."""
        if self.fault("expire_session") is not None and self.token:
            self.st.sessions.expire(self.token)
        f = self.fault("delay")
        if f is not None:
            time.sleep(f.seconds)
        if self.fault("reset") is not None:
            reset_connection(self)
            raise Abort()
        f = self.fault("status")
        if f is not None:
            headers = {}
            if f.spec.get("retry_after") is not None:
                headers["Retry-After"] = str(f.spec["retry_after"])
            msg = f.spec.get("message") or _INJECTED_STATUS.get(f.status, "Injected fault %d" % f.status)
            raise HttpError(f.status, msg, headers)
        if self.fault("billion_laughs") is not None:
            send_raw(self, 200, "application/xml", billion_laughs_body())
            raise Done()
        f = self.fault("huge_body")
        if f is not None:
            total, chunks = huge_body_chunks(self.want_json, int(f.size_mb * 1024 * 1024), self.base)
            send_stream(self, 200, JSON_CT if self.want_json else XML_CT, total, chunks)
            raise Done()


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
