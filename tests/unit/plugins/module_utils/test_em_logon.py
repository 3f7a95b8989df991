"""em_logon: the logon session behind EMClient, against the fake EM at the transport layer.

Each test gets a fresh SessionId (uuid4) where it asserts on scrubbing: the secret registry is
per process, so the shared em_fake.SESSION_ID is registered by other tests already and would make
a "registered at logon" assertion pass without the logon registering anything.
"""
import base64
import io
import json
import os
import signal
import threading
import time
import uuid

import pytest
import requests

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_logon, em_secrets
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMAuthError, EMError, EMResponseError, EMServerError, EMTerminated)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_logon import (
    LogonSession, StopGuard, guid_from_token, token_of)
from unit.plugins.module_utils.em_fake import SESSION_ID, TOKEN, FakeEM, Reply, error_body, xml_doc
from unit.plugins.module_utils.test_em_client import make_client

OTHER_ID = "44cfbdbe-5a95-4156-8867-91f069b7c2cc"
OPAQUE_TOKEN = "O9Msj3rq7EGUhtSMBQx+mw=="  # base64 of 16 binary bytes: not a SessionId text


def fresh_id():
    return str(uuid.uuid4())


def logon_reply(session_id, token=None, media="json", body=None):
    """EM's 201 to the logon: the token header and a LogonSession body (docs/em-api-facts.md 1.2)."""
    node = {"Links": [{"Rel": "Delete", "Href": "https://em:9398/api/logonSessions/%s" % session_id}],
            "UserName": "EM\\svc", "SessionId": session_id}
    if body is None:
        body = json.dumps(node).encode() if media == "json" else xml_doc("LogonSession", node)
    return lambda call: Reply(201, body, {"X-RestSvcSessionId": token or token_of(session_id)})


def listing(*session_ids):
    return json.dumps({"LogonSessions": [{"SessionId": sid, "UserName": "EM\\svc"} for sid in session_ids]}).encode()


def lists(*session_ids):
    body = listing(*session_ids)
    return lambda call: Reply(200, body) if call.path == "/api/logonSessions" else None


def deletes(fake):
    return [call.path.rsplit("/", 1)[-1] for call in fake.calls if call.method == "DELETE"]


# ---- logon ------------------------------------------------------------------------------------

@pytest.mark.parametrize("media", ["json", "xml"])
def test_logon_owns_the_session_and_reads_its_id_and_user(media):
    session_id = fresh_id()
    fake = FakeEM(media, logon=logon_reply(session_id, media=media))
    client = make_client(fake, media)
    assert client.logon() == token_of(session_id)
    assert client.token == token_of(session_id) and client.owns_session is True
    assert (client.logon_session_id, client.user_name) == (session_id, "EM\\svc")
    assert [call.method for call in fake.calls] == ["POST"]


@pytest.mark.parametrize("options", [{"username": None}, {"username": ""}, {"password": None}])
def test_logon_without_credentials_fails_before_any_request(options):
    fake = FakeEM("json")
    client = make_client(fake, **options)
    with pytest.raises(EMAuthError, match="username and password are required"):
        client.logon()
    assert fake.calls == [] and client.owns_session is False


def test_logon_without_a_token_header_owns_nothing():
    fake = FakeEM("json", logon=lambda call: Reply(201, listing(fresh_id())))
    client = make_client(fake)
    with pytest.raises(EMResponseError, match="without an X-RestSvcSessionId header"):
        client.logon()
    assert client.owns_session is False and client.token is None


@pytest.mark.parametrize("body", [b"<broken", b"{not json", b"\xff\xfe garbage"])
def test_an_unreadable_logon_body_still_owns_the_session_and_takes_the_id_from_the_token(body):
    session_id = fresh_id()
    fake = FakeEM("json", logon=logon_reply(session_id, body=body))
    client = make_client(fake)
    client.logon()
    assert client.owns_session is True and client.logon_session_id == session_id
    assert len(client.warnings) == 1 and "the logon response body could not be read" in client.warnings[0]


def test_logon_body_without_session_id_takes_it_from_the_delete_link():
    session_id = fresh_id()
    body = json.dumps({"UserName": "u", "Links": [
        {"Rel": "Delete", "Href": "https://em:9398/api/logonSessions/%s" % session_id}]}).encode()
    fake = FakeEM("json", logon=logon_reply(session_id, token=OPAQUE_TOKEN, body=body))
    client = make_client(fake)
    client.logon()
    assert client.logon_session_id == session_id


