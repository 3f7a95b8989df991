"""One test per behaviour docs/em-api-facts.md marks [UNCONFIRMED]: the emulator's pinned choice.

If EM is ever observed to behave differently, change the emulator and the matching test here
(and the list in tests/emulator/README.md).
"""
import pytest

from emulator import auth
from emulator.filterexpr import compile_filter, parse
from emulator.harness import Emulator
from emulator.querydefs import TASK_SESSION_FIELDS

from .conftest import EM, NOW, NS, V, paging_info, query_items, xml


@pytest.fixture(scope="module")
def em():
    with Emulator(vms=25, days=3, seed=17, now=NOW) as e:
        yield e


def test_unconfirmed_unknown_logon_version_is_400(em, c):
    r = c.http.post(em.api_url + "/sessionMngr/?v=v2_0", auth=(em.username, em.password), verify=c.verify)
    assert r.status_code == 400


def test_unconfirmed_failed_logon_has_error_body(em, c):
    r = c.http.post(em.api_url + "/sessionMngr/?v=latest", auth=("emadmin", "nope"), verify=c.verify)
    assert r.status_code == 401 and xml(r).tag == V + "Error" and xml(r).get("StatusCode") == "401"


def test_unconfirmed_logon_sessions_lists_only_the_callers_session(em, c):
    other = EM(em)
    root = xml(c.get("/logonSessions"))
    assert [s.find("v:SessionId", NS).text for s in root] == [c.session_id]
    assert c.get("/logonSessions/" + other.session_id).status_code == 404
    other.close()


def test_unconfirmed_and_binds_tighter_than_or():
    class Item:
        def __init__(self, result, size):
            self.result, self.total_size = result, size
    items = [Item("Failed", 0), Item("Success", 5), Item("Success", 0)]
    pred = compile_filter(parse("Result==Failed,Result==Success;TotalSize==5"), TASK_SESSION_FIELDS, "x")
    assert [i.result for i in items if pred(i)] == ["Failed", "Success"]


def test_unconfirmed_quotes_protect_separators(c):
    r = c.get("/query", params={"type": "BackupTaskSession", "filter": 'VmDisplayName=="cache;02"'})
    assert r.status_code == 200 and query_items(r)
    r = c.get("/query", params={"type": "BackupTaskSession", "filter": 'VmDisplayName=="app,frontend"'})
    assert r.status_code == 200 and query_items(r)


def test_unconfirmed_string_comparison_is_case_insensitive(c):
    a = query_items(c.query(type="BackupTaskSession", filter='VmDisplayName=="DB SERVER 01"'))
    b = query_items(c.query(type="BackupTaskSession", filter='VmDisplayName=="db server 01"'))
    assert a == b and a


def test_unconfirmed_state_enum_order_is_documented_order(c):
    lt = query_items(c.query(type="BackupTaskSession", filter="State<Completed", pageSize=1000))
    assert lt and {x["Name"] for x in lt} == {x["Name"] for x in query_items(c.query(
        type="BackupTaskSession", filter="State==InProgress,State==Pending", pageSize=1000))}


def test_unconfirmed_unzoned_datetime_is_utc(c):
    a = query_items(c.query(type="BackupTaskSession", filter="CreationTime>=2025-06-04T00:00:00", pageSize=1000))
    b = query_items(c.query(type="BackupTaskSession", filter='CreationTime>="2025-06-04T00:00:00Z"', pageSize=1000))
    assert a == b and a


def test_unconfirmed_unknown_type_400_and_unmodelled_type_501(c):
    assert c.get("/query", params={"type": "Gizmo"}).status_code == 400
    assert c.get("/query", params={"type": "CloudTenant"}).status_code == 501


def test_unconfirmed_format_entity_singular_rejected_by_query(c):
    assert c.get("/query", params={"type": "BackupTaskSession", "format": "Entity"}).status_code == 400


def test_unconfirmed_default_page_size_100(c):
    assert paging_info(c.query(type="BackupTaskSession"))[1] == 100


def test_unconfirmed_page_size_zero_400_and_page_past_end_empty(c):
    assert c.get("/query", params={"type": "BackupTaskSession", "pageSize": 0}).status_code == 400
    r = c.query(type="BackupTaskSession", pageSize=10, page=10 ** 6)
    assert query_items(r) == []


def test_unconfirmed_empty_result_has_zero_pages(c):
    r = c.query(type="BackupTaskSession", filter="VmDisplayName==none-such")
    assert paging_info(r)[2] == 0


def test_unconfirmed_query_is_not_limited_to_30_days(em, c):
    em.set_clock("2025-08-05T12:00:00Z")     # everything is now older than 30 days
    try:
        assert len(xml(c.get("/backupTaskSessions"))) == 0
        assert query_items(c.query(type="BackupTaskSession", pageSize=5))
    finally:
        em.set_clock(NOW)


def test_unconfirmed_running_task_session_has_no_result_or_end(c):
    r = c.query(type="BackupTaskSession", format="Entities", filter="State==InProgress")
    ent = xml(r).find("v:Entities/v:BackupTaskSessions/v:BackupTaskSession", NS)
    # no Result; as EM 13 (the default) the end is the 1900 placeholder (facts 6), EM 12 omits it
    # (test_em_versions.py)
    assert ent.find("v:Result", NS) is None and ent.find("v:EndTimeUTC", NS).text == "1900-01-01T00:00:00Z"


def test_unconfirmed_unknown_logon_session_id_is_404_not_500(c):
    assert c.get("/logonSessions/00000000-0000-4000-8000-000000000000").status_code == 404


def test_unconfirmed_no_absolute_session_lifetime(monkeypatch):
    # Only idle expiry exists: a session used at least every idle period stays valid however long
    # it lives (see test_auth.test_idle_expiry for the idle side over HTTP). Checked on the session
    # store with a fake clock: ten hours of use every 14 minutes (EM's idle limit is 15), and the
    # same session then expires after one idle period without use.
    clock = {"now": 5000.0}
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock["now"])
    store = auth.SessionStore(auth.default_accounts(), idle_seconds=900)
    session = store.create(next(iter(store.accounts.values())), "latest")
    for dummy in range(int(10 * 3600 / 840)):
        clock["now"] += 840
        assert store.lookup(session.token) is session
    clock["now"] += 901
    assert store.lookup(session.token) is None and store.expired == 1
