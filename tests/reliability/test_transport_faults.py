"""Transport faults against the real client (direct calls: exact counts), one fault kind per case.

Each case either recovers (bounded retries with back-off, one re-logon) with a result identical to
the fault-free one, or fails with one clear EMError naming the request; never another exception,
never a partial list. The module-level view of the same faults is in test_module_faults.py.
"""
import time

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMAuthError, EMError, EMResponseError, EMServerError, EMTransportError)
from emulator.harness import Emulator
from reliability.support import (
    PASSWORD, USERNAME, assert_every_fault_fired, compare, dataset_uids, expected_backoffs, query, secret_hits)

Q = "/api/query"
LOGON = "/api/sessionMngr"
LOGOFF = "/api/logonSessions"

# (id, fault spec, media, client overrides, check(info, warnings, sleeps) -> None)
RECOVERS = [
    ("503-burst-x3", {"kind": "status", "status": 503, "count": 3, "path": Q}, "json", {},
     lambda info, warnings, sleeps: _assert(info["requests"] == info["pages"] + 3 and sleeps[:3] == [0.05, 0.1, 0.2])),
    ("502-burst-x2", {"kind": "status", "status": 502, "count": 2, "path": Q, "skip": 1}, "xml", {},
     lambda info, warnings, sleeps: _assert(info["requests"] == info["pages"] + 2)),
    ("504-x1", {"kind": "status", "status": 504, "count": 1, "path": Q, "skip": 3}, "json", {},
     lambda info, warnings, sleeps: _assert(info["requests"] == info["pages"] + 1)),
    ("503-retry-after", {"kind": "status", "status": 503, "count": 1, "path": Q, "retry_after": 7}, "json", {},
     lambda info, warnings, sleeps: _assert(sleeps == [7.0])),
    ("reset-x2", {"kind": "reset", "count": 2, "path": Q, "skip": 1}, "json", {},
     lambda info, warnings, sleeps: _assert(info["requests"] == info["pages"] + 2)),
    # A wide margin (3 s timeout, 8 s delay): under load a healthy request must not time out too,
    # or the exact request count below would be off by one.
    ("timeout-x1", {"kind": "delay", "seconds": 8, "count": 1, "path": Q, "skip": 2}, "json", {"timeout": 3.0},
     lambda info, warnings, sleeps: _assert(info["requests"] == info["pages"] + 1)),
    ("truncated-json-x2", {"kind": "truncate", "count": 2, "path": Q, "skip": 1}, "json", {},
     lambda info, warnings, sleeps: _assert(info["requests"] == info["pages"] + 2)),
    ("truncated-xml-x1", {"kind": "truncate", "count": 1, "path": Q}, "xml", {},
     lambda info, warnings, sleeps: _assert(info["requests"] == info["pages"] + 1)),
    ("bom-on-every-json-body", {"kind": "bom"}, "json", {},
     lambda info, warnings, sleeps: _assert(info["requests"] == info["pages"])),
    ("session-expiry-mid-paging", {"kind": "expire_session", "count": 1, "path": Q, "skip": 3}, "json", {},
     lambda info, warnings, sleeps: _assert(info["relogons"] == 1)),
    ("session-expiry-mid-paging-xml-sequential", {"kind": "expire_session", "count": 1, "path": Q, "skip": 5},
     "xml", {"concurrency": 1}, lambda info, warnings, sleeps: _assert(info["relogons"] == 1)),
    ("spurious-401-live-session", {"kind": "status", "status": 401, "count": 1, "path": Q, "skip": 2}, "json", {},
     lambda info, warnings, sleeps: _assert(info["relogons"] == 1)),
    ("truncated-logon-body", {"kind": "truncate", "count": 1, "path": LOGON}, "json", {},
     lambda info, warnings, sleeps: _assert(any("logon response body" in w for w in warnings))),
    ("malformed-logon-body", {"kind": "malformed", "count": 1, "path": LOGON}, "xml", {},
     lambda info, warnings, sleeps: _assert(any("logon response body" in w for w in warnings))),
    ("reset-x2-on-logoff", {"kind": "reset", "count": 2, "path": LOGOFF, "method": "DELETE"}, "json", {},
     lambda info, warnings, sleeps: _assert(not warnings)),
    ("503-x2-on-logoff", {"kind": "status", "status": 503, "count": 2, "path": LOGOFF, "method": "DELETE"}, "json",
     {}, lambda info, warnings, sleeps: _assert(not warnings)),
    ("bad-night-mix", [{"kind": "status", "status": 503, "count": 2, "path": Q, "skip": 1},
                       {"kind": "reset", "count": 1, "path": Q, "skip": 4},
                       {"kind": "truncate", "count": 1, "path": Q, "skip": 6},
                       {"kind": "bom"},
                       {"kind": "expire_session", "count": 1, "path": Q, "skip": 9},
                       {"kind": "status", "status": 502, "count": 1, "path": LOGOFF}], "json", {},
     lambda info, warnings, sleeps: _assert(info["relogons"] == 1 and len(sleeps) == 5)),
]