def test_logon_registers_token_and_session_id_for_scrubbing():
    session_id = fresh_id()
    fake = FakeEM("json", logon=logon_reply(session_id, token=OPAQUE_TOKEN + session_id[:4]))
    client = make_client(fake)
    text = "id %s, upper %s, token %s" % (session_id, session_id.upper(), client.logon())
    assert em_secrets.scrub(text) == "id ********, upper ********, token ********"


# ---- logoff -----------------------------------------------------------------------------------

def test_logoff_deletes_the_own_session_with_the_token_and_gives_up_ownership():
    session_id = fresh_id()
    fake = FakeEM("json", logon=logon_reply(session_id))
    client = make_client(fake)
    client.logon()
    assert client.logoff() is True
    delete = fake.calls[-1]
    assert (delete.method, delete.path) == ("DELETE", "/api/logonSessions/%s" % session_id)
    assert delete.headers["X-RestSvcSessionId"] == token_of(session_id)
    assert client.owns_session is False


@pytest.mark.parametrize("status", [401, 404])
def test_logoff_of_a_session_already_gone_is_false_not_an_error(status):
    fake = FakeEM("json", logon=logon_reply(fresh_id()), logoff=lambda call: Reply(status, b""))
    client = make_client(fake)
    client.logon()
    assert client.logoff() is False and client.owns_session is False


def test_logoff_failure_raises_and_still_gives_up_ownership():
    """No second DELETE from __exit__ after one that failed: close() turns this into a warning."""
    fake = FakeEM("json", logon=logon_reply(fresh_id()),
                  logoff=lambda call: Reply(500, error_body("json", 500, "db down")))
    client = make_client(fake, retries=0)
    client.logon()
    with pytest.raises(EMServerError, match="db down"):
        client.logoff()
    assert client.owns_session is False


def test_logoff_is_retried_as_an_idempotent_request():
    answers = [Reply(503, b""), Reply(204)]
    fake = FakeEM("json", logon=logon_reply(fresh_id()), logoff=lambda call: answers.pop(0))
    client = make_client(fake, retries=1)
    client.logon()
    assert client.logoff() is True and fake.logoffs == 2


def test_logoff_of_another_session_keeps_the_own_one():
    fake = FakeEM("json", logon=logon_reply(fresh_id()))
    client = make_client(fake)
    client.logon()
    assert client.logoff(OTHER_ID) is True
    assert deletes(fake) == [OTHER_ID] and client.owns_session is True


def test_logoff_without_a_known_id_asks_logon_sessions_first():
    session_id = fresh_id()
    fake = FakeEM("json", lists(OTHER_ID, session_id), logon=logon_reply(session_id))
    client = make_client(fake)
    client.logon()
    client._session.logon_session_id = None  # as after a logon whose id could not be read at all
    assert client.logoff() is True
    assert deletes(fake) == [session_id] and client.owns_session is False


# ---- logoff_token (veeam_em_session state=absent) ----------------------------------------------

def test_logoff_token_of_a_base64_session_id_is_one_delete():
    fake = FakeEM("json")
    client = make_client(fake, session_id=TOKEN, username=None, password=None)
    assert client.logoff_token() == (True, SESSION_ID)
    assert [(call.method, call.path) for call in fake.calls] == [("DELETE", "/api/logonSessions/%s" % SESSION_ID)]


def test_logoff_token_of_an_expired_session_is_not_closed():
    fake = FakeEM("json", logoff=lambda call: Reply(401, b""))
    client = make_client(fake, session_id=TOKEN, username=None, password=None)
    assert client.logoff_token() == (False, SESSION_ID)
    assert len(fake.calls) == 1


def test_logoff_token_looks_the_session_up_when_the_decoded_id_is_unknown():
    # the token decodes to a GUID that EM does not know (404): the listing says which session is ours
    token = token_of(OTHER_ID)
    listing_body = json.dumps({"LogonSessions": [{"SessionId": SESSION_ID, "UserName": "u"}]}).encode()
    fake = FakeEM("json", lambda call: Reply(200, listing_body) if call.path == "/api/logonSessions" else None,
                  logoff=lambda call: Reply(404, b"") if OTHER_ID in call.path else Reply(204))
    client = make_client(fake, session_id=token, username=None, password=None)
    assert client.logoff_token() == (True, SESSION_ID)
    assert deletes(fake) == [OTHER_ID, SESSION_ID]


