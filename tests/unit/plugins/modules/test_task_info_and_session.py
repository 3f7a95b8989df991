"""veeam_em_task_info (filters, wait) and veeam_em_session (logon, logoff, idempotence)."""
import json
import os

import pytest

from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_session, veeam_em_task_info
from unit.plugins.module_utils.em_fake import (
    SESSION_ID, TOKEN, FakeEM, Reply, paging_info, query_result_json)
from unit.plugins.modules.module_runner import CONNECTION, install_fake, run_module

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "em_samples")


def task(number, state):
    node = {"Links": [{"Rel": "Delete", "Href": "https://em/api/tasks/task-%d" % number, "Name": None, "Type": None}],
            "TaskId": "task-%d" % number, "State": state, "Operation": "StartJob",
            "Href": "https://em/api/tasks/task-%d" % number, "Type": "Task"}
    if state != "Running":
        node["Result"] = {"Success": True, "Message": "Ok"}
    return node


def task_pages(states_per_poll):
    """Each GET /api/query returns the next poll's tasks (the last one repeats)."""
    polls = list(states_per_poll)

    def handler(call):
        if call.path != "/api/query":
            return None
        states = polls.pop(0) if len(polls) > 1 else polls[0]
        tasks = [task(index + 1, state) for index, state in enumerate(states)]
        return Reply(200, query_result_json("Tasks", tasks, paging_info(1, 1, 1000), container="Resources"))
    return handler


class FakeClock:
    """time.monotonic/time.sleep for the module: sleeping advances the clock, nothing else does."""

    def __init__(self, monkeypatch, module):
        self.now = 1000.0
        monkeypatch.setattr(module.time, "monotonic", lambda: self.now)
        monkeypatch.setattr(module.time, "sleep", self.sleep)

    def sleep(self, seconds):
        self.now += seconds


def test_task_info_filters_and_returns_tasks(monkeypatch, capsys):
    fake = FakeEM("json", task_pages([["Finished", "Running"]]))
    install_fake(monkeypatch, fake)
    FakeClock(monkeypatch, veeam_em_task_info)
    result = run_module(veeam_em_task_info, dict(CONNECTION, session_id=TOKEN, task_id=["task-1", "task-2"],
                                                 state=["finished", "RUNNING"], operation="StartJob"), capsys)
    assert [t["task_id"] for t in result["tasks"]] == ["task-1", "task-2"]
    assert result["tasks"][1]["result_success"] is None
    call = fake.api_calls()[0]
    assert call.query["type"] == "Task" and call.query["sortAsc"] == "TaskId"
    assert call.query["filter"] == ('(TaskId=="task-1",TaskId=="task-2");(State=="Finished",State=="Running");'
                                    'Operation=="StartJob"')
    assert fake.logons == 0 and fake.logoffs == 0 and result["waited"] == 0  # no wait: one query, no sleep


def test_task_info_wait_polls_until_finished(monkeypatch, capsys):
    fake = FakeEM("xml", task_pages([["Running"], ["OperationFinished"], ["Finished"]]))
    install_fake(monkeypatch, fake)
    FakeClock(monkeypatch, veeam_em_task_info)
    result = run_module(veeam_em_task_info, dict(CONNECTION, session_id=TOKEN, task_id="task-1", wait=True,
                                                 wait_interval=5, media_type="xml"), capsys)
    assert result["tasks"][0]["state"] == "Finished" and result["tasks"][0]["result_success"] is True
    assert len(fake.api_calls()) == 3 and result["waited"] == 10  # two intervals between three polls


def test_task_info_wait_timeout_fails_with_tasks(monkeypatch, capsys):
    fake = FakeEM("json", task_pages([["Running"]]))
    install_fake(monkeypatch, fake)
    FakeClock(monkeypatch, veeam_em_task_info)
    result = run_module(veeam_em_task_info, dict(CONNECTION, wait=True, wait_timeout=10, wait_interval=3), capsys)
    assert result["failed"] and "task-1 not Finished" in result["msg"]
    assert len(fake.api_calls()) == 4 and result["waited"] == 9  # polls at 0, 3, 6, 9 s; 12 s is past 10
    assert result["tasks"][0]["state"] == "Running"
    assert fake.logons == 1 and fake.logoffs == 1  # logoff also on the wait failure


def test_task_info_sample_resources_xml(monkeypatch, capsys):
    with open(os.path.join(SAMPLES, "query_task_resources.xml"), "rb") as handle:
        body = handle.read()
    fake = FakeEM("xml", lambda call: Reply(200, body) if call.path == "/api/query" else None)
    install_fake(monkeypatch, fake)
    result = run_module(veeam_em_task_info, dict(CONNECTION, media_type="xml"), capsys)
    assert [t["operation"] for t in result["tasks"]] == ["StartJob", "StartJob", "CloneJob"]
    assert fake.api_calls()[0].headers["Accept"] == "application/xml"


@pytest.mark.parametrize("args, message", [
    ({"state": ["Done"]}, "option state"),
    ({"wait_interval": 0}, "wait_interval"),
    ({"task_id": ["task-1\n"]}, "option task_id"),
])
def test_task_info_bad_input(monkeypatch, capsys, args, message):
    fake = FakeEM("json")
    install_fake(monkeypatch, fake)
    result = run_module(veeam_em_task_info, dict(CONNECTION, **args), capsys)
    assert result["failed"] and message in result["msg"] and fake.calls == []


# ---- veeam_em_session ------------------------------------------------------------------------------

