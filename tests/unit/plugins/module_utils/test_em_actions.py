"""em_actions directly: the job action POST (through the client's public door) and the task wait."""
import json

import pytest
import requests

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_actions
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_client import ConnectionOptions, EMClient
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMError, EMResponseError, EMServerError, EMTaskTimeout, EMTransportError)
from unit.plugins.module_utils.em_fake import (
    TOKEN, FakeEM, Reply, error_body, mount, paging_info, query_result_json)

JOB_GUID = "0e1a4d5b-6f3c-4b2a-9d8e-7c6b5a4f3e2d"


def task_node(state, task_id="task-7"):
    node = {"Links": [], "TaskId": task_id, "State": state, "Operation": "StartJob", "Result": None,
            "Href": "https://em/api/tasks/%s" % task_id, "Type": "Task"}
    if state != "Running":
        node["Result"] = {"Success": True, "Message": "ok"}
    return node


def client_for(handler, **options):
    settings = dict(server="em.example.com", username="EM\\svc", password="S3cret-Pa55!", retry_backoff=0, retries=3)
    settings.update(options)
    client = EMClient(ConnectionOptions(**settings), sleep=lambda seconds: None)
    fake = mount(client, FakeEM("json", handler))
    return client, fake


def posts(fake):
    return [call for call in fake.calls if call.method == "POST" and call.path.startswith("/api/jobs/")]


def test_post_job_action_returns_the_normalised_task():
    def handler(call):
        if call.method == "POST":
            return Reply(202, json.dumps(task_node("Running")).encode())
        return None
    client, fake = client_for(handler)
    with client:
        task = em_actions.post_job_action(client, JOB_GUID, "start")
    assert task["task_id"] == "task-7" and task["state"] == "Running"
    [post] = posts(fake)
    assert post.path == "/api/jobs/%s" % JOB_GUID and post.query == {"action": "start"}
    assert post.headers["X-RestSvcSessionId"] == TOKEN


def test_unknown_action_is_refused_before_any_request():
    client, fake = client_for(lambda call: None)
    with client:
        with pytest.raises(EMError, match="unknown job action 'restart'"):
            em_actions.post_job_action(client, JOB_GUID, "restart")
    assert posts(fake) == []


@pytest.mark.parametrize("reply", [Reply(503, error_body("json", 503, "busy")),
                                   Reply(0, exc=requests.exceptions.ConnectionError("reset"))])
def test_action_post_is_never_repeated_after_a_5xx_or_transport_error(reply):
    client, fake = client_for(lambda call: reply if call.method == "POST" else None)
    with client:
        with pytest.raises((EMServerError, EMTransportError)):
            em_actions.post_job_action(client, JOB_GUID, "start")
    assert len(posts(fake)) == 1  # retries=3 for reads, but a POST that may have acted is sent once


def test_action_post_is_repeated_once_after_a_relogon_on_401():
    answers = [Reply(401, error_body("json", 401, "expired")), Reply(202, json.dumps(task_node("Running")).encode())]

    def handler(call):
        return answers.pop(0) if call.method == "POST" else None
    client, fake = client_for(handler)
    with client:
        task = em_actions.post_job_action(client, JOB_GUID, "stop")
    assert task["task_id"] == "task-7" and len(posts(fake)) == 2 and fake.logons == 2


def test_an_action_answered_without_a_task_is_an_error():
    client, _fake = client_for(lambda call: Reply(202, b"") if call.method == "POST" else None)
    with client:
        with pytest.raises(EMResponseError, match="returned no Task"):
            em_actions.post_job_action(client, JOB_GUID, "retry")


class Clock:
    """A clock that only sleeping advances."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def task_pages(states):
    """query?type=Task answers: one state per poll, the last repeated; [] for an unlisted task."""
    states = list(states)

    def handler(call):
        if call.path != "/api/query":
            return None
        state = states.pop(0) if len(states) > 1 else states[0]
        items = [] if state is None else [task_node(state)]
        return Reply(200, query_result_json("Tasks", items, paging_info(1, 1, 100), "Resources"))
    return handler


def test_wait_for_task_polls_until_finished():
    clock = Clock()
    client, fake = client_for(task_pages(["OperationFinished", "Finished"]))
    with client:
        task, waited = em_actions.wait_for_task(client, {"task_id": "task-7", "state": "Running"}, 60, 5,
                                                sleep=clock.sleep, clock=clock)
    assert task["state"] == "Finished" and waited == 10 and clock.sleeps == [5, 5]
    assert [call.query["filter"] for call in fake.api_calls()] == ['TaskId=="task-7"'] * 2


def test_wait_for_a_finished_task_reads_nothing():
    clock = Clock()
    client, fake = client_for(task_pages(["Running"]))
    with client:
        task, waited = em_actions.wait_for_task(client, {"task_id": "task-7", "state": "Finished"}, 60, 5,
                                                sleep=clock.sleep, clock=clock)
    assert task["state"] == "Finished" and waited == 0 and fake.api_calls() == []


def test_wait_timeout_carries_the_task_last_seen():
    clock = Clock()
    client, fake = client_for(task_pages(["Running", "OperationFinished"]))
    with client:
        with pytest.raises(EMTaskTimeout) as raised:
            em_actions.wait_for_task(client, {"task_id": "task-7", "state": "Running"}, 12, 5,
                                     sleep=clock.sleep, clock=clock)
    # polls at 5 and 10 s; a third sleep would end at 15 s, past 12
    assert clock.sleeps == [5, 5] and len(fake.api_calls()) == 2
    assert raised.value.result["task"]["state"] == "OperationFinished"
    assert "task task-7 is still OperationFinished after 10.0 seconds" in str(raised.value)


def test_a_task_that_disappears_is_an_error_not_a_wait():
    clock = Clock()
    client, _fake = client_for(task_pages([None]))
    with client:
        with pytest.raises(EMResponseError, match="task task-7 is no longer listed"):
            em_actions.wait_for_task(client, {"task_id": "task-7", "state": "Running"}, 60, 5,
                                     sleep=clock.sleep, clock=clock)