def test_logoff_token_of_an_opaque_token_asks_logon_sessions():
    fake = FakeEM("json", lists(SESSION_ID))
    client = make_client(fake, session_id=OPAQUE_TOKEN, username=None, password=None)
    assert client.logoff_token() == (True, SESSION_ID)
    assert [call.method for call in fake.calls] == ["GET", "DELETE"]


def test_logoff_token_whose_listing_answers_401_was_already_gone():
    fake = FakeEM("json", lambda call: Reply(401, b""))
    client = make_client(fake, session_id=OPAQUE_TOKEN, username=None, password=None)
    assert client.logoff_token() == (False, None)
    assert fake.logoffs == 0


# ---- current_logon_session ---------------------------------------------------------------------

def test_current_logon_session_picks_the_one_of_this_token_among_many():
    fake = FakeEM("json", lists(OTHER_ID, SESSION_ID, fresh_id()))
    client = make_client(fake, session_id=TOKEN, username=None, password=None)
    assert client.current_logon_session() == (SESSION_ID, "EM\\svc")


def test_current_logon_session_takes_the_only_one_listed():
    fake = FakeEM("json", lists(OTHER_ID))
    client = make_client(fake, session_id=OPAQUE_TOKEN, username=None, password=None)
    assert client.current_logon_session() == (OTHER_ID, "EM\\svc")


def test_current_logon_session_matches_the_decoded_guid_ignoring_case():
    fake = FakeEM("json", lists(OTHER_ID.upper(), SESSION_ID.upper()))
    client = make_client(fake, session_id=TOKEN, username=None, password=None)
    assert client.current_logon_session()[0] == SESSION_ID.upper()


def test_current_logon_session_reads_the_xml_listing():
    body = ('<?xml version="1.0" encoding="utf-8"?><LogonSessions xmlns="http://www.veeam.com/ent/v1.0">'
            '<LogonSession><UserName>a</UserName><SessionId>%s</SessionId></LogonSession>'
            '<LogonSession><UserName>b</UserName><SessionId>%s</SessionId></LogonSession></LogonSessions>'
            % (OTHER_ID, SESSION_ID)).encode()
    fake = FakeEM("xml", lambda call: Reply(200, body) if call.path == "/api/logonSessions" else None)
    client = make_client(fake, "xml", session_id=TOKEN, username=None, password=None)
    assert client.current_logon_session() == (SESSION_ID, "b")


@pytest.mark.parametrize("listed", [(), (OTHER_ID, "6b1e1f57-1111-4222-8333-944455556666")])
def test_current_logon_session_that_cannot_be_told_is_an_error_naming_no_session(listed):
    fake = FakeEM("json", lists(*listed))
    client = make_client(fake, session_id=OPAQUE_TOKEN, username=None, password=None)
    with pytest.raises(EMResponseError) as error:
        client.current_logon_session()
    text = str(error.value)
    assert "cannot tell which of %d logon sessions belongs to this token" % len(listed) in text
    assert not any(sid in text for sid in listed) and OPAQUE_TOKEN not in text


def test_current_logon_session_registers_the_found_id_for_scrubbing():
    session_id = fresh_id()
    fake = FakeEM("json", lists(session_id))
    client = make_client(fake, session_id=OPAQUE_TOKEN, username=None, password=None)
    client.current_logon_session()
    assert em_secrets.scrub("logoff of %s" % session_id) == "logoff of ********"


# ---- relogon / with_relogon ---------------------------------------------------------------------

class _TwoLogons:
    """Logon handler handing out two fresh sessions in turn."""

    def __init__(self):
        self.ids = [fresh_id(), fresh_id()]
        self.handed = 0

    def __call__(self, call):
        session_id = self.ids[self.handed]
        self.handed += 1
        return logon_reply(session_id)(call)


class _Info:
    relogons = 0


