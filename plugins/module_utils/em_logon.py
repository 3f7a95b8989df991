# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The logon session behind ``EMClient``: logon, logoff, re-logon, and the SIGTERM/SIGHUP guard.

``LogonSession(client)`` works through the client's public transport (``client.request``) and
keeps the token on the client (which sends it); only ``EMClient`` creates one. Every name here is
reached through the ``EMClient`` facade (``client.logon()``, ``client.logoff()``...).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import signal
import threading
import time

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_parse, em_secrets
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMAuthError, EMError, EMNotFoundError, EMResponseError, EMTerminated)

TOKEN_HEADER = "X-RestSvcSessionId"
LOGON_PATH = "/api/sessionMngr/"
LOGON_DESCRIBE = "POST /api/sessionMngr/ (logon)"
LOGOFF_DESCRIBE = "DELETE /api/logonSessions/{id} (logoff)"
LOGOFF_BUDGET = 15.0        # seconds the logoff gets of its own, even after the deadline passed
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class LogonSession:
    """One EM logon session: who owns it, its SessionId, and how it ends (em-api-facts.md 1.2/1.3)."""

    def __init__(self, client):
        self.client = client
        self.logon_session_id = None
        self.user_name = None

    def logon(self):
        """``POST /api/sessionMngr/?v=<version>`` with Basic auth and an empty body -> 201 + token."""
        client = self.client
        if not client.options.username or client.options.password is None:
            raise EMAuthError("username and password are required to log on (or pass session_id)",
                              request="POST /api/sessionMngr/", hint=None)
        response = client.request("POST", LOGON_PATH, [("v", client.options.api_version)],
                                  describe=LOGON_DESCRIBE, logon=True)
        token = response.headers.get(TOKEN_HEADER)
        em_secrets.register_token(token)
        if not token:
            raise EMResponseError("EM answered the logon without an %s header" % TOKEN_HEADER,
                                  request=LOGON_DESCRIBE)
        # From here on EM holds a session: own it first, so that logoff happens even if the
        # body turns out unreadable (the SessionId can then come from GET /logonSessions).
        self.own(token)
        session_id, user_name, delete_href = None, None, None
        if response.content:
            try:
                session_id, user_name, delete_href = em_parse.logon_fields(em_parse.decode(response.content))
            except EMResponseError as error:
                client.warn("the logon response body could not be read: %s" % error)
        self.logon_session_id = session_id or em_parse.guid_of(delete_href) or guid_from_token(token)
        em_secrets.register_session_id(self.logon_session_id)
        self.user_name = user_name
        return token

    def own(self, token):
        """EM created a session with ``token``: it is ours to log off, whatever happens next (its SessionId
        from the token until the logon's body names it)."""
        em_secrets.register_token(token)
        self.client.token = token
        self.client.owns_session = True
        self.logon_session_id = guid_from_token(token)
        em_secrets.register_session_id(self.logon_session_id)

    def logoff(self, logon_session_id=None):
        """``DELETE /api/logonSessions/{SessionId}`` -> 204. Returns False if already gone."""
        session_id = logon_session_id or self.logon_session_id
        if not session_id:
            session_id, _user = self.current_logon_session()
            self.logon_session_id = session_id
        try:
            self._delete(session_id)
        except (EMAuthError, EMNotFoundError):
            return False
        finally:
            if session_id == self.logon_session_id:
                self.client.owns_session = False
        return True

    def logoff_token(self):
        """Close the logon session of a token we were handed (``veeam_em_session`` state=absent).

        One request in the common case: the token is base64 of the SessionId in practice
        (em-api-facts.md 1.2, observed, not documented), so try ``DELETE`` on that id first. Only
        when that id is unknown to EM (404) ask ``GET /api/logonSessions`` which one is ours.
        Returns ``(closed, session_id)``; ``closed`` is False when the session was already gone.
        """
        guid = guid_from_token(self.client.token)
        if guid:
            try:
                self._delete(guid)
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

    def _delete(self, session_id):
        self.client.request("DELETE", "/api/logonSessions/%s" % session_id, None, describe=LOGOFF_DESCRIBE,
                            retry=True)

    def current_logon_session(self):
        """SessionId of this token's logon session via ``GET /api/logonSessions``.

        EM lists ``LogonSession`` elements; whether other users' sessions appear is not
        documented [UNCONFIRMED], so prefer the one whose base64 text equals the token
        (the observed token format, em-api-facts.md 1.2), else the only one listed.
        """
        token = self.client.token
        document = self.client.get("/api/logonSessions", None, describe="GET /api/logonSessions")
        sessions = [s for s in em_parse.logon_sessions(document) if isinstance(s, dict) and s.get("SessionId")]
        mine = [s for s in sessions if token_of(s["SessionId"]) == token]
        if not mine and len(sessions) == 1:
            mine = sessions
        if not mine:
            guid = guid_from_token(token)
            mine = [s for s in sessions if guid and s["SessionId"].lower() == guid]
        if not mine:
            raise EMResponseError("cannot tell which of %d logon sessions belongs to this token" % len(sessions),
                                  request="GET /api/logonSessions")
        em_secrets.register_session_id(mine[0]["SessionId"])
        return mine[0]["SessionId"], mine[0].get("UserName")

    def relogon(self):
        """The owned session answered 401: log on again (once per request, see ``with_relogon``).

        The old session is logged off first, best effort: a 401 usually means it expired
        (the DELETE then gets 401/404, harmless), but a 401 from a proxy or a hiccup would
        otherwise leave it open on EM for 15 minutes.
        """
        try:
            self._logoff_through_stop()
        except EMTerminated:
            raise  # the module was told to stop: no new session
        except EMError:
            pass
        self.client.token = None
        self.client.owns_session = False
        self.logon_session_id = None
        self.logon()

    def with_relogon(self, call, info=None):
        """``call()``; on a 401 of an owned session log on again once and repeat it (``info.relogons``)."""
        try:
            return call()
        except EMAuthError:
            if not self.client.owns_session:
                raise
            self.relogon()
            if info is not None:
                info.relogons += 1
            return call()

    def close(self):
        """Log off, best effort, with a budget of its own (the deadline may be what ended the call)."""
        self.client.deadline_at = time.monotonic() + LOGOFF_BUDGET
        try:
            self._logoff_through_stop()
        except EMTerminated:  # the logoff was repeated; the call's own result or failure stands
            self.client.warn("a stop signal arrived while logging off the EM session; the logoff was repeated")
        except EMError as error:  # never hide the real failure behind a logoff failure
            self.client.warn("logoff of the EM session failed: %s" % error)

    def _logoff_through_stop(self):
        """``logoff()``; if a stop signal cuts it short (StopGuard ignores any further one), repeat it
        once so that the session is not left open on EM, then raise the ``EMTerminated``."""
        session_id = self.logon_session_id
        try:
            return self.logoff()
        except EMTerminated:
            try:
                self.logoff(session_id or self.logon_session_id)
            except EMError:
                pass
            raise


