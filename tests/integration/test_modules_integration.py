"""The modules run by real ansible-playbook against the EM emulator (HTTPS, its own CA).

Every playbook under playbooks/modules/ writes its registered results to a JSON file; the tests
compare them with what the emulator's dataset says must come back, and check that no logon
session is left open afterwards.
"""
import datetime
import json
import os
import subprocess
import sys

import pytest

from collection_layout import REPO_ROOT, ansible_env
from emulator.harness import Emulator
from reliability.support import assert_every_fault_fired, assert_exactly_once

pytestmark = pytest.mark.slow

PLAYBOOKS = os.path.join(REPO_ROOT, "tests", "integration", "playbooks", "modules")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


# ---- running playbooks ---------------------------------------------------------------------------

def run_playbook(em, tmp_path, name, extra_vars=None, env=None):
    """ansible-playbook <name> with VEEAM_EM_* pointing at the emulator; returns (proc, results)."""
    out = tmp_path / ("%s.json" % name)
    variables = dict(extra_vars or {}, out=str(out))
    environment = ansible_env()
    environment.update({
        "VEEAM_EM_SERVER": em.base_url, "VEEAM_EM_USERNAME": em.username, "VEEAM_EM_PASSWORD": em.password,
        "VEEAM_EM_CA_PATH": em.ca_file, "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"), "ANSIBLE_REMOTE_TEMP": str(tmp_path / "ansible-tmp"),
        # a CA bundle that does not know the emulator: proves ca_path is passed on every request
        "REQUESTS_CA_BUNDLE": _certifi_bundle(), "CURL_CA_BUNDLE": _certifi_bundle(),
    })
    for key in ("VEEAM_EM_SESSION_ID", "VEEAM_EM_PORT", "VEEAM_EM_VALIDATE_CERTS"):
        environment.pop(key, None)
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", os.path.join(PLAYBOOKS, name + ".yml"),
         "-e", json.dumps(variables)],
        env=environment, capture_output=True, text=True, timeout=600, cwd=str(tmp_path), check=False)
    results = json.loads(out.read_text()) if out.exists() else None
    assert results is not None, "playbook %s wrote no results:\n%s\n%s" % (name, proc.stdout[-6000:], proc.stderr[-3000:])
    return proc, results


def _certifi_bundle():
    import certifi
    return certifi.where()


@pytest.fixture(scope="module")
def em():
    with Emulator(vms=40, days=5, seed=11, tls=True) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def no_open_sessions(em):
    """Every run leaves EM with no logon session open (the modules log off on every path)."""
    em.clear_faults()
    yield
    em.clear_faults()
    assert em.stats()["open_sessions"] == 0


# ---- what the dataset says -------------------------------------------------------------------------

def expected_sessions(dataset, kind):
    """The normalised items EM must return for ``kind`` (Backup/Replica), from the dataset."""
    servers = {server["id"]: server for server in dataset["backup_servers"]}
    jobs = {job["id"]: job for job in dataset["jobs"]}
    job_sessions = {session["id"]: session for session in dataset["job_sessions"]}
    point_kind = "VmRestorePoint" if kind == "Backup" else "VmReplicaPoint"
    items = []
    for task in dataset["task_sessions"]:
        job_session = job_sessions[task["job_session_id"]]
        job = jobs[job_session["job_id"]]
        if (job["type"] == "Replica") != (kind == "Replica"):
            continue
        server = servers[job["backup_server_id"]]
        item = {
            "uid": "urn:veeam:%sTaskSession:%s" % (kind, task["id"]), "id": task["id"], "name": task["name"],
            "vm_display_name": task["vm_display_name"],
            "job_session_uid": "urn:veeam:%sJobSession:%s" % (kind, job_session["id"]),
            "job_session_id": job_session["id"], "job_session_name": job_session["name"], "job_name": job["name"],
            "job_uid": "urn:veeam:Job:%s" % job["id"],
            "backup_server_uid": "urn:veeam:BackupServer:%s" % server["id"], "backup_server_name": server["name"],
            "creation_time": task["creation_time"], "end_time": task["end_time"], "state": task["state"],
            "result": task["result"], "reason": task["reason"], "total_size": task["total_size"],
            "point_uid": "urn:veeam:%s:%s" % (point_kind, task["point_id"]) if task.get("point_id") else None,
        }
        items.append(item)
    return items


