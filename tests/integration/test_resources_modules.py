"""Job sessions, jobs, backup servers, restore points and job actions: real ansible-playbook runs
against the EM emulator (HTTPS, its own CA), compared with the emulator's dataset.

The playbooks are under playbooks/resources/; each writes its registered results to a JSON file.
"""
import datetime
import json
import os
import subprocess
import sys

import pytest

from collection_layout import REPO_ROOT, ansible_env
from emulator.harness import Emulator

pytestmark = pytest.mark.slow

PLAYBOOKS = os.path.join(REPO_ROOT, "tests", "integration", "playbooks", "resources")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
NOW = "2025-06-05T12:00:00Z"
CREATED_AFTER = "2025-06-03T12:00:00Z"


def run_playbook(em, tmp_path, name, extra_vars=None, check=False):
    out = tmp_path / ("%s.json" % name)
    variables = dict(extra_vars or {}, out=str(out))
    environment = ansible_env()
    environment.update({
        "VEEAM_EM_SERVER": em.base_url, "VEEAM_EM_USERNAME": em.username, "VEEAM_EM_PASSWORD": em.password,
        "VEEAM_EM_CA_PATH": em.ca_file, "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"), "ANSIBLE_REMOTE_TEMP": str(tmp_path / "ansible-tmp"),
    })
    for key in ("VEEAM_EM_SESSION_ID", "VEEAM_EM_PORT", "VEEAM_EM_VALIDATE_CERTS"):
        environment.pop(key, None)
    command = [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", os.path.join(PLAYBOOKS, name + ".yml"),
               "-e", json.dumps(variables)]
    if check:
        command.append("--check")
    proc = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600,
                          cwd=str(tmp_path), check=False)
    results = json.loads(out.read_text()) if out.exists() else None
    assert results is not None, "playbook %s wrote no results:\n%s\n%s" % (name, proc.stdout[-6000:], proc.stderr[-3000:])
    return proc, results


@pytest.fixture(scope="module")
def em():
    with Emulator(vms=40, days=5, seed=11, tls=True, now=NOW, task_seconds=1) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def no_open_sessions(em):
    yield
    assert em.stats()["open_sessions"] == 0


