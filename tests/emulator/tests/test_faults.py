"""Fault injection (run-time and start-up), control plane and stats."""
import json
import time

import pytest
import requests

from emulator.harness import Emulator, EmulatorError

from .conftest import EM, NOW, NS, pascal_json, query_items, xml


@pytest.fixture(scope="module")
def em():
    with Emulator(vms=40, days=4, seed=13, now=NOW) as e:
        yield e


@pytest.fixture(autouse=True)
def _clean(em):
    em.clear_faults()
    yield
    em.clear_faults()


Q = {"type": "BackupTaskSession", "pageSize": 5}


def test_status_faults_with_skip_and_path(em):
    c = EM(em)
    before = em.stats()["faults_injected"]
    em.set_faults({"kind": "status", "status": 503, "count": 2, "skip": 1, "path": "/api/query",
                   "retry_after": 1})
    assert c.get("/query", params=Q).status_code == 200            # skipped
    assert c.get("/tasks").status_code == 200                      # other path untouched
    r = c.get("/query", params=Q)
    assert r.status_code == 503 and xml(r).get("StatusCode") == "503" and r.headers["Retry-After"] == "1"
    assert c.get("/query", params=Q).status_code == 503
    assert c.get("/query", params=Q).status_code == 200            # count exhausted
    assert em.stats()["faults_injected"] == before + 2
    for status in (500, 502):
        em.set_faults([{"kind": "status", "status": status, "method": "GET"}])
        cj = EM(em, json_mode=True)
        r = cj.get("/query", params=Q)
        assert r.status_code == status and r.json()["StatusCode"] == status
        cj.close()
    c.close()


def test_connection_reset(em):
    c = EM(em)
    em.set_faults({"kind": "reset", "path": "/api/query"})
    with pytest.raises(requests.exceptions.ConnectionError):
        c.get("/query", params=Q)
    assert c.get("/query", params=Q).status_code == 200
    c.close()


def test_delay_past_client_timeout(em):
    c = EM(em)
    # The Timeout itself shows the client gave up before the answer; no wall-clock assert (it
    # flakes under load). A 3 s delay against a 0.5 s timeout leaves a wide margin.
    em.set_faults({"kind": "delay", "seconds": 3, "path": "/api/query"})
    with pytest.raises(requests.exceptions.Timeout):
        c.get("/query", params=Q, timeout=0.5)
    assert em.faults_state()["faults"][0]["fired"] == 1
    assert c.get("/query", params=Q).status_code == 200
    c.close()


def test_truncated_body(em):
    c = EM(em)
    em.set_faults({"kind": "truncate", "path": "/api/query"})
    with pytest.raises(requests.exceptions.RequestException):
        r = c.get("/query", params=Q)
        r.content  # noqa: B018
    assert c.get("/query", params=Q).status_code == 200
    c.close()


def test_malformed_bodies(em):
    c = EM(em)
    cj = EM(em, json_mode=True)
    em.set_faults({"kind": "malformed", "count": 2, "path": "/api/query"})
    r = c.get("/query", params=Q)
    assert r.status_code == 200 and r.headers["Content-Length"] == str(len(r.content))
    with pytest.raises(Exception):
        xml(r)
    r = cj.get("/query", params=Q)
    with pytest.raises(ValueError):
        json.loads(r.content.decode("utf-8-sig"))
    c.close()
    cj.close()


def test_bom_on_json(em):
    cj = EM(em, json_mode=True)
    c = EM(em)
    em.set_faults({"kind": "bom"})          # forever by default
    for dummy in range(2):
        r = cj.get("/query", params=Q)
        assert r.content.startswith(b"\xef\xbb\xbf")
        assert pascal_json(r)["PagingInfo"]["PageSize"] == 5
    assert not c.get("/query", params=Q).content.startswith(b"\xef\xbb\xbf")   # XML untouched
    c.close()
    cj.close()


def test_session_expires_after_n_requests(em):
    em.set_faults({"kind": "expire_session", "after": 2})
    c = EM(em)                                         # a logon carries no token: not counted
    assert c.get("/tasks").status_code == 200
    assert c.get("/tasks").status_code == 200
    r = c.get("/tasks")
    assert r.status_code == 401
    c.session_id = None
    c.logon(em.username, em.password)
    assert c.get("/tasks").status_code == 200
    c.close()


def backup_ts_count(em):
    d = em.dataset()
    backup_jobs = {j["id"] for j in d["jobs"] if j["type"] == "Backup"}
    js = {x["id"]: x["job_id"] for x in d["job_sessions"]}
    return sum(1 for t in d["task_sessions"] if js[t["job_session_id"]] in backup_jobs)


