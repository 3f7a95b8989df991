"""The opt-in as-of view (asof.py): sessions as EM shows them at the data clock, and late collection.

Off by default (the clock only moves the 30-day window); on, a session created after the clock is
absent, one that ended after it is running (the generator's running representation, the version's
placeholder end time), and a backup server's sessions of an outage appear only from its end.
"""
import pytest

from emulator.timeutil import US, fmt_dt, parse_dt

from .conftest import NOW, NS, query_items, xml

PLACEHOLDER = "1900-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def em():
    from emulator.harness import Emulator
    with Emulator(vms=30, days=4, seed=5, now=NOW) as e:
        yield e


@pytest.fixture(autouse=True)
def reset(em):
    yield
    em.set_view(as_of=False)
    em.set_clock(NOW)


def _kinds(data):
    job_sessions = {s["id"]: s for s in data["job_sessions"]}
    jobs = {j["id"]: j for j in data["jobs"]}
    servers = {s["id"]: s for s in data["backup_servers"]}
    return job_sessions, jobs, servers


@pytest.fixture(scope="module")
def cut(data):
    """A backup task session that ended with a restore point (Failed ones have none), the moment halfway through
    it, and its job session (ended after it)."""
    job_sessions, jobs, _servers = _kinds(data)
    for t in data["task_sessions"]:
        js = job_sessions[t["job_session_id"]]
        if t["result"] == "Success" and t["point_id"] and jobs[js["job_id"]]["type"] == "Backup" and js["end_time"]:
            ct, et = parse_dt(t["creation_time"]), parse_dt(t["end_time"])
            if et - ct > 10 * US:
                return t, js, fmt_dt(ct + (et - ct) // 2)
    raise AssertionError("the dataset has no finished backup task session with a restore point")


def _one(c, qtype, uid_guid):
    items = query_items(c.query(type=qtype, format="Entities", filter="UID==%s" % uid_guid))
    return items[0] if items else None


def test_view_is_off_by_default_and_the_clock_alone_changes_no_session(em, c, cut):
    t, js, moment = cut
    assert em.set_view(as_of=False) == {"as_of": False, "late_collection": []}
    em.set_clock(moment)
    item = _one(c, "BackupTaskSession", t["id"])
    assert (item["State"], item["Result"], item["EndTimeUTC"]) == ("Completed", "Success", t["end_time"])
    # a session created after the clock is still answered (the emulator's behaviour before the view)
    later = [x for x in em.dataset()["task_sessions"] if parse_dt(x["creation_time"]) > parse_dt(moment)]
    assert later and _one(c, "BackupTaskSession", later[-1]["id"]) is not None


def test_a_session_ended_after_the_clock_is_in_progress_with_the_placeholder(em, c, cj, cut):
    t, js, moment = cut
    em.set_view(as_of=True)
    em.set_clock(moment)
    item = _one(c, "BackupTaskSession", t["id"])
    assert (item["State"], item.get("Result"), item["EndTimeUTC"]) == ("InProgress", None, PLACEHOLDER)
    assert item["TotalSize"] == "0" and item["CreationTimeUTC"] == t["creation_time"]
    entity = xml(c.get("/backupTaskSessions/%s" % t["id"], params={"format": "Entity"}))
    assert entity.find("v:State", NS).text == "InProgress" and entity.find("v:EndTimeUTC", NS).text == PLACEHOLDER
    assert entity.find("v:Links/v:Link[@Rel='Related']", NS) is None   # no restore point yet
    assert c.get("/vmRestorePoints/%s" % t["point_id"]).status_code == 404
    # a filter sees the view: the running session has no result
    assert _one(c, "BackupTaskSession", "%s;Result==Success" % t["id"]) is None
    job = cj.get("/backupSessions/%s" % js["id"], params={"format": "Entity"}).json()
    assert (job["State"], job["Result"], job["EndTimeUTC"], job["FailureMessage"]) == \
        ("Working", None, PLACEHOLDER, None)
    assert 0 <= job["Progress"] < 100
    working = query_items(c.query(type="BackupJobSession", filter="State==Working;UID==%s" % js["id"]))
    assert len(working) == 1 and _one(c, "BackupJobSession", "%s;Result==Failed" % js["id"]) is None
    # back at the dataset's clock: as generated
    em.set_clock(NOW)
    item = _one(c, "BackupTaskSession", t["id"])
    assert (item["State"], item["Result"], item["EndTimeUTC"]) == ("Completed", "Success", t["end_time"])
    assert c.get("/vmRestorePoints/%s" % t["point_id"]).status_code == 200


def test_a_session_created_after_the_clock_is_absent_everywhere(em, c, data, cut):
    t, js, moment = cut
    em.set_view(as_of=True)
    em.set_clock(moment)
    clock = parse_dt(moment)
    later = [x for x in data["task_sessions"] if parse_dt(x["creation_time"]) > clock]
    assert later
    assert _one(c, "BackupTaskSession", later[0]["id"]) is None and _one(c, "ReplicaTaskSession", later[0]["id"]) is None
    assert c.get("/backupTaskSessions/%s" % later[0]["id"]).status_code == 404
    created = sorted(parse_dt(i["CreationTimeUTC"]) for i in query_items(
        c.query(type="BackupTaskSession", format="Entities", pageSize="1000")))
    assert created and created[-1] <= clock
    shown = {r.get("UID").rsplit(":", 1)[1] for r in xml(c.get("/backupSessions/%s/taskSessions" % js["id"]))}
    of_job = [x for x in data["task_sessions"] if x["job_session_id"] == js["id"]]
    assert shown == {x["id"] for x in of_job if parse_dt(x["creation_time"]) <= clock} != {x["id"] for x in of_job}
    _job_sessions, jobs, _servers = _kinds(data)
    later_js = [s for s in data["job_sessions"] if parse_dt(s["creation_time"]) > clock
                and jobs[s["job_id"]]["type"] == "Backup"]
    assert later_js and c.get("/backupSessions/%s" % later_js[0]["id"]).status_code == 404
    assert later_js[0]["id"] not in {r.get("UID").rsplit(":", 1)[1] for r in xml(c.get("/backupSessions"))}


def test_em12_writes_no_end_on_the_running_session(cut):
    from emulator.harness import Emulator
    from .conftest import EM
    t, _js, moment = cut
    with Emulator(vms=30, days=4, seed=5, now=NOW, em_version="12", as_of=True) as e:
        e.set_clock(moment)
        client = EM(e)
        try:
            item = _one(client, "BackupTaskSession", t["id"])
            assert item["State"] == "InProgress" and "EndTimeUTC" not in item and "Result" not in item
        finally:
            client.close()


def _server_sessions(data, server_name, start, end):
    job_sessions, jobs, servers = _kinds(data)
    return [t for t in data["task_sessions"]
            if servers[jobs[job_sessions[t["job_session_id"]]["job_id"]]["backup_server_id"]]["name"] == server_name
            and start <= parse_dt(t["creation_time"]) < end]


def test_late_collected_sessions_are_hidden_during_the_outage_then_appear_with_their_own_times(em, c, data):
    clock = parse_dt(NOW) - 12 * 3600 * US
    start, end = clock - 30 * 3600 * US, clock + 6 * 3600 * US
    server = "vbr01.corp.example.com"
    late = _server_sessions(data, server, start, clock)
    others = [t for t in data["task_sessions"] if start <= parse_dt(t["creation_time"]) <= clock
              and t not in late]
    assert late and others, "the dataset has no session of %s in the outage" % server
    view = em.set_view(as_of=True, late_collection=[{"server": server, "from": fmt_dt(start), "until": fmt_dt(end)}])
    assert view["late_collection"] == [{"server": server, "from": fmt_dt(start), "until": fmt_dt(end)}]
    em.set_clock(fmt_dt(clock))
    for t in late:
        assert _one(c, "BackupTaskSession", t["id"]) is None and _one(c, "ReplicaTaskSession", t["id"]) is None
    for t in others:
        assert _one(c, "BackupTaskSession", t["id"]) or _one(c, "ReplicaTaskSession", t["id"])
    em.set_clock(fmt_dt(end))
    for t in late:
        item = _one(c, "BackupTaskSession", t["id"]) or _one(c, "ReplicaTaskSession", t["id"])
        assert item is not None and item["CreationTimeUTC"] == t["creation_time"]


def test_bad_view_requests_are_refused(em):
    from emulator.harness import EmulatorError
    with pytest.raises(EmulatorError, match="unknown backup server"):
        em.set_view(as_of=True, late_collection=[{"server": "nope", "from": NOW, "until": NOW}])
    with pytest.raises(EmulatorError, match="until must be after from"):
        em.set_view(as_of=True, late_collection=[{"server": "vbr01.corp.example.com", "from": NOW, "until": NOW}])
    with pytest.raises(EmulatorError, match="needs as_of true"):
        em.set_view(as_of=False, late_collection=[{"server": "vbr01.corp.example.com", "from": NOW,
                                                   "until": "2030-01-01T00:00:00Z"}])
    assert em._control("GET", "/_emulator/view") == {"as_of": False, "late_collection": []}