def test_with_relogon_logs_off_the_old_session_logs_on_again_and_repeats_once():
    logons = _TwoLogons()
    fake = FakeEM("json", logon=logons)
    client = make_client(fake)
    client.logon()
    answers = [EMAuthError("HTTP 401", status=401), "result"]

    def call():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
    info = _Info()
    assert client.with_relogon(call, info) == "result"
    assert info.relogons == 1 and fake.logons == 2
    assert deletes(fake) == [logons.ids[0]]
    assert client.token == token_of(logons.ids[1]) and client.logon_session_id == logons.ids[1]
    assert client.owns_session is True


def test_with_relogon_raises_the_second_401():
    fake = FakeEM("json", logon=_TwoLogons())
    client = make_client(fake)
    client.logon()

    def call():
        raise EMAuthError("HTTP 401", status=401)
    with pytest.raises(EMAuthError):
        client.with_relogon(call)
    assert fake.logons == 2


def test_with_relogon_of_a_given_session_id_never_logs_on():
    fake = FakeEM("json")
    client = make_client(fake, session_id=TOKEN)

    def call():
        raise EMAuthError("HTTP 401", status=401)
    with pytest.raises(EMAuthError):
        client.with_relogon(call)
    assert fake.calls == []


def test_with_relogon_leaves_other_errors_alone():
    fake = FakeEM("json", logon=_TwoLogons())
    client = make_client(fake)
    client.logon()

    def call():
        raise EMServerError("HTTP 500", status=500)
    with pytest.raises(EMServerError):
        client.with_relogon(call)
    assert fake.logons == 1 and fake.logoffs == 0


def test_relogon_logs_on_even_when_the_old_logoff_fails():
    logons = _TwoLogons()
    fake = FakeEM("json", logon=logons, logoff=lambda call: Reply(500, b""))
    client = make_client(fake, retries=0)
    client.logon()
    client._session.relogon()
    assert fake.logons == 2 and client.token == token_of(logons.ids[1]) and client.owns_session is True


# ---- close and every path out of ``with client`` ------------------------------------------------

def test_close_logs_off_even_after_the_deadline_passed():
    session_id = fresh_id()
    fake = FakeEM("json", logon=logon_reply(session_id))
    client = make_client(fake, deadline=60)
    client.logon()
    client.deadline_at = time.monotonic() - 1  # the deadline is what ended the call
    client.close_session()
    assert deletes(fake) == [session_id] and client.warnings == []


def test_close_turns_a_logoff_failure_into_a_warning_without_the_session_id():
    session_id = fresh_id()
    # requests' ConnectionError text names the URL, and so the SessionId in the DELETE path
    fake = FakeEM("json", logon=logon_reply(session_id), logoff=lambda call: Reply(
        exc=requests.exceptions.ConnectionError("Max retries exceeded with url: %s" % call.path)))
    client = make_client(fake, retries=0)
    client.logon()
    client.close_session()
    assert len(client.warnings) == 1 and client.warnings[0].startswith("logoff of the EM session failed: ")
    assert session_id not in client.warnings[0] and "/api/logonSessions/********" in client.warnings[0]
    assert client.owns_session is False


@pytest.mark.parametrize("exc", [EMServerError("HTTP 500"), RuntimeError("bug"), KeyboardInterrupt()])
def test_with_client_logs_off_on_every_exception(exc):
    session_id = fresh_id()
    fake = FakeEM("json", logon=logon_reply(session_id))
    with pytest.raises(type(exc)):
        with make_client(fake):
            raise exc
    assert deletes(fake) == [session_id]


def test_with_client_of_a_given_session_id_never_logs_off():
    fake = FakeEM("json", lambda call: Reply(200, b"{}"))
    with make_client(fake, session_id=TOKEN) as client:
        client.get("/api/x", None)
    assert fake.logons == 0 and fake.logoffs == 0


# ---- StopGuard: SIGTERM / SIGHUP ----------------------------------------------------------------

@pytest.fixture
def own_handlers():
    """Restores whatever SIGTERM/SIGHUP handlers were set before the test, whatever the test did.

    Signal handlers can only be set in the main thread: a runner that runs tests elsewhere would get
    no handler and the SIGTERM would end it, so these tests are skipped there (pytest-xdist runs
    them in its workers' main thread)."""
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover
        pytest.skip("signal handlers need the main thread")
    before = {number: signal.getsignal(number) for number in em_logon.STOP_SIGNALS}
    yield before
    for number, handler in before.items():
        signal.signal(number, handler)


def _stop(call):
    os.kill(os.getpid(), signal.SIGTERM)  # the handler runs in this (main) thread before kill returns
    return Reply(200, b"{}")


