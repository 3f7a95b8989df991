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


# ---- attack, session 15: module parameters are loaded only in a module process ----------------

ENV_SESSION = "ZW52aXJvbm1lbnQtc2Vzc2lvbi10b2tlbi14eXo="


class Adapter(object):
    """What the inventory plugin and the EDA source pass to connection_options: params and warn."""

    def __init__(self, written_args=None, **params):
        self.params = dict(dict((key, spec.get("default")) for key, spec in em_module.connection_argument_spec().items()),
                           server="em.example.com", username="EM\\svc", password=PASSWORD, session_id=ENV_SESSION)
        self.params.update(params)
        if written_args is not None:
            self.written_args = written_args
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


def test_connection_options_outside_a_module_never_loads_module_parameters(monkeypatch):
    """Found (attack, session 15): with VEEAM_EM_SESSION_ID set, connection_options called ansible's
    module-side _load_params in the controller (inventory plugin, EDA source): ansible-core 2.19 ran argparse
    over the controller's sys.argv (SystemExit 2: ansible-inventory/ansible-playbook ended) or read stdin.
    Now an adapter is never a module: its own written arguments decide, and the loader is not called."""
    from ansible.module_utils import basic
    monkeypatch.setenv("VEEAM_EM_SESSION_ID", ENV_SESSION)
    monkeypatch.setattr("sys.argv", ["ansible-rulebook", "--rulebook", "r.yml", "-i", "inv.yml"])

    def loader():
        raise AssertionError("module parameters loaded outside a module process")
    monkeypatch.setattr(basic, "_load_params", loader)
    adapter = Adapter()
    assert em_module.connection_options(adapter).session_id == ENV_SESSION  # nothing written: the session
    written = Adapter(written_args={"username": "EM\\svc", "password": PASSWORD})
    assert em_module.connection_options(written).session_id is None  # an account written: it wins
    assert any("VEEAM_EM_SESSION_ID from the environment is ignored" in text for text in written.warnings)
