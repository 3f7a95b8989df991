# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The one door to Enterprise Manager: ``EMClient``, its HTTP transport, and the rooms behind it.

Used as a context manager so the logon session is deleted on every path, failures included
(EM sessions otherwise linger for 15 minutes idle; em-api-facts.md 1.3/6):

    with EMClient(options) as client:
        items, info = client.query(BACKUP_TASK_SESSION, filter_expr, "CreationTime", "desc", ...)

With ``options.session_id`` (a token from ``veeam_em_session``) the client reuses that session
and never logs it off.

The shape of kubernetes.core ``k8s/client.py`` vs ``k8s/service.py``: this file is the transport
(``request``/``get``/``post``/``close``: retries, back-off, deadline, body caps, typed errors) and
the public facade; the logon session lives in ``em_logon`` and the pager in ``em_pager``, both
working through the transport's public methods. Callers use only ``EMClient``'s public names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import threading
import time

try:
    import requests
    from requests.adapters import HTTPAdapter
    from requests.auth import AuthBase
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module base
    requests = None
    HTTPAdapter = object
    AuthBase = object
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

try:
    from http.cookiejar import CookiePolicy
except ImportError:  # pragma: no cover
    CookiePolicy = object

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_hints, em_secrets
# ConnectionOptions and QueryInfo are imported for the callers: they are part of this facade's public API.
# pylint: disable=unused-import
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_connection import (  # noqa: F401
    ConnectionOptions, base_url, check_transport)
# pylint: enable=unused-import
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMDeadlineError, EMError, EMResponseError, EMTransportError)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_filter_expr import encode_query
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_http import (
    decode_response, read_chunks, retry_after_seconds, short_error)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_logon import TOKEN_HEADER, LogonSession, StopGuard
# pylint: disable=unused-import
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_pager import (  # noqa: F401
    MAX_PAGES, Pager, QueryInfo)
# pylint: enable=unused-import

MEDIA_TYPES = {"json": "application/json", "xml": "application/xml"}
RETRY_STATUSES = (502, 503, 504)
MAX_BACKOFF = 30.0          # seconds, cap of one exponential back-off step
MAX_RETRY_AFTER = 120.0     # seconds, cap of a server-requested Retry-After
MAX_BODY_BYTES = 64 * 1024 * 1024  # refuse larger bodies: a page of 1000 sessions is ~3 MB
LOGOFF_TIMEOUT = 10.0       # per-read timeout of the logoff (capped by the timeout option)


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


