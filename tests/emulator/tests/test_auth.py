"""Logon, logoff, tokens, cookie precedence, idle expiry and roles — real HTTP."""
import base64
import time

import pytest
import requests

from emulator.harness import Emulator

from .conftest import EM, NOW, NS, V, pascal_json, xml


@pytest.fixture(scope="module")
def em():
    with Emulator(vms=40, days=5, seed=3, now=NOW, session_idle_seconds=2) as e:
        yield e


def raw(em):
    s = requests.Session()
    s.trust_env = False
    return s


def test_root_needs_no_auth_and_lists_versions(em):
    r = raw(em).get(em.api_url + "/", verify=em.ca_file)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/xml"
    root = xml(r)
    assert root.tag == V + "EnterpriseManager"
    names = [v.get("Name") for v in root.findall("v:SupportedVersions/v:SupportedVersion", NS)]
    assert names == ["v1_5", "v1_6", "v1_7"]
    rels = {(lk.get("Rel"), lk.get("Type")) for lk in root.find("v:Links", NS)}
    assert ("Create", "LogonSession") in rels and ("Down", "LogonSessionList") in rels
    j = pascal_json(raw(em).get(em.api_url, headers={"Accept": "application/json"}, verify=em.ca_file))
    assert j["Links"][0]["Rel"] == "Down"


@pytest.mark.parametrize("v", ["latest", "v1_7", "v1_6", "v1_5", "LATEST"])
def test_logon_versions(em, v):
    r = raw(em).post(em.api_url + "/sessionMngr/?v=" + v, auth=(em.username, em.password), verify=em.ca_file)
    assert r.status_code == 201
    root = xml(r)
    assert root.tag == V + "LogonSession" and root.get("Type") == "LogonSession"
    sid = root.find("v:SessionId", NS).text
    # token = base64 of the SessionId text (both header and cookie)
    assert r.headers["X-RestSvcSessionId"] == base64.b64encode(sid.encode()).decode()
    assert r.headers["Set-Cookie"] == "X-RestSvcSessionId=%s; Path=/api" % r.headers["X-RestSvcSessionId"]
    assert root.find("v:UserName", NS).text.endswith("\\emadmin")
    children = [c.tag.replace(V, "") for c in root]
    assert children == ["Links", "UserName", "SessionId"]
    links = root.find("v:Links", NS)
    assert links[-1].get("Rel") == "Delete" and links[-1].get("Href").endswith("/logonSessions/" + sid)
    assert any(lk.get("Type") == "BackupTaskSessionReferenceList" for lk in links)


def test_logon_json(em):
    r = raw(em).post(em.api_url + "/sessionMngr/?v=latest", auth=(em.username, em.password),
                     headers={"Accept": "application/json"}, verify=em.ca_file)
    d = pascal_json(r)
    assert r.status_code == 201 and list(d)[-5:] == ["UserName", "SessionId", "Links", "Href", "Type"]
    assert base64.b64encode(d["SessionId"].encode()).decode() == r.headers["X-RestSvcSessionId"]


def test_unknown_version_is_400(em):
    r = raw(em).post(em.api_url + "/sessionMngr/?v=v1_4", auth=(em.username, em.password), verify=em.ca_file)
    assert r.status_code == 400 and "v1_4" in xml(r).get("Message")


@pytest.mark.parametrize("auth", [None, ("emadmin", "wrong"), ("nobody", "x"), ("emadmin", "")])
def test_bad_credentials_401(em, auth):
    r = raw(em).post(em.api_url + "/sessionMngr/?v=latest", auth=auth, verify=em.ca_file)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Basic Realm=RestSvc"
    assert xml(r).get("StatusCode") == "401"


def test_domain_prefixed_user_accepted(em):
    r = raw(em).post(em.api_url + "/sessionMngr/?v=latest", auth=("EMULATOR\\emadmin", em.password),
                     verify=em.ca_file)
    assert r.status_code == 201


@pytest.mark.parametrize("path", ["/query?type=BackupTaskSession", "/tasks", "/backupSessions", "/logonSessions"])
def test_token_required(em, path):
    r = raw(em).get(em.api_url + path, verify=em.ca_file)
    assert r.status_code == 401 and xml(r).get("StatusCode") == "401"
    r = raw(em).get(em.api_url + path, headers={"X-RestSvcSessionId": "bm9wZQ==", "Accept": "application/json"},
                    verify=em.ca_file)
    assert r.status_code == 401 and pascal_json(r)["StatusCode"] == 401