@pytest.mark.parametrize("position", ["before", "among"])
def test_items_inserted_while_paging(em, position):
    c = EM(em)
    before = backup_ts_count(em)
    em.set_faults({"kind": "insert_during_paging", "items": 3, "position": position, "type": "BackupTaskSession"})
    params = dict(type="BackupTaskSession", sortDesc="CreationTime", pageSize=50)
    c.query(type="BackupJobSession", page=1)           # another type does not consume the fault
    page1 = [x["UID"] for x in query_items(c.query(page=1, **params))]
    page2 = [x["UID"] for x in query_items(c.query(page=2, **params))]
    assert backup_ts_count(em) == before + 3          # inserted right after page 1 was served
    if position == "before":
        # three newer items pushed everything down: the end of page 1 reappears on page 2
        assert page2[:3] == page1[-3:]
    # the fault fired once only (count 1): a new page 1 inserts nothing more
    c.query(page=1, **params)
    assert backup_ts_count(em) == before + 3
    c.close()


def test_billion_laughs_body(em):
    c = EM(em)
    em.set_faults({"kind": "billion_laughs", "path": "/api/query"})
    r = c.get("/query", params=Q)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/xml"
    assert b"<!DOCTYPE" in r.content and b"&lol9;" in r.content and len(r.content) < 5000
    c.close()


def test_huge_body(em):
    c = EM(em)
    cj = EM(em, json_mode=True)
    em.set_faults({"kind": "huge_body", "size_mb": 3, "count": 2, "path": "/api/query"})
    r = c.get("/query", params=Q)
    assert len(r.content) >= 2.9 * 1024 * 1024 and len(xml(r).find("v:Refs", NS)) > 1000
    r = cj.get("/query", params=Q)
    assert len(r.content) >= 2.9 * 1024 * 1024 and len(r.json()["Refs"]["Refs"]) > 1000
    c.close()
    cj.close()


def test_fault_spec_validation_and_listing(em):
    with pytest.raises(EmulatorError):
        em.set_faults({"kind": "gremlins"})
    with pytest.raises(EmulatorError):
        em.set_faults({"kind": "status", "status": 200})
    em.set_faults({"faults": [{"kind": "status", "status": 500, "count": 3}, {"kind": "bom"}]})
    st = em.faults_state()
    assert [f["kind"] for f in st["faults"]] == ["status", "bom"] and st["faults"][0]["remaining"] == 3
    em.clear_faults()
    assert em.faults_state()["faults"] == []


def test_control_plane_is_outside_api_and_unauthenticated(em):
    s = requests.Session()
    s.trust_env = False
    r = s.get(em.base_url + "/_emulator/stats", verify=em.ca_file)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    assert s.get(em.base_url + "/_emulator/nope", verify=em.ca_file).status_code == 404
    assert s.post(em.base_url + "/_emulator/clock", data="{bad", verify=em.ca_file).status_code == 400


def test_stats_counts_requests_sessions_and_bytes(em):
    em.reset_stats()
    st = em.stats()
    assert st["requests_total"] == 0 and st["requests"] == {} and st["bytes_sent"] == 0
    base_open = st["open_sessions"]
    c = EM(em)
    c.get("/query", params=Q)
    c.get("/query", params=Q)
    c.get("/tasks")
    st = em.stats()
    assert st["requests"]["GET /api/query"] == 2 and st["requests"]["GET /api/tasks"] == 1
    assert st["requests"]["POST /api/sessionMngr/"] == 1
    assert st["requests_total"] == 4 and st["bytes_sent"] > 1000
    assert st["open_sessions"] == base_open + 1 and st["sessions_created"] == 1
    c.logoff()
    st = em.stats()
    assert st["open_sessions"] == base_open and st["sessions_deleted"] == 1
    assert sum(v for k, v in st["requests"].items() if k.startswith("DELETE /api/logonSessions/")) == 1


def test_startup_faults_and_latency():
    spec = [{"kind": "status", "status": 502, "count": 1, "path": "/api/query"}]
    with Emulator(vms=10, days=2, seed=1, now=NOW, faults=spec, latency_ms=150, tls=False) as em:
        assert em.ca_file is None and em.base_url.startswith("http://")
        c = EM(em)
        t = time.time()
        assert c.get("/query", params=Q).status_code == 502
        assert c.get("/query", params=Q).status_code == 200
        assert time.time() - t >= 0.3
        c.close()