@pytest.mark.parametrize("number", em_logon.STOP_SIGNALS)
def test_a_stop_signal_raises_in_the_main_thread_and_the_session_is_logged_off(own_handlers, number):
    session_id = fresh_id()

    def stop(call):
        os.kill(os.getpid(), number)
        return Reply(200, b"{}")
    fake = FakeEM("json", stop, logon=logon_reply(session_id))
    with pytest.raises(EMTerminated) as error:
        with make_client(fake) as client:
            client.get("/api/x", None)
            pytest.fail("the signal did not stop the call")  # pragma: no cover
    assert "stopped by signal %d (%s)" % (number, signal.Signals(number).name) in str(error.value)
    assert deletes(fake) == [session_id]
    assert signal.getsignal(number) == own_handlers[number]  # the previous handler is back


def test_a_second_signal_while_logging_off_lets_the_logoff_finish(own_handlers):
    session_id = fresh_id()
    fake = FakeEM("json", _stop, logon=logon_reply(session_id), logoff=_stop_then(204))
    with pytest.raises(EMTerminated):
        with make_client(fake) as client:
            client.get("/api/x", None)
    assert deletes(fake) == [session_id] and client.warnings == []


def test_a_first_signal_during_the_final_logoff_gets_the_logoff_repeated(own_handlers):
    """The signal cuts the DELETE short (on a real socket EM may never see it): it is sent again,
    with further signals ignored, and the call's own result stands, with a warning."""
    session_id = fresh_id()
    fake = FakeEM("json", lambda call: Reply(200, b"{}"), logon=logon_reply(session_id), logoff=_stop_then(204))
    with make_client(fake) as client:
        client.get("/api/x", None)
    assert deletes(fake) == [session_id, session_id] and client.owns_session is False
    assert client.warnings == ["a stop signal arrived while logging off the EM session; the logoff was repeated"]


def test_a_signal_during_the_relogon_logoff_stops_the_call_without_a_new_session(own_handlers):
    session_id = fresh_id()
    fake = FakeEM("json", logon=logon_reply(session_id), logoff=_stop_then(204))

    def expired():
        raise EMAuthError("HTTP 401", status=401)
    with pytest.raises(EMTerminated):
        with make_client(fake) as client:
            client.with_relogon(expired)
    assert fake.logons == 1 and deletes(fake) == [session_id, session_id]


def _stop_then(status):
    def handler(call):
        _stop(call)
        return Reply(status)
    return handler


def test_stop_guard_restores_the_previous_handlers(own_handlers):
    marker = []
    signal.signal(signal.SIGTERM, lambda number, frame: marker.append(number))
    previous = signal.getsignal(signal.SIGTERM)
    guard = StopGuard()
    guard.catch()
    assert signal.getsignal(signal.SIGTERM) != previous
    guard.restore()
    assert signal.getsignal(signal.SIGTERM) == previous
    os.kill(os.getpid(), signal.SIGTERM)
    assert marker == [signal.SIGTERM]


def test_stop_guard_outside_the_main_thread_changes_nothing(own_handlers):
    guard = StopGuard()
    worker = threading.Thread(target=guard.catch)
    worker.start()
    worker.join()
    assert {number: signal.getsignal(number) for number in em_logon.STOP_SIGNALS} == own_handlers


# ---- token_of / guid_from_token -----------------------------------------------------------------

def test_token_of_is_base64_of_the_session_id_text():
    assert token_of(SESSION_ID) == TOKEN == base64.b64encode(SESSION_ID.encode()).decode()


def test_token_of_a_non_ascii_id_does_not_raise():
    assert base64.b64decode(token_of("caf\u00e9")) == b"caf?"


@pytest.mark.parametrize("token, expected", [
    (TOKEN, SESSION_ID),
    (token_of(SESSION_ID.upper()), SESSION_ID),                      # lower-cased like every GUID here
    (token_of("{%s}" % SESSION_ID), SESSION_ID),
    (OPAQUE_TOKEN, None),                                            # binary: not a SessionId text
    (token_of("hello world"), None),                                 # text, but no GUID in it
    ("not base64!", None), ("", None), (None, None), (TOKEN[:-2], None),  # truncated padding
])
def test_guid_from_token(token, expected):
    assert guid_from_token(token) == expected