# (id, fault spec, media, client overrides, error class, text in the message)
FAILS = [
    ("503-forever", {"kind": "status", "status": 503, "count": -1, "path": Q, "skip": 2}, "json", {},
     EMServerError, "HTTP 503"),
    ("500-not-retried", {"kind": "status", "status": 500, "path": Q, "skip": 1,
                         "message": "Object reference not set to an instance of an object."}, "xml", {},
     EMServerError, "EM says: Object reference not set"),
    ("reset-forever", {"kind": "reset", "count": -1, "path": Q, "skip": 1}, "json", {},
     EMTransportError, "cannot reach"),
    ("timeout-forever", {"kind": "delay", "seconds": 1.5, "count": -1, "path": Q, "skip": 1}, "json",
     {"timeout": 0.5, "retries": 1}, EMTransportError, "no answer from"),
    ("truncated-forever", {"kind": "truncate", "count": -1, "path": Q, "skip": 1}, "xml", {},
     EMTransportError, "IncompleteRead"),
    ("malformed-json", {"kind": "malformed", "count": 1, "path": Q, "skip": 1}, "json", {},
     EMResponseError, "JSON response cannot be parsed"),
    ("malformed-xml", {"kind": "malformed", "count": 1, "path": Q}, "xml", {},
     EMResponseError, "XML response cannot be parsed"),
    ("session-expires-twice", {"kind": "expire_session", "count": 2, "path": Q, "skip": 1}, "json",
     {"concurrency": 1}, EMAuthError, "HTTP 401"),
    ("503-on-logon", {"kind": "status", "status": 503, "count": 1, "path": LOGON}, "json", {},
     EMServerError, "POST /api/sessionMngr/ (logon) failed: HTTP 503"),
    ("reset-on-logon", {"kind": "reset", "count": 1, "path": LOGON}, "json", {},
     EMTransportError, "POST /api/sessionMngr/ (logon) failed"),
    ("401-on-logon", {"kind": "status", "status": 401, "count": 1, "path": LOGON}, "xml", {},
     EMAuthError, "check username and password"),
    ("billion-laughs-xml", {"kind": "billion_laughs", "path": Q, "skip": 1}, "xml", {},
     EMResponseError, "DOCTYPE/ENTITY declaration; refused"),
    ("billion-laughs-to-json-client", {"kind": "billion_laughs", "path": Q}, "json", {},
     EMResponseError, "DOCTYPE/ENTITY declaration; refused"),
]


def _assert(condition):
    assert condition


def _fault_kinds(spec):
    return ",".join(sorted({f["kind"] for f in (spec if isinstance(spec, list) else [spec])}))


@pytest.fixture(scope="module")
def baselines(em):
    """The fault-free answers (json and xml), checked against the dataset once."""
    answers = {}
    for media in ("json", "xml"):
        items, info, warnings = query(em, media=media)
        answers[media] = items
    assert answers["json"] == answers["xml"]
    uids = dataset_uids(em.dataset())
    assert sorted(item["uid"] for item in answers["json"]) == sorted(uids) and len(uids) > 60
    return answers


@pytest.mark.parametrize("name, spec, media, overrides, check", RECOVERS, ids=[case[0] for case in RECOVERS])
def test_fault_is_survived_with_complete_results(em, baselines, ledger, name, spec, media, overrides, check):
    em.reset_stats()
    em.set_faults(spec)
    sleeps = []
    items, info, warnings = query(em, media=media, sleeps=sleeps, **overrides)
    stats = em.stats()
    faults = em.faults_state()["faults"]
    lost, duplicated, changed = compare(baselines[media], items)
    hits = secret_hits(" ".join(warnings) + repr(info), {"password": PASSWORD, "token": query.last_client.token})
    ledger(_fault_kinds(spec) + " (%s)" % name, "recovered: complete, identical result", "recovered",
           faults_injected=stats["faults_injected"], items_expected=len(baselines[media]),
           items_lost=len(lost), items_duplicated=len(duplicated), secrets_leaked=sum(hits.values()))
    assert not hits, hits
    assert_every_fault_fired({"faults": faults})  # each fault of the spec, its exact count
    assert not lost and not duplicated and not changed
    assert items == baselines[media]  # same items, same order
    assert len(sleeps) == expected_backoffs(faults), (sleeps, faults)  # each failure retried once
    check(info, warnings, sleeps)
    assert stats["sessions_created"] == stats["sessions_deleted"] + stats["sessions_expired"]


