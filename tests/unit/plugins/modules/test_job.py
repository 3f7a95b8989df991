"""veeam_em_job: idempotence by the latest session, check mode, POST never retried, wait."""
import json

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_actions
from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_job
from unit.plugins.module_utils.em_fake import (
    TOKEN, FakeEM, Reply, error_body, paging_info, query_result_json, xml_doc)
from unit.plugins.modules.module_runner import CONNECTION, install_fake, run_module

JOB_GUID = "5658281f-625e-4627-89dd-d2a0c48be99e"
SESSION_GUID = "35c24055-bdee-4e43-b655-a42de408d2ec"


def job(job_type="Backup", name="DB Backup", server="vbr01", guid=JOB_GUID):
    return {"JobType": job_type, "Platform": "VMware", "Description": "", "ScheduleConfigured": True,
            "ScheduleEnabled": True, "NextRun": None, "Name": name, "UID": "urn:veeam:Job:" + guid,
            "Links": [{"Rel": "Up", "Type": "BackupServerReference", "Name": server,
                       "Href": "https://em/api/backupServers/7445e6ce-86f5-4171-b909-dac209c66563"}],
            "Href": "https://em/api/jobs/%s?format=Entity" % JOB_GUID, "Type": "Job"}


def session(state, result, kind="Backup"):
    return {"IsRetry": False, "JobUid": "urn:veeam:Job:" + JOB_GUID, "JobName": "DB Backup", "JobType": kind,
            "CreationTimeUTC": "2025-06-05T01:00:00Z", "EndTimeUTC": None, "State": state, "Result": result,
            "Progress": 100, "FailureMessage": None, "Name": "DB Backup@2025-06-05 01:00:00",
            "UID": "urn:veeam:%sJobSession:%s" % (kind, SESSION_GUID), "Links": [],
            "Href": "https://em/api/backupSessions/%s?format=Entity" % SESSION_GUID, "Type": "%sJobSession" % kind}


def task_node(state, success=True, message='Job "DB Backup" triggered to start.', kind="Backup"):
    node = {"Links": [{"Rel": "Delete", "Type": "Task", "Href": "https://em/api/tasks/task-7", "Name": None},
                      {"Rel": "Related", "Type": "%sJobSession" % kind, "Name": None,
                       "Href": "https://em/api/backupSessions/%s?format=Entity" % SESSION_GUID}],
            "TaskId": "task-7", "State": state, "Operation": "StartJob", "Result": None,
            "Href": "https://em/api/tasks/task-7", "Type": "Task"}
    if state != "Running":
        node["Result"] = {"Success": success, "Message": message}
    return node


class Scenario:
    """A fake EM with one job, its latest session, and a task that advances one state per poll."""

    def __init__(self, latest, jobs=None, task_states=("Running", "OperationFinished", "Finished"), success=True,
                 post_status=202, media="json"):
        self.latest = latest
        self.jobs = [job()] if jobs is None else jobs
        self.task_states = list(task_states)
        self.success = success
        self.post_status = post_status
        self.media = media
        self.fake = FakeEM(media, self.handle)

    def page(self, list_tag, items, container="Entities"):
        return Reply(200, query_result_json(list_tag, items, paging_info(1, 1, 100), container))

    def handle(self, call):
        if call.method == "POST" and call.path == "/api/jobs/%s" % JOB_GUID:
            if self.post_status != 202:
                return Reply(self.post_status, error_body("json", self.post_status, "busy"))
            node = task_node(self.next_state(), self.success)
            if self.media == "xml":
                return Reply(202, xml_doc("Task", node))
            return Reply(202, json.dumps(node).encode())
        if call.path == "/api/jobs/%s" % JOB_GUID:
            return Reply(200, json.dumps(self.jobs[0]).encode()) if self.jobs else Reply(404, b"")
        if call.path.startswith("/api/backupSessions/"):
            return Reply(200, json.dumps(session("Working", None)).encode())
        if call.path != "/api/query":
            return None
        kind = call.query["type"]
        if kind == "Job":
            return self.page("Jobs", self.jobs)
        if kind in ("BackupJobSession", "ReplicaJobSession"):
            return self.page(kind + "s", [self.latest] if self.latest else [])
        if kind == "Task":
            return self.page("Tasks", [task_node(self.next_state(), self.success)], container="Resources")
        return None

    def next_state(self):
        """The task's state at this request (the last state repeats)."""
        return self.task_states.pop(0) if len(self.task_states) > 1 else self.task_states[0]

    def posts(self):
        return [call for call in self.fake.calls if call.method == "POST" and call.path.startswith("/api/jobs/")]


