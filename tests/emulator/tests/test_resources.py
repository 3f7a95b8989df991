"""Resource endpoints: collections (30-day window), single items, format switch, 404s."""
import xml.etree.ElementTree as ET

import pytest

from emulator.harness import Emulator
from emulator.timeutil import DAY_US, parse_dt

from .conftest import NOW, NS, SAMPLES, V, xml


@pytest.fixture(scope="module")
def em():
    # 35 days of history so the 30-day window of the collections is visible
    with Emulator(vms=15, days=35, seed=11, now=NOW) as e:
        yield e


def kinds(data):
    js = {s["id"]: s for s in data["job_sessions"]}
    jobs = {j["id"]: j for j in data["jobs"]}
    return js, jobs


def within_30d(t):
    return parse_dt(t["creation_time"]) >= parse_dt(NOW) - 30 * DAY_US


def test_task_session_collection_refs_and_window(c, data):
    js, jobs = kinds(data)
    backup = [t for t in data["task_sessions"] if jobs[js[t["job_session_id"]]["job_id"]]["type"] == "Backup"]
    root = xml(c.get("/backupTaskSessions"))
    assert root.tag == V + "EntityReferences"
    assert all(r.tag == V + "Ref" and r.get("Type") == "BackupTaskSessionReference" for r in root)
    assert len(root) == len([t for t in backup if within_30d(t)]) < len(backup)


def test_task_session_collection_entities(c, cj):
    root = xml(c.get("/backupTaskSessions", params={"format": "Entity"}))
    assert root.tag == V + "BackupTaskSessions" and root[0].tag == V + "BackupTaskSession"
    d = cj.get("/backupTaskSessions", params={"format": "entity"}).json()
    assert list(d) == ["BackupTaskSessions"] and d["BackupTaskSessions"][0]["Type"] == "BackupTaskSession"
    d = cj.get("/replicaTaskSessions").json()
    assert list(d) == ["Refs"] and d["Refs"][0]["Type"] == "ReplicaTaskSessionReference"


def test_single_task_session_ref_and_entity(c, cj, data):
    t = [x for x in data["task_sessions"] if x["result"] == "Success" and within_30d(x)][-1]
    js, jobs = kinds(data)
    path = "/backupTaskSessions/" if jobs[js[t["job_session_id"]]["job_id"]]["type"] == "Backup" \
        else "/replicaTaskSessions/"
    r = c.get(path + t["id"])
    ref = xml(r)
    sample = ET.fromstring(open(SAMPLES + "/backuptasksession_ref.xml", "rb").read())
    assert ref.tag == V + "EntityRef" and sorted(ref.attrib) == sorted(sample.attrib)
    assert [lk.get("Rel") for lk in ref.find("v:Links", NS)] == ["Up", "Up", "Alternate"]
    alt = ref.find("v:Links/v:Link[@Rel='Alternate']", NS)
    assert alt.get("Href").endswith("?format=Entity")
    ent = xml(c.get(alt.get("Href")))
    assert ent.get("UID").endswith(t["id"]) and ent.find("v:CreationTimeUTC", NS).text == t["creation_time"]
    assert ent.get("VmDisplayName") == t["vm_display_name"]
    d = cj.get(path + t["id"].upper(), params={"format": "Entity"}).json()   # ids are case-insensitive
    assert d["UID"].endswith(t["id"]) and d["Reason"] == ""


def test_job_sessions_and_children(c, cj, data):
    root = xml(c.get("/backupSessions"))
    assert root.tag == V + "EntityReferences" and root[0].get("Type") == "BackupJobSessionReference"
    guid = root[-1].get("UID").rsplit(":", 1)[1]
    ent = xml(c.get("/backupSessions/" + guid, params={"format": "Entity"}))
    assert ent.tag == V + "BackupJobSession" and ent[-1].tag == V + "IsRetry"
    down = ent.find("v:Links/v:Link[@Rel='Down']", NS).get("Href")
    assert down.endswith("/taskSessions")
    kids = xml(c.get(down))
    expected = [t for t in data["task_sessions"] if t["job_session_id"] == guid]
    assert kids.tag == V + "EntityReferences" and len(kids) == len(expected) > 0
    kids = cj.get(down, params={"format": "Entity"}).json()
    assert len(kids["BackupTaskSessions"]) == len(expected)
    rroot = xml(c.get("/replicaSessions", params={"format": "Entity"}))
    assert rroot.tag == V + "ReplicaJobSessions"
    rguid = rroot[-1].get("UID").rsplit(":", 1)[1]
    r = c.get("/replicaSessions/%s/replicaTaskSessions" % rguid)
    assert r.status_code == 200 and len(xml(r)) > 0
    assert c.get("/replicaSessions/%s/taskSessions" % rguid).status_code == 404


