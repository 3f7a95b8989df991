"""A scriptable, hostile stand-in for Enterprise Manager on loopback (issue 15).

The emulator (tests/emulator) follows the evidence about what EM does; this server does what an
attacker, a broken proxy or a sick EM could do instead, one behaviour per test: echo the credentials
it received, answer a logoff with the token in a 500, trickle a body one byte at a time, nest XML
thousands deep, send ``PagesCount`` 10^9, a gzip bomb, or stall forever. It speaks just enough EM
(logon, logoff, ``GET /api/logonSessions``, ``GET /api/query`` in JSON) for the client to reach the
behaviour under test, and it counts logon sessions opened and closed so that every test can assert
that the session was closed.

Usage::

    with StandIn(query=my_answer) as em:       # my_answer(em, request) -> Reply
        ... em.base_url, em.ca_file, em.open_sessions, em.deletes ...
"""
import base64
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from emulator.tls import make_server_context
from unit.plugins.module_utils.em_fake import paging_info, query_result_json, synthetic_task_session

from reliability.support import PASSWORD, USERNAME


class Reply:
    """One answer: status, headers, and a body as bytes or as a list of pieces sent ``pause`` apart."""

    def __init__(self, status=200, body=b"", headers=None, pieces=None, pause=0.0, length=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.pieces = pieces
        self.pause = pause
        self.length = length


class Request:
    def __init__(self, method, path, query, headers):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers


def json_reply(document, status=200, headers=None, **kwargs):
    all_headers = dict({"Content-Type": "application/json"}, **(headers or {}))
    return Reply(status, json.dumps(document).encode("utf-8"), all_headers, **kwargs)


def error_reply(status, message):
    """EM's JSON error shape (em-api-facts.md 3.3): Message + StatusCode."""
    return json_reply({"Message": message, "StatusCode": status, "StackTrace": None}, status=status)


def page_reply(items, page, pages_count, page_size, list_tag="BackupTaskSessions"):
    body = query_result_json(list_tag, items, paging_info(page, pages_count, page_size))
    return Reply(200, body, {"Content-Type": "application/json"})


def default_query(standin, request):
    """Five backup task sessions on one page."""
    page_size = int(request.query.get("pageSize", 100))
    return page_reply([synthetic_task_session(i) for i in range(5)], 1, 1, page_size)


class StandIn:
    """``logon``/``logoff``/``query`` are callables (standin, request) -> Reply overriding the defaults."""

    def __init__(self, tls=True, username=USERNAME, password=PASSWORD, logon=None, logoff=None, query=None,
                 user_name=None):
        self.tls = tls
        self.username = username
        self.password = password
        self.user_name = user_name or "EM\\%s" % username
        self.hooks = {"logon": logon, "logoff": logoff, "query": query or default_query}
        self.sessions = {}  # SessionId -> token, open ones
        self.all_sessions = {}  # SessionId -> token, every one ever issued
        self.created = 0
        self.deletes = []  # SessionIds a DELETE arrived for
        self.requests = []  # (method, path, headers) of every request
        self.authorizations = []  # Authorization header values seen (for the echo tests)
        self.lock = threading.Lock()
        self.server = None
        self.ca_file = None

    # ---- lifecycle ---------------------------------------------------------------------------

    def __enter__(self):
        standin = self

        class Handler(_Handler):
            owner = standin

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if self.tls:
            context, self.ca_file = make_server_context()
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        return False

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def base_url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    @property
    def open_sessions(self):
        with self.lock:
            return len(self.sessions)

    def wait_closed(self, seconds=10.0):
        """Open sessions, polled until none remain or ``seconds`` pass (a handler may still run)."""
        deadline = time.monotonic() + seconds
        while self.open_sessions and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.open_sessions

    # ---- EM behaviour ----------------------------------------------------------------------

    def new_session(self):
        session_id = str(uuid.uuid4())
        token = base64.b64encode(session_id.encode("ascii")).decode("ascii")  # em-api-facts.md 1.2
        with self.lock:
            self.sessions[session_id] = token
            self.all_sessions[session_id] = token
            self.created += 1
        return session_id, token

    def token_ok(self, request):
        token = request.headers.get("X-RestSvcSessionId")
        with self.lock:
            return token in self.sessions.values()

    def logon_default(self, request):
        expected = "Basic " + base64.b64encode(("%s:%s" % (self.username, self.password)).encode("utf-8")).decode()
        if request.headers.get("Authorization") != expected:
            return error_reply(401, "Authentication failed")
        session_id, token = self.new_session()
        body = {"UserName": self.user_name, "SessionId": session_id, "Type": "LogonSession",
                "Links": [{"Rel": "Delete", "Href": "https://em:9398/api/logonSessions/%s" % session_id}]}
        return json_reply(body, status=201, headers={"X-RestSvcSessionId": token})

    def logoff_default(self, request, session_id):
        with self.lock:
            known = self.sessions.pop(session_id, None)
        return Reply(204) if known else error_reply(404, "no such session")

    def dispatch(self, request):
        with self.lock:
            self.requests.append((request.method, request.path, dict(request.headers)))
            if request.headers.get("Authorization"):
                self.authorizations.append(request.headers.get("Authorization"))
        if request.method == "POST" and request.path.rstrip("/") == "/api/sessionMngr":
            hook = self.hooks["logon"]
            return hook(self, request) if hook else self.logon_default(request)
        if request.method == "DELETE" and request.path.startswith("/api/logonSessions/"):
            session_id = request.path.rsplit("/", 1)[-1]
            with self.lock:
                self.deletes.append(session_id)
            hook = self.hooks["logoff"]
            if hook:
                reply = hook(self, request, session_id)
                if reply is not None:
                    return reply
            return self.logoff_default(request, session_id)
        if not self.token_ok(request):
            return error_reply(401, "session expired")
        if request.method == "GET" and request.path == "/api/logonSessions":
            with self.lock:
                listed = [{"SessionId": sid, "UserName": self.user_name} for sid in self.sessions]
            return json_reply({"LogonSessions": {"LogonSession": listed}})
        if request.method == "GET" and request.path == "/api/query":
            return self.hooks["query"](self, request)
        return error_reply(404, "not found")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner = None

    def log_message(self, *args):  # quiet
        pass

    def _handle(self):
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        reply = self.owner.dispatch(Request(self.command, parts.path, query, self.headers))
        try:
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def _send(self, reply):
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if reply.pieces is None:
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            return
        total = reply.length if reply.length is not None else sum(len(piece) for piece in reply.pieces)
        self.send_header("Content-Length", str(total))
        self.end_headers()
        self.wfile.flush()
        for piece in reply.pieces:
            time.sleep(reply.pause)
            self.wfile.write(piece)
            self.wfile.flush()
        self.close_connection = True

    do_GET = do_POST = do_DELETE = _handle