# ---- no secret in a repr ------------------------------------------------------------------------

def test_no_session_id_or_token_in_the_repr_of_session_client_or_errors():
    session_id = fresh_id()
    fake = FakeEM("json", logon=logon_reply(session_id), logoff=lambda call: Reply(500, b""))
    client = make_client(fake, retries=0)
    token = client.logon()
    with pytest.raises(EMError) as error:
        client.logoff()
    texts = [repr(client._session), repr(client), repr(error.value), str(error.value), error.value.request]
    assert error.value.request == em_logon.LOGOFF_DESCRIBE
    assert not [text for text in texts if session_id in text or token in text]
    assert isinstance(client._session, LogonSession)


# ---- attack, session 15: a logon interrupted while its answer is read --------------------------

class _InterruptingBody(io.BytesIO):
    def __init__(self, body, interrupt):
        super().__init__(body)
        self.interrupt = interrupt

    def read(self, *args, **kwargs):
        self.interrupt()
        return super().read(*args, **kwargs)


class LogonBodyInterrupted(FakeEM):
    """EM answers the logon 201 with its token; the stop arrives while the body is read."""

    def __init__(self, interrupt, **kwargs):
        super().__init__("json", lambda call: Reply(200, b"{}"), **kwargs)
        self.interrupt = interrupt

    def build(self, request, reply):
        response = super().build(request, reply)
        if request.method == "POST" and request.path_url.startswith("/api/sessionMngr/"):
            response.raw = _InterruptingBody(reply.body, self.interrupt)
        return response


def _sigterm():
    os.kill(os.getpid(), signal.SIGTERM)  # StopGuard's handler raises EMTerminated here (main thread)


def _ctrl_c():
    raise KeyboardInterrupt()


INTERRUPTS = [(_sigterm, EMTerminated), (_ctrl_c, KeyboardInterrupt)]


@pytest.mark.parametrize("interrupt, expected", INTERRUPTS)
def test_a_session_created_by_an_interrupted_logon_is_logged_off(own_handlers, interrupt, expected):
    """Found (attack, session 15): SIGTERM (EMTerminated) or Ctrl-C while the logon's body was read escaped
    before LogonSession.logon kept the token (_read_body kept it only for read errors), and __exit__ never
    runs when __enter__ raises: the session EM had created stayed open. Now the client owns it the moment
    EM answered 201 with a token, and __enter__ logs it off before the interruption goes on."""
    session_id = fresh_id()
    fake = LogonBodyInterrupted(interrupt, logon=logon_reply(session_id))
    with pytest.raises(expected):
        with make_client(fake):
            pass  # pragma: no cover
    assert fake.logons == 1
    assert deletes(fake) == [session_id], "EM created session %s and it was never logged off" % session_id


@pytest.mark.parametrize("interrupt, expected", INTERRUPTS)
def test_an_interrupted_logon_outside_a_with_leaves_the_session_to_close_session(own_handlers, interrupt, expected):
    """The EDA source logs on without ``with`` and closes with close_session: the session is owned for it."""
    session_id = fresh_id()
    fake = LogonBodyInterrupted(interrupt, logon=logon_reply(session_id))
    client = make_client(fake)
    with client.guarded():
        with pytest.raises(expected):
            client.logon()
    assert client.owns_session and client.logon_session_id == session_id
    client.close_session()
    assert deletes(fake) == [session_id] and not client.owns_session


@pytest.mark.parametrize("interrupt, expected", INTERRUPTS)
def test_veeam_em_session_logs_off_a_session_its_interrupted_logon_created(own_handlers, monkeypatch, interrupt,
                                                                           expected):
    """veeam_em_session state=present: its result is the token; stopped before it is returned, the session is
    logged off (Ctrl-C included, which the module's EMError handler did not see)."""
    from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_session
    from unit.plugins.modules.module_runner import CONNECTION, install_fake, patch_module_args
    session_id = fresh_id()
    fake = LogonBodyInterrupted(interrupt, logon=logon_reply(session_id))
    install_fake(monkeypatch, fake)
    monkeypatch.delenv("VEEAM_EM_SESSION_ID", raising=False)
    with patch_module_args(dict(CONNECTION, state="present")):
        with pytest.raises((expected, SystemExit)):
            veeam_em_session.main()
    assert deletes(fake) == [session_id]