class StopGuard:
    """While the session is ours, SIGTERM/SIGHUP raise ``EMTerminated`` in the main thread, so that
    the client's ``__exit__`` logs off before the module fails (a SIGKILL cannot be caught:
    docs/reliability.md)."""

    def __init__(self):
        self._stopped_by = None
        self._previous = {}

    def catch(self):
        if threading.current_thread() is not threading.main_thread():
            return
        for number in STOP_SIGNALS:
            try:
                self._previous[number] = signal.signal(number, self._on_stop_signal)
            except (ValueError, OSError):  # pragma: no cover - not settable here
                pass

    def _on_stop_signal(self, number, _frame):
        if self._stopped_by is not None:  # a second signal while logging off: finish the logoff
            return
        self._stopped_by = number
        raise EMTerminated("the module was stopped by signal %d (%s) and logged off its EM session"
                           % (number, _signal_name(number)),
                           hint="a task timeout or the controller ended the run; see deadline")

    def restore(self):
        for number, handler in self._previous.items():
            try:
                signal.signal(number, handler if handler is not None else signal.SIG_DFL)
            except (ValueError, OSError):  # pragma: no cover
                pass
        self._previous = {}


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except (ValueError, AttributeError):  # pragma: no cover
        return str(number)


def token_of(session_id):
    """The token EM hands out for a SessionId, as observed: base64 of its text (em-api-facts.md 1.2)."""
    return base64.b64encode(session_id.encode("ascii", "replace")).decode("ascii")


def guid_from_token(token):
    """[INF] In practice the token is base64(SessionId text) (em-api-facts.md 1.2); best effort."""
    try:
        text = base64.b64decode(token, validate=True).decode("ascii")
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    return em_parse.guid_of(text)
