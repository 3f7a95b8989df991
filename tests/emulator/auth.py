"""Accounts, roles and logon sessions.

EM authenticates ``POST /api/sessionMngr/?v=…`` with HTTP Basic and then trusts a session token
(header ``X-RestSvcSessionId`` or the cookie of the same name — the cookie wins). The token is
base64 of the SessionId GUID text, so clients that read the header and clients that compute it
from the body (jorgedlcruz style) both work. Sessions expire after ``idle_seconds`` without a
request (EM: 15 minutes). Idle time is measured with the monotonic clock, independent of the
emulator's (possibly fixed) data clock.
"""
import base64
import threading
import time
import uuid
from collections import OrderedDict

ROLE_ADMIN = "PortalAdministrator"
ROLE_USER = "PortalUser"
ROLE_RESTORE = "RestoreOperator"
API_VERSIONS = {"latest": "v1_7", "v1_7": "v1_7", "v1_6": "v1_6", "v1_5": "v1_5"}
DOMAIN = "EMULATOR"


class Account:
    __slots__ = ("username", "password", "role")

    def __init__(self, username, password, role):
        self.username = username
        self.password = password
        self.role = role


def default_accounts(admin_user="emadmin", admin_password="emadmin-Pass1"):
    return [
        Account(admin_user, admin_password, ROLE_ADMIN),
        Account("emuser", "emuser-Pass1", ROLE_USER),
        Account("emrestore", "emrestore-Pass1", ROLE_RESTORE),
    ]


class LogonSession:
    __slots__ = ("session_id", "token", "account", "api_version", "last_used", "tasks", "user_name")

    def __init__(self, account, api_version):
        self.session_id = str(uuid.uuid4())
        self.token = base64.b64encode(self.session_id.encode("ascii")).decode("ascii")
        self.account = account
        self.api_version = api_version
        self.last_used = time.monotonic()
        self.tasks = OrderedDict()  # task_id -> Task (tasks belong to the logon session, as in EM)
        self.user_name = "%s\\%s" % (DOMAIN, account.username)

    @property
    def role(self):
        return self.account.role


def _norm_user(name):
    n = name.strip()
    if "\\" in n:
        n = n.split("\\", 1)[1]
    if "@" in n:
        n = n.split("@", 1)[0]
    return n.lower()


def request_token(headers):
    """The session token of a request: the ``X-RestSvcSessionId`` cookie wins over the header."""
    cookie = headers.get("Cookie")
    if cookie:
        for part in cookie.split(";"):
            if "=" in part:
                k, v = part.split("=", 1)
                if k.strip().lower() == "x-restsvcsessionid":
                    return v.strip().strip('"')
    return (headers.get("X-RestSvcSessionId") or "").strip() or None


class SessionStore:
    def __init__(self, accounts, idle_seconds=900.0):
        self.accounts = {_norm_user(a.username): a for a in accounts}
        self.idle_seconds = float(idle_seconds)
        self.by_token = {}
        self.lock = threading.Lock()
        self.created = 0
        self.deleted = 0
        self.expired = 0

    def authenticate(self, authorization):
        """Account for an ``Authorization: Basic …`` header value, else None."""
        if not authorization or not authorization.strip().lower().startswith("basic "):
            return None
        try:
            raw = base64.b64decode(authorization.strip()[6:].strip(), validate=True)
        except (ValueError, TypeError):
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        if ":" not in text:
            return None
        user, password = text.split(":", 1)
        acc = self.accounts.get(_norm_user(user))
        if acc is None or acc.password != password:
            return None
        return acc

    def create(self, account, api_version):
        s = LogonSession(account, api_version)
        with self.lock:
            self.by_token[s.token] = s
            self.created += 1
        return s

    def lookup(self, token):
        """Live session for ``token`` (refreshing its idle timer), or None if unknown/expired."""
        if not token:
            return None
        now = time.monotonic()
        with self.lock:
            s = self.by_token.get(token)
            if s is None:
                return None
            if now - s.last_used > self.idle_seconds:
                del self.by_token[token]
                self.expired += 1
                return None
            s.last_used = now
            return s

    def delete(self, session):
        with self.lock:
            if self.by_token.pop(session.token, None) is not None:
                self.deleted += 1
                return True
        return False

    def expire(self, token):
        """Forget a session as if it had timed out (fault injection)."""
        with self.lock:
            if self.by_token.pop(token, None) is not None:
                self.expired += 1
                return True
        return False

    def open_count(self):
        now = time.monotonic()
        with self.lock:
            for tok in [t for t, s in self.by_token.items() if now - s.last_used > self.idle_seconds]:
                del self.by_token[tok]
                self.expired += 1
            return len(self.by_token)
