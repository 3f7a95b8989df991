# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one door to Enterprise Manager: logon/logoff, requests, retries, paging.

Used as a context manager so the logon session is deleted on every path, failures included
(EM sessions otherwise linger for 15 minutes idle; em-api-facts.md 1.3/6):

    with EMClient(options) as client:
        items, info = client.query(BACKUP_TASK_SESSION, filter_expr, "CreationTime", "desc", ...)

With ``options.session_id`` (a token from ``veeam_em_session``) the client reuses that session
and never logs it off.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import contextlib
import email.utils
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

try:
    import requests
    import urllib3
    from requests.adapters import HTTPAdapter
    from requests.auth import AuthBase
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module base
    requests = None
    urllib3 = None
    HTTPAdapter = object
    AuthBase = object
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

try:
    from http.cookiejar import CookiePolicy
except ImportError:  # pragma: no cover
    CookiePolicy = object

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_bounds, em_parse, em_secrets
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMAuthError, EMDeadlineError, EMError, EMNotFoundError, EMResponseError, EMTerminated, EMTransportError,
    EMValidationError, error_class_for_status)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_filter import encode_query

MEDIA_TYPES = {"json": "application/json", "xml": "application/xml"}
TOKEN_HEADER = "X-RestSvcSessionId"
RETRY_STATUSES = (502, 503, 504)
MAX_BACKOFF = 30.0          # seconds, cap of one exponential back-off step
MAX_RETRY_AFTER = 120.0     # seconds, cap of a server-requested Retry-After
MAX_BODY_BYTES = 64 * 1024 * 1024  # refuse larger bodies: a page of 1000 sessions is ~3 MB
MAX_PAGES = 100000          # hard ceiling of one walk (PagesCount or Next links): 10^8 items at 1000 a page
MAX_EMPTY_TAIL = 3          # pages at the end that may come back empty (sessions deleted while paging)
MAX_STALE_PAGES = 3         # Next-link pages in a row without one new item: a loop, not data
DEFAULT_DEADLINE = 1800.0   # seconds for a whole module call (doc fragment connection: deadline)
LOGOFF_BUDGET = 15.0        # seconds the logoff gets of its own, even after the deadline passed
LOGOFF_TIMEOUT = 10.0       # per-read timeout of the logoff (capped by the timeout option)
READ_CHUNK = 65536
VBR_REST_PORT = 9419
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class _KeepHeaders(AuthBase):
    """Session-level auth that changes nothing: with ``trust_env`` requests would otherwise read
    ``~/.netrc`` and replace our Authorization header (and add one to every token request) when the
    EM host has an entry there. Proxies from the environment stay honoured (trust_env)."""

    def __call__(self, request):
        return request


class _NoCookies(CookiePolicy):
    """EM prefers a cookie over the X-RestSvcSessionId header (em-api-facts.md 1.3): after a
    re-logon a stale cookie would silently win. So the session's jar accepts nothing."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = False

    def set_ok(self, cookie, request):
        return False

    def return_ok(self, cookie, request):
        return False

    def domain_return_ok(self, domain, request):
        return False

    def path_return_ok(self, path, request):
        return False


class ConnectionOptions:
    """The connection options of every module (see doc fragment ``backupops.veeam_em.connection``)."""

    def __init__(self, server, port=9398, username=None, password=None, validate_certs=True,
                 ca_path=None, timeout=30, api_version="latest", session_id=None, retries=3,
                 retry_backoff=1.0, allow_http=False, deadline=DEFAULT_DEADLINE):
        self.server = server
        self.port = port
        self.username = username
        self.password = password
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.api_version = api_version
        self.session_id = session_id
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.allow_http = allow_http
        self.deadline = deadline

    @property
    def verify(self):
        """What requests gets as ``verify=`` on every call: the CA file, else True/False."""
        return self.ca_path if self.ca_path else bool(self.validate_certs)


def base_url(server, port):
    """``https://host:port`` from a host name or an ``http(s)://host[:port][/...]`` URL.

    A port written in the URL wins over the ``port`` option; a path (``/api``) is ignored.
    """
    text = server.strip().rstrip("/")
    scheme = "https"
    if "://" in text:
        scheme, text = text.split("://", 1)
        scheme = scheme.lower()
    host_port = text.split("/", 1)[0]
    host, url_port = host_port, None
    if host_port.startswith("["):  # [::1]:9398
        host, _sep, rest = host_port[1:].partition("]")
        url_port = rest[1:] if rest.startswith(":") else None
        host = "[%s]" % host
    elif host_port.count(":") == 1:
        host, url_port = host_port.split(":")
    elif host_port.count(":") > 1:  # bare IPv6 address
        host = "[%s]" % host_port
    return "%s://%s:%s" % (scheme, host, url_port or port)


def retry_after_seconds(value):
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None if absent/unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - time.time())


class QueryInfo:
    """What was sent, for the module's ``query`` return value (troubleshooting)."""

    def __init__(self, query_type, filter_expr, sort, page_size):
        self.query_type = query_type
        self.filter = filter_expr
        self.sort = sort
        self.page_size = page_size
        self.pages = 0
        self.requests = 0
        self.relogons = 0

    def as_dict(self):
        return {"type": self.query_type, "filter": self.filter, "sort": self.sort,
                "page_size": self.page_size, "pages": self.pages, "requests": self.requests}