@pytest.fixture
def scenario_factory(monkeypatch):
    def make(*args, **kwargs):
        scenario = Scenario(*args, **kwargs)
        install_fake(monkeypatch, scenario.fake)
        monkeypatch.setattr(em_actions.time, "sleep", lambda seconds: None)
        return scenario
    return make


def run(args, capsys, **kwargs):
    return run_module(veeam_em_job, dict(CONNECTION, **args), capsys, **kwargs)


@pytest.mark.parametrize("action, latest, sent", [
    ("start", session("Stopped", "Success"), True),
    ("start", None, True),
    ("start", session("Working", None), False),
    ("start", session("Stopping", None), False),
    ("stop", session("Working", None), True),
    ("stop", session("Resuming", None), True),
    ("stop", session("Stopped", "Failed"), False),
    ("stop", None, False),
    ("retry", session("Stopped", "Failed"), True),
    ("retry", session("Stopped", "Warning"), False),
    ("retry", session("Stopped", "Success"), False),
    ("retry", session("Working", None), False),
    ("retry", None, False),
])
def test_state_semantics(scenario_factory, capsys, action, latest, sent):
    scenario = scenario_factory(latest)
    result = run({"id": JOB_GUID, "action": action}, capsys)
    assert "failed" not in result, result
    assert result["changed"] is sent and result["sent"] is sent
    assert len(scenario.posts()) == (1 if sent else 0)
    if sent:
        post = scenario.posts()[0]
        assert post.query == {"action": action} and post.headers["X-RestSvcSessionId"] == TOKEN
        assert result["task"]["task_id"] == "task-7" and result["waited"] == 0
    else:
        assert result["task"] is None and "nothing to do" in result["msg"]
    query = [call for call in scenario.fake.api_calls() if call.query["type"].endswith("JobSession")][0]
    assert query.query["filter"] == 'JobUid=="urn:veeam:Job:%s"' % JOB_GUID
    assert query.query["sortDesc"] == "CreationTime" and query.query["pageSize"] == "1"


def test_force_sends_anyway(scenario_factory, capsys):
    scenario = scenario_factory(session("Working", None))
    result = run({"id": JOB_GUID, "action": "start", "force": True}, capsys)
    assert result["changed"] is True and len(scenario.posts()) == 1
    assert "forced: job is already running" in result["msg"]


@pytest.mark.parametrize("latest, changed", [(session("Stopped", "Failed"), True), (session("Working", None), False)])
def test_check_mode_never_posts(scenario_factory, capsys, latest, changed):
    scenario = scenario_factory(latest)
    result = run({"id": JOB_GUID, "action": "retry", "wait": True}, capsys, check_mode=True)
    assert result["changed"] is changed and result["sent"] is False and result["task"] is None
    assert scenario.posts() == []
    assert all(call.method in ("GET", "POST", "DELETE") for call in scenario.fake.calls)
    assert [call.method for call in scenario.fake.calls if call.path != "/api/sessionMngr/"].count("POST") == 0


@pytest.mark.parametrize("media", ["json", "xml"])
def test_wait_polls_the_task_and_reads_the_job_session(scenario_factory, capsys, media):
    scenario = scenario_factory(session("Stopped", "Success"), media=media)
    result = run({"name": "DB Backup", "action": "start", "wait": True, "wait_interval": 0.01, "media_type": media},
                 capsys)
    assert "failed" not in result, result
    assert result["task"]["state"] == "Finished" and result["task"]["result_success"] is True
    assert result["job_session"]["uid"] == "urn:veeam:BackupJobSession:" + SESSION_GUID
    assert result["job_session"]["state"] == "Working"
    task_polls = [call for call in scenario.fake.api_calls() if call.query["type"] == "Task"]
    assert len(task_polls) == 2 and task_polls[0].query["filter"] == 'TaskId=="task-7"'
    assert "triggered to start" in result["msg"]
    job_query = [call for call in scenario.fake.api_calls() if call.query["type"] == "Job"][0]
    assert job_query.query["filter"] == 'Name=="DB Backup"'
    assert scenario.fake.logons == 1 and scenario.fake.logoffs == 1