@pytest.mark.parametrize("name, spec, media, overrides, error_class, text", FAILS, ids=[case[0] for case in FAILS])
def test_fault_fails_cleanly(em, ledger, name, spec, media, overrides, error_class, text):
    em.reset_stats()
    em.set_faults(spec)
    with pytest.raises(EMError) as raised:
        query(em, media=media, **overrides)
    stats = em.stats()
    faults = em.faults_state()["faults"]
    error = raised.value
    message = str(error)
    hits = secret_hits(message, {"password": PASSWORD, "token": query.last_client.token})
    ledger(_fault_kinds(spec) + " (%s)" % name, "fails: %s" % error_class.__name__, "failed_cleanly",
           faults_injected=stats["faults_injected"], secrets_leaked=sum(hits.values()))
    assert_every_fault_fired({"faults": faults})  # a forever fault at least once, others exactly
    assert isinstance(error, error_class), (type(error), message)
    assert text in message, message
    assert " failed: " in message and "\n" not in message and "Traceback" not in message
    assert not hits, hits


def test_huge_body_is_refused_at_the_cap_without_reading_it_all(em, ledger):
    """A valid but enormous 200 body: refused once the cap is passed (here 1 MiB of a 6 MiB body;
    the modules use 64 MiB, see test_module_faults.py)."""
    em.reset_stats()
    em.set_faults({"kind": "huge_body", "size_mb": 6, "path": Q})
    client_query_error = None
    try:
        query_with_cap(em, 1024 * 1024)
    except EMError as error:
        client_query_error = error
    stats = em.stats()
    ledger("huge_body (6 MiB, cap 1 MiB)", "fails: EMResponseError, body not buffered past the cap", "failed_cleanly",
           faults_injected=stats["faults_injected"])
    assert isinstance(client_query_error, EMResponseError)
    assert "exceeds 1048576 bytes; refused" in str(client_query_error)


def query_with_cap(em, cap):
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_client import EMClient
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import BACKUP_TASK_SESSION
    from reliability.support import options
    client = EMClient(options(em), max_body=cap)
    with client:
        return client.query(BACKUP_TASK_SESSION, None, "CreationTime", "desc", 10)


# ---- the two cases where EM keeps a session the client cannot close -------------------------------

@pytest.fixture
def short_idle_em():
    """A private emulator whose sessions expire after 2 s idle (EM: 15 min)."""
    with Emulator(tls=True, username=USERNAME, password=PASSWORD, session_idle_seconds=2, vms=5, days=1,
                  seed=3) as emulator:
        yield emulator


def test_logon_timeout_orphan_is_unavoidable_and_expires(short_idle_em, ledger):
    """The logon request times out, then EM creates the session anyway: the client never saw the
    token, so nobody can log it off. It fails cleanly and the session dies at EM's idle timeout."""
    em = short_idle_em
    em.set_faults({"kind": "delay", "seconds": 1.2, "path": LOGON})
    with pytest.raises(EMTransportError) as raised:
        query(em, timeout=0.4)
    assert "POST /api/sessionMngr/ (logon) failed: no answer" in str(raised.value)
    # counters, not instants: the delayed handler creates the session after the client gave up,
    # then EM's idle timeout (2 s here) removes it
    wait_until(lambda stats: stats["sessions_created"] == 1, em)
    stats = wait_until(lambda stats: stats["open_sessions"] == 0, em)
    orphaned = stats["sessions_created"] - stats["sessions_deleted"]
    ledger("delay on logon > timeout", "fails: EMTransportError; EM-side session expires idle", "failed_cleanly",
           faults_injected=stats["faults_injected"], sessions_orphaned=orphaned,
           note="the client never received the token")
    assert orphaned == 1 and stats["open_sessions"] == 0 and stats["sessions_expired"] == 1


def wait_until(condition, em, seconds=15.0):
    deadline = time.monotonic() + seconds
    while True:
        stats = em.stats()
        if condition(stats) or time.monotonic() > deadline:
            return stats
        time.sleep(0.1)


def test_logoff_unreachable_keeps_results_warns_and_session_expires(short_idle_em, ledger):
    em = short_idle_em
    expected = query(em)[0]
    em.reset_stats()
    em.set_faults({"kind": "reset", "count": -1, "path": LOGOFF, "method": "DELETE"})
    items, info, warnings = query(em)
    em.clear_faults()
    stats = wait_until(lambda stats: stats["open_sessions"] == 0, em)
    orphaned = stats["sessions_created"] - stats["sessions_deleted"]
    ledger("reset on every logoff", "results complete; warning 'logoff ... failed'; EM expires the session",
           "recovered", faults_injected=stats["faults_injected"], items_expected=len(expected),
           items_lost=len(compare(expected, items)[0]), sessions_orphaned=orphaned,
           note="EM unreachable for the DELETE")
    assert items == expected
    assert warnings and "logoff of the EM session failed" in warnings[0]
    assert orphaned == 1 and stats["open_sessions"] == 0 and stats["sessions_expired"] == 1
