"""A secret EM (or a proxy) echoes in another letter case never reaches a module's result.

ansible-core's no_log masking (remove_values over ``module.no_log_values``) masks the exact case
only. EM's text reaches the result unscrubbed in items (a task's Result Message), in the partial
result an error carries, in warnings and in the -vvv traceback; a password upper-cased by an error
page ("INVALID CREDENTIALS FOR EM\\SVC:PA55...") or a token a proxy lower-cased passed through
all of them. The password here has the characters JSON, XML and URLs each escape differently.
"""
import base64
import json
from urllib.parse import quote

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_module, em_secrets
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMTaskFailed
from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_task_info
from unit.plugins.module_utils.em_fake import SESSION_ID, TOKEN, FakeEM, Reply, paging_info, query_result_json
from unit.plugins.modules.module_runner import CONNECTION, install_fake, patch_module_args, run_module

PASSWORD = 'Pa55"w0rd&<x>'
ARGS = dict(CONNECTION, password=PASSWORD)
UPPER = PASSWORD.upper()
BASIC = base64.b64encode(("%s:%s" % (CONNECTION["username"], PASSWORD)).encode()).decode()
ECHOES = {
    "password upper-cased": UPPER,
    "URL-encoded": quote(UPPER, safe=""),
    "JSON-escaped": json.dumps(UPPER)[1:-1],
    "XML-escaped": UPPER.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"),
    "Basic user:password lower-cased": BASIC.lower(),
    "token lower-cased": TOKEN.lower(),
    "session id in mixed case": SESSION_ID[:8].upper() + SESSION_ID[8:],
}


def task_handler(message):
    def handler(call):
        if call.path != "/api/query":
            return None
        node = {"Links": [], "TaskId": "task-1", "State": "Finished", "Operation": "StartJob", "Type": "Task",
                "Href": "https://em/api/tasks/task-1", "Result": {"Success": False, "Message": message}}
        return Reply(200, query_result_json("Tasks", [node], paging_info(1, 1, 1000), container="Resources"))
    return handler


@pytest.mark.parametrize("media", ["json", "xml"])
@pytest.mark.parametrize("name", sorted(ECHOES))
def test_a_secret_echoed_in_another_case_in_an_item_is_masked(monkeypatch, capsys, name, media):
    echo = ECHOES[name]
    install_fake(monkeypatch, FakeEM(media, task_handler("INVALID CREDENTIALS FOR EMADMIN %s; retry" % echo)))
    result = run_module(veeam_em_task_info, dict(ARGS, media_type=media), capsys)
    message = result["tasks"][0]["result_message"]
    assert message == "INVALID CREDENTIALS FOR EMADMIN ********; retry", name  # masked whole, nothing else
    assert echo not in json.dumps(result) and echo.lower() not in json.dumps(result).lower()


def test_a_warning_a_carried_result_and_the_traceback_are_masked_in_any_case(monkeypatch, capsys):
    """Every way into fail_json: module.warn, the partial result an EMResultError carries, and the
    traceback ansible-core adds at -vvv (the error's text, with EM's message in it)."""
    from ansible.module_utils import basic
    traceback_module = getattr(basic, "_traceback", None)
    if traceback_module is not None and hasattr(traceback_module, "is_traceback_enabled"):  # ansible-core 2.19
        monkeypatch.setattr(traceback_module, "is_traceback_enabled", lambda event: True)
    try:  # ansible-core 2.19: after a controller-side test in this process, module.warn goes to Display, not the result
        from ansible.module_utils import _internal
        monkeypatch.setattr(_internal, "is_controller", False, raising=False)
    except ImportError:
        pass
    error = EMTaskFailed("task task-7 finished without success: LOGON AS %s REFUSED" % UPPER,
                         result={"task": {"task_id": "task-7", "result_message": "BAD PASSWORD %s" % UPPER}})
    with patch_module_args(dict(ARGS, _ansible_verbosity=3)):
        module = em_module.create_module({})
        em_module.connection_options(module)
        # as the logon does (no logon here): the test must not rest on an earlier test's logon in this process
        # (ansible-test runs each test in a fork of its own)
        em_secrets.register_token(TOKEN)
        module.warn("the proxy answered: %s" % ECHOES["token lower-cased"])
        with pytest.raises(SystemExit):
            try:
                raise error
            except EMTaskFailed as raised:
                em_module.fail(module, raised)
    out = capsys.readouterr().out
    result = json.loads(out)
    assert result["failed"] and result["task"]["result_message"] == "BAD PASSWORD ********"
    assert "the proxy answered: ********" in json.dumps(result["warnings"])  # 2.19: structured warnings
    assert "exception" in result
    if "LOGON AS" in str(result["exception"]):  # 2.19 writes the error's text into it; 2.16-2.18 the frames only
        assert "LOGON AS ******** REFUSED" in str(result["exception"])
    for echo in (UPPER, ECHOES["token lower-cased"]):
        assert echo not in out and json.dumps(echo)[1:-1] not in out