COMPARED = ("uid", "id", "name", "vm_display_name", "job_session_uid", "job_session_id", "job_session_name",
            "job_name", "backup_server_uid", "backup_server_name", "creation_time", "end_time", "state", "result",
            "reason", "total_size")


def assert_items_match(returned, expected, point_key):
    by_uid = {item["uid"]: item for item in expected}
    assert sorted(item["uid"] for item in returned) == sorted(by_uid)
    for item in returned:
        want = by_uid[item["uid"]]
        for key in COMPARED:
            assert item[key] == want[key], (key, item[key], want[key])
        assert item[point_key] == want["point_uid"]


def uids(result, key="backup_task_sessions"):
    return [item["uid"] for item in result[key]]


def parse(text):
    return datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)


def iso_offset(moment, hours):
    """The same instant written with a +HH:00 offset (the module must convert it to UTC)."""
    local = moment.astimezone(datetime.timezone(datetime.timedelta(hours=hours)))
    return local.strftime("%Y-%m-%dT%H:%M:%S%z")


# ---- tests -------------------------------------------------------------------------------------------

def test_task_session_queries(em, tmp_path):
    dataset = em.dataset()
    backup = expected_sessions(dataset, "Backup")
    replica = expected_sessions(dataset, "Replica")
    assert len(backup) > 50 and replica
    failed = [item for item in backup if item["result"] == "Failed" and item["reason"]]
    assert failed, "the dataset should contain failed sessions"
    vm_names = sorted({item["vm_display_name"] for item in failed})[:2]
    pick = backup[len(backup) // 2]
    sizes = sorted(item["total_size"] for item in backup)
    times = sorted(parse(item["creation_time"]) for item in backup)
    ended = sorted(parse(item["end_time"]) for item in backup if item["end_time"])
    q = {
        "vm_names": vm_names, "job_name": pick["job_name"], "server_name": pick["backup_server_name"],
        "size_min": sizes[len(sizes) // 4], "size_max": sizes[3 * len(sizes) // 4],
        "uids": [backup[0]["uid"], backup[1]["id"].upper(), backup[2]["uid"]],
        "job_uid": pick["job_uid"], "server_guid": pick["backup_server_uid"].rsplit(":", 1)[1],
        "job_session_uid": pick["job_session_uid"], "name": pick["name"], "reason": pick["reason"],
        "failed_reason": failed[0]["reason"],
        "created_after": iso_offset(times[len(times) // 3], 2), "created_before": iso_offset(times[2 * len(times) // 3], -5),
        "ended_after": ended[len(ended) // 4].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ended_before": ended[-1].strftime("%Y-%m-%d %H:%M:%S"),
        "backup_uid": pick["uid"], "replica_guid": replica[0]["id"],
        "host": em.host if hasattr(em, "host") and em.host else "127.0.0.1", "port": em.port,
        "username": em.username, "password": em.password, "ca_path": em.ca_file,
    }
    started = datetime.datetime.now(datetime.timezone.utc)
    proc, results = run_playbook(em, tmp_path, "task_session_queries", {"q": q})
    finished = datetime.datetime.now(datetime.timezone.utc)
    assert proc.returncode == 0, proc.stdout[-5000:]

    all_backup = results["all_backup"]
    assert all_backup["changed"] is False
    assert_items_match(all_backup["backup_task_sessions"], backup, "restore_point_uid")
    created = [item["creation_time"] for item in all_backup["backup_task_sessions"]]
    assert [parse(c) for c in created] == sorted((parse(c) for c in created), reverse=True)
    assert all_backup["query"]["page_size"] == 25 and all_backup["query"]["pages"] == -(-len(backup) // 25)
    assert all_backup["query"]["sort"] == "sortDesc=CreationTime" and all_backup["query"]["type"] == "BackupTaskSession"
    assert results["all_backup_xml"]["backup_task_sessions"] == all_backup["backup_task_sessions"]

    all_replica = results["all_replica"]["replica_task_sessions"]
    assert_items_match(all_replica, replica, "replica_point_uid")
    assert [parse(i["creation_time"]) for i in all_replica] == sorted(parse(i["creation_time"]) for i in all_replica)
    assert all_replica and all(item["vm_uid"] is None for item in all_replica)  # not vacuous

    def select(predicate):
        return sorted(item["uid"] for item in backup if predicate(item))

    assert sorted(uids(results["vms_failed"])) == select(
        lambda i: i["vm_display_name"] in vm_names and i["result"] in ("Failed", "Warning") and i["state"] == "Completed")
    assert sorted(uids(results["job_server_size"])) == select(
        lambda i: i["job_name"] == q["job_name"] and i["backup_server_name"] == q["server_name"]
        and q["size_min"] <= i["total_size"] <= q["size_max"])
    assert sorted(uids(results["by_uids"])) == select(
        lambda i: i["uid"] in (backup[0]["uid"], backup[1]["uid"], backup[2]["uid"])
        and i["job_uid"] == q["job_uid"] and i["backup_server_uid"] == pick["backup_server_uid"])
    assert uids(results["by_name_reason"]) == [pick["uid"]]
    assert sorted(uids(results["by_failed_reason"])) == select(lambda i: i["reason"] == q["failed_reason"])

    lower, upper = times[len(times) // 3], times[2 * len(times) // 3]
    end_lower, end_upper = ended[len(ended) // 4], ended[-1]
    assert sorted(uids(results["window"])) == select(
        lambda i: lower <= parse(i["creation_time"]) < upper and i["end_time"]
        and end_lower <= parse(i["end_time"]) < end_upper)
    assert 'CreationTime>="%s"' % lower.strftime("%Y-%m-%dT%H:%M:%SZ") in results["window"]["query"]["filter"]

    relative = results["relative"]["replica_task_sessions"]
    # not vacuous at any hour: the replica jobs run daily (10:00-16:59 UTC), so 36 h always hold some (7 to 14
    # of this fleet's, whatever the hour it is generated at)
    assert relative
    slack = datetime.timedelta(seconds=90)
    for item in relative:
        assert parse(item["creation_time"]) >= started - datetime.timedelta(hours=36) - slack
    returned = {item["uid"] for item in relative}
    for item in replica:
        if parse(item["creation_time"]) >= finished - datetime.timedelta(hours=36) + slack:
            assert item["uid"] in returned

    assert sorted(uids(results["raw_filter"])) == select(
        lambda i: i["result"] == "Failed" and i["state"] in ("Completed", "InProgress"))
    assert results["raw_filter"]["query"]["filter"] == 'Result=="Failed";(State=="Completed",State=="InProgress")'

    limited = results["limited"]
    names = sorted(i["vm_display_name"].casefold() for i in backup)[:5]
    assert [i["vm_display_name"].casefold() for i in limited["backup_task_sessions"]] == names
    assert limited["query"]["pages"] == 3 and limited["query"]["sort"] == "sortAsc=VmDisplayName"

    assert uids(results["by_id"]) == [pick["uid"]]
    same = [item for item in all_backup["backup_task_sessions"] if item["uid"] == pick["uid"]]
    assert results["by_id"]["backup_task_sessions"] == same
    assert uids(results["replica_by_id"], "replica_task_sessions") == [replica[0]["uid"]]
    assert results["unknown_id"]["backup_task_sessions"] == []
    assert sorted(uids(results["in_check_mode"])) == select(lambda i: i["result"] == "Failed")
    assert len(results["explicit_connection"]["replica_task_sessions"]) == 3
    assert len(results["no_verify"]["replica_task_sessions"]) == 1
    assert "validate_certs is false" in proc.stdout + proc.stderr

    # option fields: a real playbook run returns only the asked keys (plus uid), same values
    full = {item["uid"]: item for item in all_backup["backup_task_sessions"]}
    projected = results["some_fields"]["backup_task_sessions"]
    assert sorted(item["uid"] for item in projected) == sorted(full)
    for item in projected:
        assert sorted(item) == ["restore_point_uid", "result", "uid", "vm_display_name"]
        assert item == {key: full[item["uid"]][key] for key in item}
    full_replica = {item["uid"]: item for item in all_replica}
    projected = results["some_replica_fields"]["replica_task_sessions"]
    assert sorted(item["uid"] for item in projected) == sorted(full_replica)
    for item in projected:
        assert sorted(item) == ["end_time", "replica_point_uid", "uid"]
        assert item == {key: full_replica[item["uid"]][key] for key in item}


def test_bad_input_and_documented_errors(em, tmp_path):
    em.reset_stats()
    cases = [
        ("id_with_filter", {"id": "38ceb150-e0a8-4f87-8a17-243afc1b98f4", "result": "Failed"}, "mutually exclusive"),
        ("unknown_choice", {"result": ["Broken"]}, "option result: 'Broken' is not one of Success, Warning, Failed"),
        ("bad_datetime", {"created_after": "last tuesday"}, "option created_after"),
        ("negative_limit", {"limit": -1}, "option limit"),
        ("zero_page_size", {"page_size": 0}, "option page_size"),
        ("newline_value", {"vm_display_name": "web01\nResult==Failed"}, "control character"),
        ("escaping_raw_filter", {"filter": 'Result=="Failed"),(State=="Completed"'}, "option filter"),
        ("wrong_uid_kind", {"uid": ["urn:veeam:Job:38ceb150-e0a8-4f87-8a17-243afc1b98f4"]}, "option uid"),
        ("bad_guid", {"job_session_uid": ["38ceb150"]}, "option job_session_uid"),
        ("wrong_sort", {"sort_by": "size"}, "sort_by"),
    ]
    server_cases = [
        ("restore_operator_403", {"username": "emrestore", "password": "emrestore-Pass1"}, "HTTP 403",
         "Portal Administrator"),
        ("wrong_em_filter_400", {"filter": "NoSuchField==1"}, "HTTP 400", "EM says"),
        ("untrusted_certificate", {"ca_path": ""}, "certificate", "ca_path"),
    ]
    all_cases = [{"name": case[0], "args": case[1]} for case in cases + server_cases]
    proc, results = run_playbook(em, tmp_path, "bad_input", {"cases": all_cases})
    assert proc.returncode == 0, proc.stdout[-5000:]
    by_name = {result["item"]["name"]: result for result in results["failures"]}
    for name, _args, message in cases:
        assert by_name[name]["failed"] is True, name
        assert message in by_name[name]["msg"], (name, by_name[name]["msg"])
    for name, _args, first, second in server_cases:
        msg = by_name[name]["msg"]
        assert by_name[name]["failed"] is True and first in msg and second in msg, (name, msg)
    assert "GET /api/query (type=BackupTaskSession) failed: HTTP 400" in by_name["wrong_em_filter_400"]["msg"]
    assert "option state" in results["task_bad_state"]["msg"]
    assert "session_id" in results["absent_without_id"]["msg"]
    wrong = results["wrong_password"]
    assert wrong["failed"] and "HTTP 401" in wrong["msg"] and "check username and password" in wrong["msg"]
    text = json.dumps(results) + proc.stdout
    assert em.password not in text and "wrong-password" not in text and "StackTrace" not in text
    # validation failures never reached EM: only the 403 and 400 cases and the wrong password logged on
    # (the certificate case fails in the TLS handshake, before any HTTP request)
    stats = em.stats()
    assert stats["requests"].get("POST /api/sessionMngr/", 0) == 3
    assert stats["sessions_created"] == stats["sessions_deleted"] == 2


def test_session_reuse_and_task_lifecycle(em, tmp_path):
    dataset = em.dataset()
    running = {session["job_id"] for session in dataset["job_sessions"] if session["state"] != "Stopped"}
    job = next(job for job in dataset["jobs"] if job["type"] == "Backup" and job["id"] not in running)
    em.reset_stats()
    proc, results = run_playbook(em, tmp_path, "session_tasks",
                                 {"em_base": em.base_url, "ca_file": em.ca_file, "job_guid": job["id"]})
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert results["check_mode_logon"]["changed"] is True and results["check_mode_logon"]["session_id"]
    session = results["em"]
    assert session["changed"] is True and session["api_version"] == "latest"
    assert session["user_name"].lower().endswith(em.username.lower())
    started = results["started"]  # raw EM JSON: TaskId up to EM 12, taskId as EM 13 (the default)
    task_id = started.get("TaskId", started.get("taskId"))
    assert task_id
    assert [task["task_id"] for task in results["tasks_now"]["tasks"]] == [task_id]
    assert results["tasks_other_session"]["tasks"] == []
    assert "current logon session" in proc.stdout + proc.stderr
    finished = results["finished"]["tasks"]
    assert len(finished) == 1 and finished[0]["state"] == "Finished" and finished[0]["result_success"] is True
    assert finished[0]["operation"] == "StartJob" and results["finished"]["waited"] > 0
    assert [task["task_id"] for task in results["finished_only"]["tasks"]] == [task_id]
    job_session = [r for r in finished[0]["related"] if r["type"] == "BackupJobSession"][0]
    new_sessions = results["new_sessions"]["backup_task_sessions"]
    assert len(new_sessions) == len(job["vms"])
    assert all(item["job_session_uid"] == job_session["uid"] and item["job_name"] == job["name"]
               for item in new_sessions)
    assert results["logoff"]["changed"] is True
    assert results["logoff_again"]["changed"] is False and not results["logoff_again"].get("failed")
    reuse = results["reuse_after_logoff"]
    assert reuse["failed"] and "HTTP 401" in reuse["msg"] and "session_id is no longer valid" in reuse["msg"]
    stats = em.stats()
    # check-mode logon + its logoff, the play session, and one per module run that logged on itself
    assert stats["requests"]["POST /api/sessionMngr/"] == 3
    assert stats["sessions_created"] == stats["sessions_deleted"]


def _retried(extra):
    """The module's query info shows exactly ``extra`` requests beyond one per page: each retried once."""
    return lambda r, s: r["query"]["requests"] == r["query"]["pages"] + extra


@pytest.mark.parametrize("fault, media, check", [
    ({"kind": "status", "status": 503, "count": 2, "path": "/api/query", "retry_after": 0}, "json", _retried(2)),
    ({"kind": "reset", "count": 1, "path": "/api/query", "skip": 1}, "json", _retried(1)),
    ({"kind": "truncate", "count": 1, "path": "/api/query", "skip": 2}, "xml", _retried(1)),
    ({"kind": "bom"}, "json", _retried(0)),  # nothing to retry: the BOM is read through
    ({"kind": "expire_session", "count": 1, "path": "/api/query", "skip": 1}, "xml",
     lambda r, s: s["requests"]["POST /api/sessionMngr/"] == 2 and s["statuses"].get("401", 0) >= 1),
    ({"kind": "insert_during_paging", "items": 7, "position": "among", "type": "BackupTaskSession"}, "json",
     _retried(0)),
], ids=["503-retried", "reset-retried", "truncated-retried", "json-bom", "401-relogon", "insert-while-paging"])
def test_faults_are_survived(em, tmp_path, fault, media, check):
    before = {item["uid"] for item in expected_sessions(em.dataset(), "Backup")}
    em.reset_stats()
    em.set_faults(fault)
    proc, result = run_playbook(em, tmp_path, "faults", {"media_type": media})
    stats = em.stats()
    state = em.faults_state()
    assert not result.get("failed"), result.get("msg")
    assert_every_fault_fired(state)  # the fault fired (its exact count): otherwise the test proves nothing
    # Every item exactly once; the only extras allowed are the sessions the insert fault added.
    inserted = {item["uid"] for item in expected_sessions(em.dataset(), "Backup")} - before
    assert len(inserted) == (7 if fault["kind"] == "insert_during_paging" else 0)
    assert_exactly_once(before, result["backup_task_sessions"], allowed_extra=inserted)
    assert check(result, stats), (result["query"], stats["requests"], stats["statuses"])


@pytest.mark.parametrize("fault, message", [
    ({"kind": "billion_laughs", "path": "/api/query"}, "DOCTYPE"),
    ({"kind": "malformed", "path": "/api/query", "count": 10}, "cannot be parsed"),
    ({"kind": "status", "status": 500, "message": "Object reference not set", "path": "/api/query"},
     "Object reference not set"),
], ids=["billion-laughs", "malformed", "500"])
def test_bad_responses_fail_cleanly(em, tmp_path, fault, message):
    em.set_faults(fault)
    proc, result = run_playbook(em, tmp_path, "faults", {"media_type": "xml"})
    (state,) = em.faults_state()["faults"]
    assert result["failed"] and message in result["msg"], result.get("msg")
    assert "GET /api/query (type=BackupTaskSession) failed" in result["msg"]
    # the fault fired, on page 1, once: a refused, unparsable or HTTP 500 answer is not retried
    assert state["fired"] == 1, state


def test_module_defaults_group(em, tmp_path):
    """All four modules take their connection from one module_defaults group entry."""
    em.reset_stats()
    env = {"VEEAM_EM_SERVER": None, "VEEAM_EM_USERNAME": None, "VEEAM_EM_PASSWORD": None, "VEEAM_EM_CA_PATH": None}
    proc, results = run_playbook(em, tmp_path, "module_defaults",
                                 {"em_host": "127.0.0.1", "em_port": em.port, "em_user": em.username,
                                  "em_password": em.password, "ca_file": em.ca_file}, env=env)
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert len(results["replicas"]["replica_task_sessions"]) == 2
    assert results["tasks"]["tasks"] == [] and results["logoff"]["changed"] is True
    assert em.stats()["requests"]["POST /api/sessionMngr/"] == 1