class _Collector:
    """Items in page order, deduplicated by key (pages can shift while EM adds sessions).

    ``compact``: keep the items as ``em_parse.Rows`` (packed and compressed, handed out as dicts)
    instead of a list of dicts, for callers that only read them. A list shares its items' equal
    strings (Interner); compressed rows need not, and a pool would only keep strings alive.
    """

    def __init__(self, key_field, limit, compact=False):
        self.key_field = key_field
        self.limit = limit
        self.items = em_parse.Rows() if compact else []
        self.seen = set()
        self.share = _as_is if compact else em_parse.Interner().share_item

    @property
    def full(self):
        return self.limit is not None and len(self.items) >= self.limit

    def add(self, items):
        for item in items:
            if self.full:
                return
            key = item.get(self.key_field)
            if key is not None and key in self.seen:
                continue
            self.seen.add(key)
            self.items.append(self.share(item))


def _as_is(item):
    return item


class EMClient:
    """HTTP client for the EM REST API (``/api/``, port 9398), XML or JSON."""

    def __init__(self, options, media_type="json", sleep=time.sleep, session=None, max_body=MAX_BODY_BYTES):
        if not HAS_REQUESTS:
            raise EMError("the requests library is required")
        self.options = options
        self.media_type = media_type
        self.accept = MEDIA_TYPES[media_type]
        self.base = base_url(options.server, options.port)
        _check_transport(self.base, options)
        # Every secret is registered for scrubbing the moment the client holds it.
        self._authorization = None
        if options.username and options.password is not None:
            self._authorization = em_secrets.register_credentials(options.username, options.password)
        em_secrets.register_token(options.session_id)
        # One deadline for the whole call: logon, every page, every retry and back-off.
        self.deadline_at = time.monotonic() + float(options.deadline) if options.deadline else None
        self.sleep = sleep
        self.max_body = max_body
        self.token = options.session_id
        self.logon_session_id = None
        self.user_name = None
        self.owns_session = False
        self.warnings = []
        self.requests_sent = 0
        self._lock = threading.Lock()
        # Page bodies are parsed and normalised one at a time (it holds the GIL anyway): at most
        # one page's parsed tree is alive, however many pages are being downloaded.
        self._parse_lock = threading.Lock()
        self.http = session or self._new_session()
        self.http.cookies.set_policy(_NoCookies())
        # Proxies (HTTPS_PROXY, NO_PROXY) from the environment are fine and often needed; verify= is
        # explicit on every call; credentials from ~/.netrc are not: _KeepHeaders blocks them.
        self.http.trust_env = True
        self.http.auth = _KeepHeaders()
        self._stopped_by = None
        self._previous_handlers = {}

    @staticmethod
    def _new_session():
        """A fresh requests Session (unit tests replace this to mount a fake transport)."""
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=32)  # room for the page threads
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    # ---- context manager: logon once, logoff always -------------------------------------------

    def __enter__(self):
        self._catch_stop_signals()
        try:
            if not self.token:
                self.logon()
        except BaseException:
            self._restore_signals()
            raise
        return self

    @contextlib.contextmanager
    def guarded(self):
        """The SIGTERM/SIGHUP handler without the logon/logoff of ``with client`` (veeam_em_session)."""
        self._catch_stop_signals()
        try:
            yield self
        finally:
            self._restore_signals()

    def __exit__(self, exc_type, exc, tb):
        try:
            if self.owns_session:
                self.close_session()
        finally:
            self.http.close()
            self._restore_signals()
        return False

    def close_session(self):
        """Log off, best effort, with a budget of its own (the deadline may be what ended the call)."""
        self.deadline_at = time.monotonic() + LOGOFF_BUDGET
        try:
            self.logoff()
        except EMError as error:  # never hide the real failure behind a logoff failure
            self.warn("logoff of the EM session failed: %s" % error)

    def warn(self, text):
        """A warning for the module to pass on; scrubbed here already (and again by the module)."""
        self.warnings.append(em_secrets.scrub(text))

    # ---- SIGTERM / SIGHUP: log off, then fail ----------------------------------------------------

    def _catch_stop_signals(self):
        """While the session is ours, SIGTERM/SIGHUP raise ``EMTerminated`` in the main thread, so that
        ``__exit__`` logs off before the module fails (a SIGKILL cannot be caught: docs/reliability.md)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for number in STOP_SIGNALS:
            try:
                self._previous_handlers[number] = signal.signal(number, self._on_stop_signal)
            except (ValueError, OSError):  # pragma: no cover - not settable here
                pass

    def _on_stop_signal(self, number, _frame):
        if self._stopped_by is not None:  # a second signal while logging off: finish the logoff
            return
        self._stopped_by = number
        raise EMTerminated("the module was stopped by signal %d (%s) and logged off its EM session"
                           % (number, _signal_name(number)),
                           hint="a task timeout or the controller ended the run; see deadline")

    def _restore_signals(self):
        for number, handler in self._previous_handlers.items():
            try:
                signal.signal(number, handler if handler is not None else signal.SIG_DFL)
            except (ValueError, OSError):  # pragma: no cover
                pass
        self._previous_handlers = {}

    # ---- the overall deadline ----------------------------------------------------------------

    def _remaining(self, describe):
        """Seconds left for this call; ``EMDeadlineError`` once none are."""
        if self.deadline_at is None:
            return None
        left = self.deadline_at - time.monotonic()
        if left <= 0:
            raise EMDeadlineError("the module call exceeded its deadline of %s seconds" % self.options.deadline,
                                  request=describe)
        return left

    def _wait(self, seconds, describe):
        """Back-off sleep, never past the deadline."""
        left = self._remaining(describe)
        if left is not None and seconds >= left:
            self.sleep(max(0.0, left))
            self._remaining(describe)
        self.sleep(seconds)

    # ---- authentication ------------------------------------------------------------------------

    def logon(self):
        """``POST /api/sessionMngr/?v=<version>`` with Basic auth and an empty body -> 201 + token."""
        if not self.options.username or self.options.password is None:
            raise EMAuthError("username and password are required to log on (or pass session_id)",
                              request="POST /api/sessionMngr/", hint=None)
        response = self._request("POST", "/api/sessionMngr/", [("v", self.options.api_version)],
                                 describe="POST /api/sessionMngr/ (logon)", logon=True)
        token = response.headers.get(TOKEN_HEADER)
        em_secrets.register_token(token)
        if not token:
            raise EMResponseError("EM answered the logon without an %s header" % TOKEN_HEADER,
                                  request="POST /api/sessionMngr/ (logon)")
        # From here on EM holds a session: own it first, so that logoff happens even if the
        # body turns out unreadable (the SessionId can then come from GET /logonSessions).
        self.token = token
        self.owns_session = True
        session_id, user_name, delete_href = None, None, None
        if response.content:
            try:
                session_id, user_name, delete_href = em_parse.logon_fields(em_parse.decode(response.content))
            except EMResponseError as error:
                self.warn("the logon response body could not be read: %s" % error)
        self.logon_session_id = session_id or em_parse.guid_of(delete_href) or _guid_from_token(token)
        em_secrets.register_session_id(self.logon_session_id)
        self.user_name = user_name
        return token

    def logoff(self, logon_session_id=None):
        """``DELETE /api/logonSessions/{SessionId}`` -> 204. Returns False if already gone."""
        session_id = logon_session_id or self.logon_session_id
        if not session_id:
            session_id, _user = self.current_logon_session()
            self.logon_session_id = session_id
        try:
            self._request("DELETE", "/api/logonSessions/%s" % session_id, None,
                          describe="DELETE /api/logonSessions/{id} (logoff)", retry=True)
        except (EMAuthError, EMNotFoundError):
            return False
        finally:
            if session_id == self.logon_session_id:
                self.owns_session = False
        return True

    def logoff_token(self):
        """Close the logon session of a token we were handed (``veeam_em_session`` state=absent).

        One request in the common case: the token is base64 of the SessionId in practice
        (em-api-facts.md 1.2, observed, not documented), so try ``DELETE`` on that id first. Only
        when that id is unknown to EM (404) ask ``GET /api/logonSessions`` which one is ours.
        Returns ``(closed, session_id)``; ``closed`` is False when the session was already gone.
        """
        guid = _guid_from_token(self.token)
        if guid:
            try:
                self._request("DELETE", "/api/logonSessions/%s" % guid, None,
                              describe="DELETE /api/logonSessions/{id} (logoff)", retry=True)
                return True, guid
            except EMAuthError:
                return False, guid
            except EMNotFoundError:
                pass  # this EM's tokens do not encode the SessionId: look it up
        try:
            session_id, _user = self.current_logon_session()
        except EMAuthError:
            return False, None
        return self.logoff(session_id), session_id

    def current_logon_session(self):
        """SessionId of this token's logon session via ``GET /api/logonSessions``.

        EM lists ``LogonSession`` elements; whether other users' sessions appear is not
        documented [UNCONFIRMED], so prefer the one whose base64 text equals the token
        (the observed token format, em-api-facts.md 1.2), else the only one listed.
        """
        document = self.get("/api/logonSessions", None, describe="GET /api/logonSessions")
        sessions = [s for s in em_parse.logon_sessions(document) if isinstance(s, dict) and s.get("SessionId")]
        for session in sessions:
            if _token_of(session["SessionId"]) == self.token:
                em_secrets.register_session_id(session["SessionId"])
                return session["SessionId"], session.get("UserName")
        if len(sessions) == 1:
            em_secrets.register_session_id(sessions[0]["SessionId"])
            return sessions[0]["SessionId"], sessions[0].get("UserName")
        guid = _guid_from_token(self.token)
        for session in sessions:
            if guid and session["SessionId"].lower() == guid:
                em_secrets.register_session_id(session["SessionId"])
                return session["SessionId"], session.get("UserName")
        raise EMResponseError("cannot tell which of %d logon sessions belongs to this token" % len(sessions),
                              request="GET /api/logonSessions")

    def _relogon(self):
        """The owned session answered 401: log on again (once per request, see _with_relogon).

        The old session is logged off first, best effort: a 401 usually means it expired
        (the DELETE then gets 401/404, harmless), but a 401 from a proxy or a hiccup would
        otherwise leave it open on EM for 15 minutes.
        """
        try:
            self.logoff()
        except EMError:
            pass
        self.token = None
        self.owns_session = False
        self.logon_session_id = None
        self.logon()

    # ---- requests ------------------------------------------------------------------------------

    def get(self, path, params, describe=None):
        """GET and decode, retried on transport errors and 502/503/504."""
        describe = describe or "GET %s" % path
        response = self._request("GET", path, params, describe=describe, retry=True)
        return _decode(response, describe)

    def get_root(self):
        """``GET /api/`` (no authentication): the EnterpriseManager document."""
        response = self._request("GET", "/api/", None, describe="GET /api/", retry=True, anonymous=True)
        return _decode(response, "GET /api/")

    def _request(self, method, path, params, describe, retry=False, logon=False, anonymous=False):
        attempts = 1 + (max(0, int(self.options.retries)) if retry else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._send(method, path, params, describe, logon, anonymous)
            except EMTransportError:
                if last or not retry:
                    raise
                self._wait(self._backoff(attempt, None), describe)
                continue
            if response.status_code in RETRY_STATUSES and retry and not last:
                self._wait(self._backoff(attempt, response.headers.get("Retry-After")), describe)
                continue
            if response.status_code >= 400:
                raise self._http_error(response, describe)
            if 300 <= response.status_code < 400:  # redirects are not followed: credentials stay here
                raise EMResponseError("EM answered with a redirect (HTTP %d) to %s" % (
                    response.status_code, response.headers.get("Location")), request=describe,
                    hint="use the redirect target as server")
            return response
        raise EMTransportError("no response", request=describe)  # pragma: no cover - loop always returns

    def _backoff(self, attempt, retry_after):
        wait = retry_after_seconds(retry_after)
        if wait is not None:
            return min(wait, MAX_RETRY_AFTER)
        return min(float(self.options.retry_backoff) * (2 ** attempt), MAX_BACKOFF)

    def _send(self, method, path, params, describe, logon, anonymous):
        url = self.base + path + ("?" + encode_query(params) if params else "")
        headers = {"Accept": self.accept}
        if logon:
            headers["Authorization"] = self._authorization
            headers["Content-Length"] = "0"
        elif not anonymous:
            headers[TOKEN_HEADER] = self.token
        with self._lock:
            self.requests_sent += 1
        self.http.cookies.clear()
        timeout = self._request_timeout(describe)
        response = None
        try:
            response = self.http.request(
                method, url, headers=headers, data=b"" if logon else None,
                timeout=timeout, verify=self.options.verify, stream=True,
                allow_redirects=False)
            try:
                response._content = self._read_capped(response, describe)
            except (requests.exceptions.RequestException, EMResponseError, EMDeadlineError) as exc:
                if not (logon and response.status_code == 201 and response.headers.get(TOKEN_HEADER)):
                    raise
                # EM created the session and sent its token in the headers; only the (optional)
                # body was lost. Keep the token, or the session would be orphaned on EM.
                em_secrets.register_token(response.headers.get(TOKEN_HEADER))
                self.warn("the logon response body could not be read: %s" % _short(exc))
                response._content = b""
        except requests.exceptions.SSLError as exc:
            raise EMTransportError("TLS/certificate error talking to %s: %s" % (self.base, _short(exc)),
                                   request=describe,
                                   hint="set ca_path to the CA bundle that signed EM's certificate "
                                        "(EM's default certificate is self-signed), or validate_certs: false")
        except requests.exceptions.ContentDecodingError as exc:
            encoding = response.headers.get("Content-Encoding") if response is not None else None
            raise EMResponseError("the response body cannot be decompressed (Content-Encoding %s): %s"
                                  % (encoding, _short(exc)), request=describe)
        except requests.exceptions.Timeout:
            self._remaining(describe)  # the deadline, not the per-read timeout, if that is what ran out
            raise EMTransportError("no answer from %s within %s seconds" % (self.base, timeout),
                                   request=describe, hint="raise timeout, or check that EM is up")
        except requests.exceptions.RequestException as exc:
            raise EMTransportError("cannot reach %s: %s" % (self.base, _short(exc)), request=describe,
                                   hint=self._port_hint() or "check server and port (EM listens on 9398)")
        return response

    def _request_timeout(self, describe):
        """Per-read timeout: the option, the logoff's own cap, and never beyond the deadline."""
        timeout = float(self.options.timeout)
        if describe.endswith("(logoff)"):
            timeout = min(timeout, LOGOFF_TIMEOUT)
        left = self._remaining(describe)
        return timeout if left is None else max(0.001, min(timeout, left))

    def _read_capped(self, response, describe):
        """The body, decompressed at most ``max_body`` bytes (urllib3 >= 2.6 inflates in bounded steps,
        requirements.txt), read in short reads so that the deadline is checked however slowly it trickles."""
        chunks, size = [], 0
        try:
            for chunk in _chunks(response):
                size += len(chunk)
                if size > self.max_body:
                    raise EMResponseError("the response body exceeds %d bytes; refused" % self.max_body,
                                          request=describe, hint="lower page_size")
                chunks.append(chunk)
                self._remaining(describe)
        finally:
            response.close()
        body = b"".join(chunks)
        chunks = None
        return body

    def _port_hint(self):
        if self.base.endswith(":%d" % VBR_REST_PORT):
            return "9419 is the VBR REST API; EM is 9398"
        return None

    def _http_error(self, response, describe):
        status = response.status_code
        try:
            em_bounds.check_depth(response.content or b"")
            em_message, _code = em_parse.error_fields(response.content or b"")
        except (EMResponseError, RecursionError):
            em_message = None
        error_class = error_class_for_status(status)
        message = "HTTP %d %s" % (status, response.reason or "")
        hint = None
        if status == 404:
            hint = self._port_hint()
            if describe.startswith("POST /api/sessionMngr"):
                hint = hint or "no EM logon endpoint here: is this an Enterprise Manager (port 9398)?"
        if status == 401 and self.options.session_id and not self.owns_session:
            hint = "the session_id is no longer valid (logged off, or expired after 15 minutes idle)"
        return error_class(message.strip(), request=describe, status=status, em_message=em_message, hint=hint)

    # ---- queries -------------------------------------------------------------------------------

    def query(self, resource, filter_expr, sort_field, sort_order, page_size, limit=None, concurrency=4,
              normalise=None, compact=False):
        """All items of ``GET /api/query?type=...``, every page, deduplicated, up to ``limit``.

        Page 1 is fetched alone; once its ``PagesCount`` is known the other pages are fetched
        by up to ``concurrency`` threads, consumed in page order and normalised as they arrive.
        On a 401 with an owned session the client logs on again once and restarts from page 1
        (deduplication makes the restart safe).
        ``compact=True`` returns the items as a read-only ``em_parse.Rows`` sequence (equal dicts,
        a third of the memory) instead of a list.
        """
        sort_param = "sortAsc" if sort_order == "asc" else "sortDesc"
        info = QueryInfo(resource.query_type, filter_expr, "%s=%s" % (sort_param, sort_field), page_size)
        collector = _Collector(resource.key_field, limit, compact)
        normalise = normalise or (lambda document: em_parse.normalise_document(document, resource))

        def params(page):
            return [("type", resource.query_type), ("format", resource.format_param), (sort_param, sort_field),
                    ("pageSize", page_size), ("page", page), ("filter", filter_expr)]

        describe = "GET /api/query (type=%s)" % resource.query_type
        before = self.requests_sent
        try:
            self._with_relogon(lambda: self._walk(params, describe, page_size, concurrency, collector, normalise,
                                                  info), info)
        finally:
            info.requests = self.requests_sent - before
        return collector.items, info

    def get_entity(self, resource, guid, normalise=None):
        """``GET /api/<entity_path>/{guid}?format=Entity`` -> [item], or [] when EM says 404."""
        describe = "GET /api/%s/{id}" % resource.entity_path
        path = "/api/%s/%s" % (resource.entity_path, guid)
        normalise = normalise or (lambda document: em_parse.normalise_document(document, resource))
        try:
            document = self._with_relogon(lambda: self.get(path, [("format", "Entity")], describe), None)
        except EMNotFoundError:
            return []
        return normalise(document)

    def _with_relogon(self, call, info):
        try:
            return call()
        except EMAuthError:
            if not self.owns_session:
                raise
            self._relogon()
            if info is not None:
                info.relogons += 1
            return call()

    def _fetch_page(self, params, page, describe, normalise):
        response = self._request("GET", "/api/query", params(page), describe=describe, retry=True)
        with self._parse_lock:
            document = _decode(response, describe)
            response = None  # the body goes as soon as it is parsed, the tree once normalised
            try:
                _page_num, pages_count, has_next = em_parse.paging(document)
                items = normalise(document)
            except EMResponseError as error:
                error.request = error.request or "%s page %d" % (describe, page)
                raise
            document = None
        return items, _plausible_pages(pages_count, describe), has_next

    def _walk(self, params, describe, page_size, concurrency, collector, normalise, info):
        items, pages_count, has_next = self._fetch_page(params, 1, describe, normalise)
        info.pages = 1
        collector.add(items)
        if collector.full:
            return
        if pages_count is None:
            self._walk_sequential(params, describe, has_next and bool(items), collector, normalise, info)
        else:
            self._walk_parallel(params, describe, page_size, pages_count, max(1, concurrency), collector,
                                normalise, info)

    def _walk_sequential(self, params, describe, has_next, collector, normalise, info):
        """No PagesCount: follow the Next link (rebuilding page=N+1 ourselves, not the Href).

        Bounded: at most ``MAX_PAGES`` pages, and a Next link that keeps bringing back only items
        already seen is a loop; both are errors, never a silent stop with part of the data.
        """
        page, stale = 1, 0
        while has_next and not collector.full:
            if page >= MAX_PAGES:
                raise EMResponseError("EM still links a Next page after %d pages; refused (hard ceiling)" % page,
                                      request=describe, hint="narrow the query or raise page_size")
            page += 1
            items, _count, has_next = self._fetch_page(params, page, describe, normalise)
            info.pages += 1
            before = len(collector.items)
            collector.add(items)
            stale = stale + 1 if items and len(collector.items) == before and not collector.full else 0
            if stale >= MAX_STALE_PAGES:
                raise EMResponseError("EM's Next links loop: %d pages in a row (up to page %d) brought only items "
                                      "already read" % (stale, page), request=describe)
            has_next = has_next and bool(items)

    def _walk_parallel(self, params, describe, page_size, pages_count, concurrency, collector, normalise, info):
        """Pages 2..PagesCount, at most ``concurrency`` in flight, consumed in order."""
        def last_wanted(consumed):
            if collector.limit is None:
                return pages_count
            missing = collector.limit - len(collector.items)
            return min(pages_count, consumed + max(1, -(-missing // page_size)))

        in_flight = {}
        next_page, consumed = 2, 1
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            try:
                while consumed < pages_count and not collector.full:
                    while next_page <= last_wanted(consumed) and len(in_flight) < concurrency:
                        in_flight[next_page] = pool.submit(self._fetch_page, params, next_page, describe, normalise)
                        next_page += 1
                    if consumed + 1 not in in_flight:
                        break
                    items, count, _has_next = in_flight.pop(consumed + 1).result()
                    consumed += 1
                    info.pages += 1
                    if not items and consumed < pages_count - MAX_EMPTY_TAIL + 1:
                        raise EMResponseError(
                            "EM reported %d pages but page %d is empty; refused (an implausible PagesCount)"
                            % (pages_count, consumed), request=describe)
                    collector.add(items)
                    if count and count > pages_count:  # sessions were added while paging
                        pages_count = count
            finally:
                for future in in_flight.values():
                    future.cancel()


def _decode(response, describe):
    """Decode a body, depth-checked first; a parse failure names the request like every other error."""
    try:
        em_bounds.check_depth(response.content)
        return em_parse.decode(response.content)
    except EMResponseError as error:
        error.request = error.request or describe
        raise
    except RecursionError:  # belt and braces behind check_depth: never a traceback
        raise EMResponseError("the response nests too deeply to be parsed; refused", request=describe)


def _chunks(response):
    """The decoded body in reads of at most READ_CHUNK bytes, each returning as soon as data arrived
    (urllib3's ``read1``), so that a body trickling one byte at a time still reaches the deadline
    check; urllib3's errors become requests' (as ``iter_content`` does) for the callers."""
    raw = response.raw
    if not (hasattr(raw, "read1") and hasattr(raw, "decode_content")):  # urllib3 >= 2.3 responses only
        # a test double (BytesIO) or an urllib3 without read1: the plain iterator
        yield from response.iter_content(READ_CHUNK)
        return
    while True:
        try:
            chunk = raw.read1(READ_CHUNK, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.exceptions.ReadTimeout(exc)
        except urllib3.exceptions.DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc)
        except urllib3.exceptions.SSLError as exc:
            raise requests.exceptions.SSLError(exc)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise requests.exceptions.ChunkedEncodingError(exc)
        if not chunk:
            return
        yield chunk


def _plausible_pages(pages_count, describe):
    """PagesCount as sent, or an error when no query of this collection can have that many pages."""
    if pages_count is None:
        return None
    if pages_count < 0 or pages_count > MAX_PAGES:
        raise EMResponseError("EM reported PagesCount %d; refused (at most %d pages are read)"
                              % (pages_count, MAX_PAGES), request=describe, hint="raise page_size")
    return pages_count


def _check_transport(base, options):
    """Plain HTTP only when asked for by name (the module checks ca_path, em_module.connection_options)."""
    if base.startswith("http://") and not options.allow_http:
        raise EMValidationError(
            "option server: %s is plain http://: the password and every session token would cross the network "
            "unencrypted (and reach any HTTP proxy); use https:// (EM listens on HTTPS 9398) or set allow_http: true"
            % base)


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except (ValueError, AttributeError):  # pragma: no cover
        return str(number)


def _token_of(session_id):
    return base64.b64encode(session_id.encode("ascii", "replace")).decode("ascii")


def _guid_from_token(token):
    """[INF] In practice the token is base64(SessionId text) (em-api-facts.md 1.2); best effort."""
    try:
        text = base64.b64decode(token, validate=True).decode("ascii")
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    return em_parse.guid_of(text)


def _short(exc):
    """First line of an exception, without urllib3's noisy object reprs."""
    text = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return text[:300]