def parse(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def dataset_sessions(dataset, kind):
    jobs = {job["id"]: job for job in dataset["jobs"]}
    return [session for session in dataset["job_sessions"]
            if (jobs[session["job_id"]]["type"] == "Replica") == (kind == "Replica")]


@pytest.fixture(scope="module")
def info(em, tmp_path_factory):
    em.reset_stats()
    proc, results = run_playbook(em, tmp_path_factory.mktemp("info"), "info", {"created_after": CREATED_AFTER})
    assert proc.returncode == 0, proc.stdout[-4000:]
    return results, em.stats(), em.dataset()


@pytest.mark.parametrize("kind", ["Backup", "Replica"])
def test_job_sessions_with_their_task_sessions(info, kind):
    results, stats, dataset = info
    key = "%s_job_sessions" % kind.lower()
    by_media = results["%s_js" % kind.lower()]
    json_items, xml_items = by_media[0][key], by_media[1][key]
    assert json_items and json_items == xml_items  # XML and JSON parse identically
    window = parse(CREATED_AFTER)
    expected = {session["id"]: session for session in dataset_sessions(dataset, kind)
                if parse(session["creation_time"]) >= window}
    assert sorted(item["id"] for item in json_items) == sorted(expected)
    tasks_by_session = {}
    for task in dataset["task_sessions"]:
        tasks_by_session.setdefault(task["job_session_id"], []).append(task["id"])
    for item in json_items:
        want = expected[item["id"]]
        assert item["uid"] == "urn:veeam:%sJobSession:%s" % (kind, want["id"])
        assert (item["state"], item["result"], item["is_retry"], item["progress"]) == (
            want["state"], want["result"], want["is_retry"], want["progress"])
        assert item["job_id"] == want["job_id"] and item["name"] == want["name"]
        assert item["creation_time"] == want["creation_time"] and item["end_time"] == want["end_time"]
        assert sorted(task["id"] for task in item["task_sessions"]) == sorted(tasks_by_session.get(item["id"], []))
        assert all(task["job_session_uid"] == item["uid"] for task in item["task_sessions"])
    # No N+1: one task-session query per 40 job sessions, never /backupSessions/{id}/taskSessions.
    summary = by_media[0]["task_session_query"]
    assert summary["batches"] == -(-len(json_items) // 40)
    assert summary["requests"] == summary["pages"]
    assert not [path for path in stats["requests"] if "taskSessions" in path or "TaskSessions" in path]


def test_filters_and_single_session(info):
    results, _stats, dataset = info
    retries = results["retries"]["backup_job_sessions"]
    assert retries and all(item["is_retry"] for item in retries)
    assert results["retries"]["query"]["filter"] == 'JobType=="Backup";IsRetry=="true"'
    one = results["one_js"]
    assert len(one["backup_job_sessions"]) == 1 and one["query"]["requests"] == 1
    assert one["backup_job_sessions"][0]["task_sessions"] == results["backup_js"][0]["backup_job_sessions"][0][
        "task_sessions"]


def test_jobs(info):
    results, _stats, dataset = info
    assert results["jobs"][0]["jobs"] == results["jobs"][1]["jobs"]
    jobs = {job["id"]: job for job in dataset["jobs"]}
    servers = {server["id"]: server for server in dataset["backup_servers"]}
    returned = results["jobs"][0]["jobs"]
    assert sorted(job["id"] for job in returned) == sorted(jobs)
    assert [job["name"] for job in returned] == sorted((job["name"] for job in returned), key=str.casefold)
    for job in returned:
        want = jobs[job["id"]]
        assert job["backup_server_name"] == servers[want["backup_server_id"]]["name"]
        assert job["job_type"] == want["type"] and job["schedule_enabled"] is want["schedule_enabled"]
    replica_jobs = results["replica_jobs"]["jobs"]
    assert sorted(job["id"] for job in replica_jobs) == sorted(
        job["id"] for job in dataset["jobs"] if job["type"] == "Replica" and job["schedule_enabled"])
    assert results["user_jobs"]["failed"] is True and "HTTP 403" in results["user_jobs"]["msg"]


def test_backup_servers(info):
    results, _stats, dataset = info
    assert results["servers"][0]["backup_servers"] == results["servers"][1]["backup_servers"]
    returned = results["servers"][0]["backup_servers"]
    assert sorted(server["name"] for server in returned) == sorted(server["name"] for server in dataset["backup_servers"])
    for server in returned:
        assert isinstance(server["port"], int) and server["version"] and server["uid"].startswith(
            "urn:veeam:BackupServer:")
    visible = [server["name"] for server in results["user_servers"]["backup_servers"]]
    assert visible == sorted((s["name"] for s in dataset["backup_servers"] if not s.get("restricted")),
                             key=str.casefold)


def test_restore_points(info):
    results, _stats, dataset = info
    assert results["points"][0]["vm_restore_points"] == results["points"][1]["vm_restore_points"]
    backup_sessions = {session["id"] for session in dataset_sessions(dataset, "Backup")}
    window = parse(CREATED_AFTER)
    expected = {task["point_id"] for task in dataset["task_sessions"]
                if task.get("point_id") and task["job_session_id"] in backup_sessions
                and parse(task["end_time"] or task["creation_time"]) >= window}
    returned = results["points"][0]["vm_restore_points"]
    assert returned
    assert {point["id"] for point in returned} == expected
    for point in returned:
        assert point["vm_display_name"] and point["point_type"] in ("Full", "Increment")
        assert point["restore_point_uid"].startswith("urn:veeam:RestorePoint:") and point["backup_server_name"]
    vm_points = results["vm_points"]["vm_restore_points"]
    assert 1 <= len(vm_points) <= 3
    assert [point["creation_time"] for point in vm_points] == sorted(
        (point["creation_time"] for point in vm_points), reverse=True)


# ---- veeam_em_job ------------------------------------------------------------------------------------

def latest_by_job(dataset):
    latest = {}
    for session in dataset["job_sessions"]:
        current = latest.get(session["job_id"])
        if current is None or parse(session["creation_time"]) > parse(current["creation_time"]):
            latest[session["job_id"]] = session
    return latest


def pick_jobs(dataset):
    latest = latest_by_job(dataset)
    jobs = [job for job in dataset["jobs"] if job["type"] == "Backup" and job["id"] in latest]
    servers = {server["id"]: server["name"] for server in dataset["backup_servers"]}
    running = [job for job in jobs if latest[job["id"]]["state"] != "Stopped"]
    idle = [job for job in jobs if latest[job["id"]]["state"] == "Stopped"]
    failed = [job for job in idle if latest[job["id"]]["result"] == "Failed"]
    success = [job for job in idle if latest[job["id"]]["result"] == "Success"]
    assert running and failed and len(success) >= 2, "the dataset lacks a running, failed or successful job"
    idle_job = success[1]
    return {"idle_job_name": idle_job["name"], "idle_job_server": servers[idle_job["backup_server_id"]],
            "running_job_id": running[0]["id"], "failed_job_id": failed[0]["id"],
            "success_job_id": "urn:veeam:Job:" + success[0]["id"]}


def test_job_actions(em, tmp_path):
    dataset = em.dataset()
    picked = pick_jobs(dataset)
    em.reset_stats()
    proc, results = run_playbook(em, tmp_path, "job_actions", picked)
    assert proc.returncode == 0, proc.stdout[-4000:]
    stats = em.stats()
    posts = {path: count for path, count in stats["requests"].items() if path.startswith("POST /api/jobs/")}
    # start (1) + stop (1) + retry (1) + forced retry (1); check mode and no-change runs send nothing
    assert sum(posts.values()) == 4, posts

    check = results["start_check"]
    assert check["changed"] is True and check["sent"] is False and check["task"] is None
    assert "would be sent" in check["msg"] and check["running"] is False

    started = results["start_wait"]
    assert started["changed"] is True and started["sent"] is True
    assert started["task"]["state"] == "Finished" and started["task"]["result_success"] is True
    assert started["task"]["operation"] == "StartJob" and started["waited"] > 0
    assert started["job"]["name"] == picked["idle_job_name"]
    assert started["job_session"]["uid"] == started["task"]["related"][0]["uid"]
    assert started["job_session"]["job_name"] == picked["idle_job_name"]

    assert results["start_running"]["changed"] is False and results["start_running"]["sent"] is False
    assert "already running" in results["start_running"]["msg"]
    assert results["stop_check"]["changed"] is True and results["stop_check"]["sent"] is False
    stopped = results["stop_wait"]
    assert stopped["changed"] is True and stopped["task"]["operation"] == "StopJob"
    assert stopped["task"]["result_success"] is True
    assert results["stop_again"]["changed"] is False and "not running" in results["stop_again"]["msg"]

    retried = results["retry_failed"]
    assert retried["changed"] is True and retried["task"]["operation"] == "RetryJob"
    assert retried["latest_session"]["result"] == "Failed"
    assert results["retry_success"]["changed"] is False
    assert "did not fail" in results["retry_success"]["msg"]
    forced = results["retry_forced"]
    assert forced["failed"] is True and forced["changed"] is True
    assert "finished without success" in forced["msg"] and forced["task"]["result_success"] is False

    assert results["unknown"]["failed"] is True and "no job named 'No such job'" in results["unknown"]["msg"]
    assert results["forbidden"]["failed"] is True and "HTTP 403" in results["forbidden"]["msg"]


def test_bad_input_fails_before_any_request(em, tmp_path):
    em.reset_stats()
    proc, results = run_playbook(em, tmp_path, "bad_input")
    assert proc.returncode == 0, proc.stdout[-4000:]
    expected = {
        "job_type": "option job_type: 'Replica' is not one of Backup",
        "state": "option state: 'Running' is not one of Starting",
        "platform": "option platform: 'Xen'",
        "uid": "option uid: 'urn:veeam:Job:5658281f-625e-4627-89dd-d2a0c48be99e' is a Job URN",
        "created_after": "option created_after: 'yesterday'",
        "id": "option id: 'not-a-guid'",
        "name": "option name",
    }
    for key, message in expected.items():
        assert results[key]["failed"] is True, key
        assert message in results[key]["msg"], (key, results[key]["msg"])
    assert em.stats()["requests_total"] == 0