class EMClient:
    """HTTP client for the EM REST API (``/api/``, port 9398), XML or JSON: the one public door.

    Transport verbs: ``request``, ``get``, ``post``, ``close``. Logon session (``em_logon``):
    ``logon``, ``logoff``, ``logoff_token``, ``current_logon_session``, ``close_session``,
    ``with_relogon``, ``logon_session_id``, ``user_name``. Pager (``em_pager``): ``query``,
    ``get_entity``. State a module reads: ``token``, ``owns_session``, ``warnings``, ``requests_sent``.
    """

    def __init__(self, options, media_type="json", sleep=time.sleep, session=None, max_body=MAX_BODY_BYTES):
        if not HAS_REQUESTS:
            raise EMError("the requests library is required")
        self.options = options
        self.media_type = media_type
        self.accept = MEDIA_TYPES[media_type]
        self.base = base_url(options.server, options.port)
        check_transport(self.base, options)
        # Every secret is registered for scrubbing the moment the client holds it.
        self._authorization = None
        if options.username and options.password is not None:
            self._authorization = em_secrets.register_credentials(options.username, options.password)
        em_secrets.register_token(options.session_id)
        # One deadline for the whole call: logon, every page, every retry and back-off.
        self.deadline_at = None
        self.restart_deadline()
        self.sleep = sleep
        self.max_body = max_body
        self.token = options.session_id
        self.owns_session = False
        self.warnings = []
        self.requests_sent = 0
        self._lock = threading.Lock()
        self.http = session or self._new_session()
        self.http.cookies.set_policy(_NoCookies())
        # Proxies (HTTPS_PROXY, NO_PROXY) from the environment are fine and often needed; verify= is
        # explicit on every call; credentials from ~/.netrc are not: _KeepHeaders blocks them.
        self.http.trust_env = True
        self.http.auth = _KeepHeaders()
        self._session = LogonSession(self)
        # MAX_PAGES is read here, from this module, so that it is tuned in one place (tests lower it).
        self._pager = Pager(self, max_pages=MAX_PAGES)
        self._stop_guard = StopGuard()

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
        self._stop_guard.catch()
        try:
            if not self.token:
                self.logon()
        except BaseException:
            # __exit__ will not run: a session the logon created (a stop signal or Ctrl-C while its
            # answer was read) is closed here, or it stays open on EM
            try:
                if self.owns_session:
                    self.close_session()
            finally:
                self._stop_guard.restore()
            raise
        return self

    @contextlib.contextmanager
    def guarded(self):
        """The SIGTERM/SIGHUP handler without the logon/logoff of ``with client`` (veeam_em_session)."""
        self._stop_guard.catch()
        try:
            yield self
        finally:
            self._stop_guard.restore()

    def __exit__(self, exc_type, exc, tb):
        try:
            if self.owns_session:
                self.close_session()
        finally:
            self.close()
            self._stop_guard.restore()
        return False

    def close(self):
        """Release the HTTP connections (the logon session is ``close_session``'s, or ``__exit__``'s)."""
        self.http.close()

    def warn(self, text):
        """A warning for the module to pass on; scrubbed here already (and again by the module)."""
        self.warnings.append(em_secrets.scrub(text))

    # ---- the logon session (em_logon) ------------------------------------------------------------

    def logon(self):
        return self._session.logon()

    def logoff(self, logon_session_id=None):
        return self._session.logoff(logon_session_id)

    def logoff_token(self):
        return self._session.logoff_token()

    def current_logon_session(self):
        return self._session.current_logon_session()

    def close_session(self):
        self._session.close()

    def with_relogon(self, call, info=None):
        return self._session.with_relogon(call, info)

    @property
    def logon_session_id(self):
        return self._session.logon_session_id

    @property
    def user_name(self):
        return self._session.user_name

    # ---- queries (em_pager) ----------------------------------------------------------------------

    def query(self, resource, filter_expr, sort_field, sort_order, page_size, limit=None, concurrency=4,
              normalise=None, compact=False):
        """All items of ``GET /api/query?type=...`` (see ``em_pager.Pager.query``) -> (items, QueryInfo)."""
        return self._pager.query(resource, filter_expr, sort_field, sort_order, page_size, limit=limit,
                                 concurrency=concurrency, normalise=normalise, compact=compact)

    def get_entity(self, resource, guid, normalise=None):
        """``GET /api/<entity_path>/{guid}?format=Entity`` -> [item], or [] when EM says 404."""
        return self._pager.get_entity(resource, guid, normalise)

    # ---- the overall deadline ----------------------------------------------------------------

    def restart_deadline(self):
        """The whole ``deadline`` again, from now. A module call is one unit of work; a client that lives
        longer (the EDA source: days) starts each poll with this, or every request after its first
        ``deadline`` seconds failed (attack, session 15)."""
        self.deadline_at = time.monotonic() + float(self.options.deadline) if self.options.deadline else None

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

    # ---- transport -----------------------------------------------------------------------------

    def get(self, path, params, describe=None):
        """GET and decode, retried on transport errors and 502/503/504."""
        describe = describe or "GET %s" % path
        response = self.request("GET", path, params, describe=describe, retry=True)
        return decode_response(response, describe)

    def post(self, path, params, describe=None):
        """POST with an empty body, decoded (None for an empty answer). Never retried on a transport
        error or 5xx (a POST that timed out may have acted); a 401 of an owned session is repeated
        once after a re-logon, since EM refused it before acting."""
        describe = describe or "POST %s" % path

        def send():
            response = self.request("POST", path, params, describe=describe, retry=False)
            return decode_response(response, describe) if response.content else None
        return self.with_relogon(send)

    @staticmethod
    def decode(response, describe):
        """A response body decoded (depth-checked first); errors name ``describe``."""
        return decode_response(response, describe)

    def request(self, method, path, params, describe, retry=False, logon=False):
        """One request -> the response with its body read; typed ``EMError`` on failure.

        ``retry``: repeat after transport errors and 502/503/504 (idempotent requests only).
        ``logon``: send the Basic credentials instead of the token (``em_logon`` only).
        """
        attempts = 1 + (max(0, int(self.options.retries)) if retry else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._send(method, path, params, describe, logon)
            except EMTransportError:
                if last or not retry:
                    raise
                self._wait(self._backoff(attempt, None), describe)
                continue
            if response.status_code in RETRY_STATUSES and retry and not last:
                self._wait(self._backoff(attempt, response.headers.get("Retry-After")), describe)
                continue
            if response.status_code >= 400:
                raise em_hints.http_error(response, describe, self.base, self.options, self.owns_session)
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

    def _send(self, method, path, params, describe, logon):
        url = self.base + path + ("?" + encode_query(params) if params else "")
        headers = {"Accept": self.accept}
        if logon:
            headers["Authorization"] = self._authorization
            headers["Content-Length"] = "0"
        else:
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
            self._read_body(response, describe, logon)
        except requests.exceptions.SSLError as exc:
            raise EMTransportError("TLS/certificate error talking to %s: %s" % (self.base, short_error(exc)),
                                   request=describe, hint=em_hints.tls_hint(str(exc), self.base, self.options.ca_path))
        except requests.exceptions.ContentDecodingError as exc:
            encoding = response.headers.get("Content-Encoding") if response is not None else None
            raise EMResponseError("the response body cannot be decompressed (Content-Encoding %s): %s"
                                  % (encoding, short_error(exc)), request=describe)
        except requests.exceptions.Timeout:
            self._remaining(describe)  # the deadline, not the per-read timeout, if that is what ran out
            raise EMTransportError("no answer from %s within %s seconds" % (self.base, timeout),
                                   request=describe, hint="raise timeout, or check that EM is up")
        except requests.exceptions.RequestException as exc:
            raise EMTransportError("cannot reach %s: %s" % (self.base, short_error(exc)), request=describe,
                                   hint=em_hints.port_hint(self.base) or "check server and port (EM listens on 9398)")
        return response

    def _read_body(self, response, describe, logon):
        created = logon and response.status_code == 201 and response.headers.get(TOKEN_HEADER)
        try:
            response._content = self._read_capped(response, describe)
        except (requests.exceptions.RequestException, EMResponseError, EMDeadlineError) as exc:
            if not created:
                raise
            # EM created the session and sent its token in the headers; only the (optional)
            # body was lost. Keep the token, or the session would be orphaned on EM.
            em_secrets.register_token(response.headers.get(TOKEN_HEADER))
            self.warn("the logon response body could not be read: %s" % short_error(exc))
            response._content = b""
        except BaseException:
            # A stop signal (EMTerminated) or Ctrl-C while the body was read: EM holds the session already;
            # owned here, it is logged off by whoever ends the call (__enter__, __exit__, close_session).
            if created:
                self._session.own(response.headers.get(TOKEN_HEADER))
            raise

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
            for chunk in read_chunks(response):
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