def test_cookie_beats_header(em):
    a = EM(em)
    b = EM(em)
    s = raw(em)
    # valid header + stale cookie -> 401 (the cookie wins)
    hdrs = {"X-RestSvcSessionId": a.token, "Cookie": "X-RestSvcSessionId=c3RhbGU="}
    r = s.get(em.api_url + "/logonSessions", headers=hdrs, verify=em.ca_file)
    assert r.status_code == 401
    # bad header + valid cookie -> OK, and it is the cookie's session
    hdrs = {"X-RestSvcSessionId": "garbage", "Cookie": "X-RestSvcSessionId=" + b.token}
    r = s.get(em.api_url + "/logonSessions", headers=hdrs, verify=em.ca_file)
    assert r.status_code == 200
    assert xml(r).find("v:LogonSession/v:SessionId", NS).text == b.session_id
    # requests' cookie jar after logon: the Set-Cookie is sent automatically
    s2 = raw(em)
    r = s2.post(em.api_url + "/sessionMngr/?v=latest", auth=(em.username, em.password), verify=em.ca_file)
    assert s2.get(em.api_url + "/tasks", verify=em.ca_file).status_code == 200
    a.close()
    b.close()


def test_logon_sessions_and_logoff(em):
    c = EM(em)
    r = c.get("/logonSessions")
    root = xml(r)
    assert root.tag == V + "LogonSessions" and len(root) == 1  # only the caller's own session
    assert root[0].find("v:SessionId", NS).text == c.session_id
    assert c.get("/logonSessions/" + c.session_id).status_code == 200
    assert c.get("/logonSessions/00000000-0000-4000-8000-000000000000").status_code == 404
    j = EM(em, json_mode=True)
    assert j.get("/logonSessions").json()["LogonSessions"][0]["SessionId"] == j.session_id
    j.close()
    before = em.stats()["open_sessions"]
    r = c.delete("/logonSessions/" + c.session_id)
    assert r.status_code == 204 and r.content == b""
    assert c.get("/tasks").status_code == 401  # token dead afterwards
    # At least this one fewer: this module's emulator expires other tests' idle sessions after
    # 2 s, which on a busy machine can also happen between the two reads of the count.
    assert em.stats()["open_sessions"] <= before - 1


def test_idle_expiry(em):
    c = EM(em)
    assert c.get("/tasks").status_code == 200
    time.sleep(1.0)
    assert c.get("/tasks").status_code == 200  # activity refreshes the idle timer
    time.sleep(2.6)
    r = c.get("/tasks")
    assert r.status_code == 401 and "expired" in xml(r).get("Message")


def test_portal_user_role(em):
    u = EM(em, "emuser", "emuser-Pass1")
    a = EM(em)
    assert u.get("/jobs").status_code == 403
    assert u.get("/query", params={"type": "Job"}).status_code == 403
    assert xml(u.get("/jobs")).get("Message") == "Access denied."
    job_id = xml(a.get("/jobs"))[0].get("UID").rsplit(":", 1)[1]
    assert u.post("/jobs/%s" % job_id, params={"action": "start"}).status_code == 403
    # sees fewer objects: servers marked restricted are hidden, with everything under them
    n_admin = len(xml(a.get("/backupServers")))
    n_user = len(xml(u.get("/backupServers")))
    assert n_user == n_admin - 1
    names = [r.get("Name") for r in xml(u.get("/backupServers"))]
    assert not any("restricted" in n for n in names)
    q = {"type": "BackupTaskSession", "pageSize": 1}
    pa = int(xml(a.query(**q)).find("v:PagingInfo", NS).get("PagesCount"))
    pu = int(xml(u.query(**q)).find("v:PagingInfo", NS).get("PagesCount"))
    assert 0 < pu < pa
    restricted_ts = xml(a.query(type="BackupTaskSession", pageSize=1, format="Entities",
                                filter='BackupServerName=="vbr-restricted01.secure.example.com"'))
    guid = restricted_ts.find("v:Entities/v:BackupTaskSessions/v:BackupTaskSession", NS).get("UID").rsplit(":", 1)[1]
    assert u.get("/backupTaskSessions/" + guid).status_code == 404
    assert a.get("/backupTaskSessions/" + guid).status_code == 200
    # Portal User may read task sessions, job sessions and tasks
    for path in ("/backupTaskSessions", "/replicaSessions", "/tasks"):
        assert u.get(path).status_code == 200
    u.close()
    a.close()


def test_restore_operator_role(em):
    r = EM(em, "emrestore", "emrestore-Pass1")
    for path in ("/backupTaskSessions", "/replicaTaskSessions", "/backupSessions", "/jobs"):
        assert r.get(path).status_code == 403, path
    for t in ("BackupTaskSession", "ReplicaTaskSession", "Job", "BackupJobSession"):
        assert r.get("/query", params={"type": t}).status_code == 403
    assert r.get("/backupServers").status_code == 200
    assert r.get("/query", params={"type": "VmRestorePoint", "pageSize": 1}).status_code == 200
    r.close()


def test_unknown_path_and_method(em):
    c = EM(em)
    assert c.get("/nothingHere").status_code == 404
    r = c.request("PUT", "/tasks")
    assert r.status_code == 405
    c.close()


def test_keep_alive_reuses_connection(em):
    c = EM(em)
    for dummy in range(5):
        r = c.get("/tasks")
        assert r.status_code == 200 and r.headers["Content-Length"] == str(len(r.content))
    r = c.delete("/logonSessions/" + c.session_id)
    assert r.headers["Content-Length"] == "0"
    c.session_id = None