def test_jobs_and_servers(c, cj):
    jobs = xml(c.get("/jobs"))
    assert jobs.tag == V + "EntityReferences" and jobs[0].get("Type") == "JobReference"
    j = xml(c.get("/jobs/" + jobs[0].get("UID").rsplit(":", 1)[1], params={"format": "Entity"}))
    assert [ch.tag.replace(V, "") for ch in j] == [
        "Links", "JobType", "Platform", "Description", "ScheduleConfigured", "ScheduleEnabled", "NextRun", "JobInfo"]
    rels = [lk.get("Rel") for lk in j.find("v:Links", NS)]
    assert {"Start", "Stop", "Retry", "Up", "Alternate"} <= set(rels)
    servers = xml(c.get("/backupServers", params={"format": "Entity"}))
    assert servers.tag == V + "BackupServers"
    s = servers[0]
    assert [ch.tag.replace(V, "") for ch in s][:4] == ["Links", "Description", "Port", "Version"]
    ref = xml(c.get("/backupServers/" + s.get("UID").rsplit(":", 1)[1]))
    assert ref.tag == V + "EntityRef" and ref.get("Type") == "BackupServerReference"
    assert "." in ref.get("Name")  # FQDN
    d = cj.get("/backupServers", params={"format": "Entity"}).json()
    assert isinstance(d["BackupServers"][0]["Port"], int)


def test_restore_points(c, data):
    js, jobs = kinds(data)
    t = [x for x in data["task_sessions"] if x["point_id"] and within_30d(x)
         and jobs[js[x["job_session_id"]]["job_id"]]["type"] == "Backup"][0]
    r = c.get("/vmRestorePoints/" + t["point_id"], params={"format": "Entity"})
    assert r.status_code == 200 and xml(r).tag == V + "VmRestorePoint"


@pytest.mark.parametrize("path", ["/backupTaskSessions/", "/replicaTaskSessions/", "/backupSessions/",
                                  "/replicaSessions/", "/jobs/", "/backupServers/", "/vmRestorePoints/"])
def test_unknown_id_404(c, cj, path):
    r = c.get(path + "00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404 and xml(r).get("StatusCode") == "404"
    r = cj.get(path + "not-a-guid")
    assert r.status_code == 404 and r.json()["StatusCode"] == 404


def test_bad_format_on_resource(c):
    assert c.get("/backupTaskSessions", params={"format": "Entities"}).status_code == 400


def test_collection_window_follows_the_clock(em, c):
    n = len(xml(c.get("/backupSessions")))
    em.set_clock("2025-06-15T12:00:00Z")       # ten days later: fewer sessions within 30 days
    try:
        assert len(xml(c.get("/backupSessions"))) < n
    finally:
        em.set_clock(NOW)
    assert len(xml(c.get("/backupSessions"))) == n


def test_query_svc_links_work(c):
    root = xml(c.get("/querySvc"))
    assert root.tag == V + "QuerySvc" and root.get("Type") == "QueryService"
    downs = [lk.get("Href") for lk in root.find("v:Links", NS) if lk.get("Rel") == "Down"]
    assert any("type=BackupTaskSession" in h for h in downs)
    for h in downs:
        r = c.get(h)
        assert r.status_code == 200, h


def test_job_backup_sessions(c):
    jobs = xml(c.get("/jobs", params={"format": "Entity"}))
    for j in jobs:
        down = [lk.get("Href") for lk in j.find("v:Links", NS) if lk.get("Rel") == "Down"
                and lk.get("Type", "").endswith("JobSessionReferenceList")][0]
        root = xml(c.get(down))
        assert root.tag == V + "EntityReferences" and len(root) > 0
        assert {r.find("v:Links/v:Link[@Type='JobReference']", NS).get("Name") for r in root} == {j.get("Name")}