def test_unsuccessful_task_fails_with_the_task(scenario_factory, capsys):
    scenario_factory(session("Stopped", "Failed"), task_states=("Finished",), success=False)
    result = run({"id": JOB_GUID, "action": "retry", "wait": True, "wait_interval": 0.01}, capsys)
    assert result["failed"] is True and result["changed"] is True
    assert "finished without success" in result["msg"] and result["task"]["result_success"] is False


def test_wait_timeout_fails_with_the_last_task(scenario_factory, capsys):
    scenario_factory(session("Stopped", "Success"), task_states=("Running",))
    result = run({"id": JOB_GUID, "action": "start", "wait": True, "wait_timeout": 0, "wait_interval": 1}, capsys)
    assert result["failed"] is True and "still Running" in result["msg"] and result["task"]["state"] == "Running"
    assert result["changed"] is True


def test_post_is_never_retried(scenario_factory, capsys):
    scenario = scenario_factory(session("Stopped", "Success"), post_status=503)
    result = run({"id": JOB_GUID, "action": "start", "retries": 3}, capsys)
    assert result["failed"] is True and "POST /api/jobs/{id}?action=start failed: HTTP 503" in result["msg"]
    assert len(scenario.posts()) == 1
    assert scenario.fake.logoffs == 1


def test_name_lookup_ambiguity_and_absence(scenario_factory, capsys):
    scenario_factory(None, jobs=[job(server="vbr01"), job(server="vbr02", guid=SESSION_GUID)])
    result = run({"name": "DB Backup", "action": "start"}, capsys)
    assert result["failed"] and "2 jobs are named 'DB Backup' (on vbr01, vbr02)" in result["msg"]
    scenario_factory(None, jobs=[])
    result = run({"name": "Nope", "backup_server_name": "vbr01", "action": "start"}, capsys)
    assert result["failed"] and "no job named 'Nope' on 'vbr01'" in result["msg"]


def test_replica_job_reads_replica_sessions(scenario_factory, capsys):
    scenario = scenario_factory(session("Stopped", "Failed", kind="Replica"), jobs=[job(job_type="Replica")])
    result = run({"id": JOB_GUID, "action": "retry"}, capsys, check_mode=True)
    assert result["changed"] is True
    assert [call.query["type"] for call in scenario.fake.api_calls()] == ["ReplicaJobSession"]


@pytest.mark.parametrize("args, message", [
    ({"action": "start"}, "one of the following is required: id, name"),
    ({"id": JOB_GUID, "name": "x", "action": "start"}, "mutually exclusive"),
    ({"id": JOB_GUID, "action": "sync"}, "action"),
    ({"id": "urn:veeam:BackupServer:" + JOB_GUID, "action": "start"}, "option id"),
    ({"id": "job-1", "action": "start"}, "option id: 'job-1'"),
    ({"name": " ", "action": "start"}, "option name: must not be empty"),
    ({"name": "a\x00b", "action": "start"}, "option name"),
    ({"name": "a", "backup_server_name": "b\nc", "action": "start"}, "option backup_server_name"),
    ({"id": JOB_GUID, "action": "start", "wait_interval": 0}, "option wait_interval"),
    ({"id": JOB_GUID, "action": "start", "wait_timeout": -1}, "option wait_timeout"),
])
def test_bad_input_fails_before_any_request(scenario_factory, capsys, args, message):
    scenario = scenario_factory(None)
    result = run(args, capsys)
    # ansible-core 2.20+ refuses a NUL in any argument while logging the call to syslog, before
    # the module's own check: a different message, the same outcome (nothing sent).
    nul_refused_by_core = "\x00" in str(args) and "embedded null character" in result["msg"]
    assert result["failed"] is True and (message in result["msg"] or nul_refused_by_core), result["msg"]
    assert scenario.fake.calls == []