def root_handler(call):
    if call.path == "/api/":
        with open(os.path.join(SAMPLES, "enterprise_manager_root.xml"), "rb") as handle:
            return Reply(200, handle.read())
    return None


@pytest.mark.parametrize("check_mode", [False, True])
def test_session_present_logs_on_and_stays_logged_on(monkeypatch, capsys, check_mode):
    fake = FakeEM("xml", root_handler)
    install_fake(monkeypatch, fake)
    result = run_module(veeam_em_session, dict(CONNECTION), capsys, check_mode=check_mode)
    assert result["changed"] is True
    assert result["session_id"] == TOKEN and result["logon_session_id"] == SESSION_ID
    assert result["api_version"] == "latest" and result["user_name"] == "EM\\emadmin"
    assert fake.logons == 1 and fake.logoffs == 0
    assert len(fake.calls) == 1  # the logon and nothing else: no version look-up request


def test_session_present_explicit_version(monkeypatch, capsys):
    fake = FakeEM("json")
    install_fake(monkeypatch, fake)
    result = run_module(veeam_em_session, dict(CONNECTION, api_version="v1_6"), capsys)
    assert result["api_version"] == "v1_6" and fake.calls[0].query == {"v": "v1_6"} and len(fake.calls) == 1


def logon_sessions_handler(call):
    if call.path == "/api/logonSessions":
        if call.headers.get("X-RestSvcSessionId") != TOKEN:
            return Reply(401, b"")
        return Reply(200, json.dumps({"LogonSessions": [{"SessionId": SESSION_ID, "UserName": "EM\\svc"}]}).encode())
    return None


def test_session_absent_logs_off(monkeypatch, capsys):
    fake = FakeEM("json", logon_sessions_handler)
    install_fake(monkeypatch, fake)
    result = run_module(veeam_em_session, dict(CONNECTION, state="absent", session_id=TOKEN), capsys)
    assert result["changed"] is True and result["logon_session_id"] == SESSION_ID
    assert fake.logoffs == 1 and fake.calls[-1].path == "/api/logonSessions/%s" % SESSION_ID
    assert fake.calls[-1].headers["X-RestSvcSessionId"] == TOKEN and fake.logons == 0
    assert TOKEN not in json.dumps(result)


def test_session_absent_is_one_request_when_the_token_encodes_the_session_id(monkeypatch, capsys):
    fake = FakeEM("json", logon_sessions_handler)
    install_fake(monkeypatch, fake)
    run_module(veeam_em_session, dict(CONNECTION, state="absent", session_id=TOKEN), capsys)
    assert [(call.method, call.path) for call in fake.calls] == [("DELETE", "/api/logonSessions/%s" % SESSION_ID)]


def test_session_absent_looks_the_session_up_when_the_token_is_opaque(monkeypatch, capsys):
    """EM documents the token as opaque; base64(SessionId) is only observed. Stay correct without it."""
    opaque = "O9Msj3rq7EGUhtSMBQx+mw=="  # the 16-raw-byte form of EM's logon documentation example

    def handler(call):
        if call.path == "/api/logonSessions" and call.headers.get("X-RestSvcSessionId") == opaque:
            return Reply(200, json.dumps({"LogonSessions": [{"SessionId": SESSION_ID}]}).encode())
        return None

    fake = FakeEM("json", handler)
    install_fake(monkeypatch, fake)
    result = run_module(veeam_em_session, dict(CONNECTION, state="absent", session_id=opaque), capsys)
    assert result["changed"] is True and result["logon_session_id"] == SESSION_ID
    assert fake.calls[-1].method == "DELETE" and fake.calls[-1].path == "/api/logonSessions/%s" % SESSION_ID


def test_session_absent_check_mode_does_not_log_off(monkeypatch, capsys):
    fake = FakeEM("json", logon_sessions_handler)
    install_fake(monkeypatch, fake)
    result = run_module(veeam_em_session, dict(CONNECTION, state="absent", session_id=TOKEN), capsys, check_mode=True)
    assert result["changed"] is True and fake.logoffs == 0


def test_session_absent_expired_is_unchanged(monkeypatch, capsys):
    fake = FakeEM("json", logon_sessions_handler)
    install_fake(monkeypatch, fake)
    result = run_module(veeam_em_session, dict(CONNECTION, state="absent", session_id="expired-token"), capsys)
    assert result["changed"] is False and "failed" not in result and fake.logoffs == 0


def test_session_absent_already_deleted_is_unchanged(monkeypatch, capsys):
    fake = FakeEM("json", logon_sessions_handler, logoff=lambda call: Reply(404, b""))
    install_fake(monkeypatch, fake)
    result = run_module(veeam_em_session, dict(CONNECTION, state="absent", session_id=TOKEN), capsys)
    assert result["changed"] is False and "failed" not in result


def test_session_absent_requires_session_id(monkeypatch, capsys):
    fake = FakeEM("json")
    install_fake(monkeypatch, fake)
    result = run_module(veeam_em_session, dict(CONNECTION, state="absent"), capsys)
    assert result["failed"] and "session_id" in result["msg"] and fake.calls == []


def test_session_bad_password_fails_without_secret(monkeypatch, capsys):
    fake = FakeEM("json", logon=lambda call: Reply(401, b"", {"WWW-Authenticate": "Basic Realm=RestSvc"}))
    install_fake(monkeypatch, fake)
    result = run_module(veeam_em_session, dict(CONNECTION), capsys)
    assert result["failed"] and "check username and password" in result["msg"]
    assert CONNECTION["password"] not in json.dumps(result)
