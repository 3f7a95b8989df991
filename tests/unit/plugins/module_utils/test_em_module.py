"""em_module directly: the one edge where an EMError becomes fail_json, and the wait checks.

A stand-in module records fail_json/exit instead of printing, so that only em_module's own code
decides what reaches the user (the module tests go through AnsibleModule as a whole).
"""
import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_module
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMAuthError, EMTaskFailed, EMTaskTimeout, EMValidationError)

PASSWORD = "S3cret-Pa55!"


class Failed(Exception):
    pass


class StandIn:
    def __init__(self, **params):
        self.params = dict({"password": PASSWORD, "session_id": None}, **params)
        self.warnings = []
        self.failure = None

    def warn(self, text):
        self.warnings.append(text)

    def fail_json(self, **result):
        self.failure = result
        raise Failed()


class ClientStandIn:
    def __init__(self, warnings=()):
        self.token = None
        self.warnings = list(warnings)


def test_fail_names_the_request_and_status_and_scrubs():
    module = StandIn()
    error = EMAuthError("HTTP 401 for password %s" % PASSWORD, request="GET /api/query (type=Task)", status=401)
    with pytest.raises(Failed):
        em_module.fail(module, error)
    assert PASSWORD not in module.failure["msg"] and "GET /api/query (type=Task) failed" in module.failure["msg"]
    assert module.failure["error"] == {"status": 401, "request": "GET /api/query (type=Task)"}


def test_fail_returns_the_result_an_error_carries_with_the_error_as_message():
    module = StandIn()
    error = EMTaskFailed("task task-7 finished without success: Failed",
                         result={"changed": True, "task": {"task_id": "task-7"}, "msg": "action sent"})
    with pytest.raises(Failed):
        em_module.fail(module, error, None, queries=3)
    failure = module.failure
    assert failure["msg"] == "task task-7 finished without success: Failed"
    assert failure["changed"] is True and failure["task"] == {"task_id": "task-7"} and failure["queries"] == 3


def test_fail_passes_the_client_warnings_once():
    module, client = StandIn(), ClientStandIn(["retried page 2 (HTTP 503)"])
    with pytest.raises(Failed):
        em_module.fail(module, EMTaskTimeout("slow", result={"waited": 10.0}), client)
    assert module.warnings == ["retried page 2 (HTTP 503)"] and client.warnings == []
    assert module.failure["waited"] == 10.0


def test_a_result_error_copies_its_result():
    result = {"task": 1}
    error = EMTaskTimeout("slow", result=result)
    result["task"] = 2
    assert error.result == {"task": 1}


@pytest.mark.parametrize("timeout, interval, message", [
    (-1, 3, "option wait_timeout: -1 must be 0 or more"),
    (10, 0, "option wait_interval: 0 must be a number of seconds greater than 0"),
    (10, float("nan"), "option wait_interval: nan must be a number of seconds greater than 0"),  # sleep(nan) raised
    (10, float("inf"), "option wait_interval: inf must be a number of seconds greater than 0"),
])
def test_check_wait_names_the_option(timeout, interval, message):
    with pytest.raises(EMValidationError) as raised:
        em_module.check_wait({"wait_timeout": timeout, "wait_interval": interval})
    assert str(raised.value) == message


def test_check_wait_accepts_a_zero_timeout():
    em_module.check_wait({"wait_timeout": 0, "wait_interval": 0.5})


def test_wait_options_are_declared_once():
    assert em_module.wait_argument_spec() == {"wait_timeout": {"type": "int", "default": 300},
                                              "wait_interval": {"type": "float", "default": 3}}
