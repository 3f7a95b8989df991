"""Connection options that cannot be sent safely are refused before any request (issue 5)."""
import json

import pytest

from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_backup_task_session_info, veeam_em_session
from unit.plugins.module_utils.em_fake import TOKEN, FakeEM, paged_handler
from unit.plugins.modules.module_runner import CONNECTION, install_fake, run_module

BAD_TOKENS = ["abc\r\nX-Evil: 1", "abc def", "tok\x00en", "t\u00f6ken", "\ttoken"]


@pytest.mark.parametrize("token", BAD_TOKENS)
@pytest.mark.parametrize("module, extra", [(veeam_em_backup_task_session_info, {}),
                                           (veeam_em_session, {"state": "absent"})])
def test_session_id_that_is_no_token_is_refused_before_any_request_and_not_echoed(
        monkeypatch, capsys, module, extra, token):
    fake = FakeEM("json", paged_handler([], "json"))
    install_fake(monkeypatch, fake)
    result = run_module(module, dict(CONNECTION, session_id=token, **extra), capsys)
    assert result["failed"] is True
    assert "option session_id: not a session token" in result["msg"]
    assert token not in result["msg"] and repr(token)[1:-1] not in result["msg"]
    assert fake.calls == []


@pytest.mark.parametrize("username", ["EM\\svc:admin", "svc\nadmin", "svc\u2028"])
def test_username_that_basic_auth_cannot_carry_is_refused_before_any_request(monkeypatch, capsys, username):
    fake = FakeEM("json", paged_handler([], "json"))
    install_fake(monkeypatch, fake)
    result = run_module(veeam_em_backup_task_session_info, dict(CONNECTION, username=username), capsys)
    assert result["failed"] is True and "option username" in result["msg"]
    assert fake.calls == []


def test_a_real_token_and_a_domain_username_are_accepted(monkeypatch, capsys):
    fake = FakeEM("json", paged_handler([], "json"))
    install_fake(monkeypatch, fake)
    result = run_module(veeam_em_backup_task_session_info, dict(CONNECTION, session_id=TOKEN), capsys)
    assert not result.get("failed") and fake.calls
    result = run_module(veeam_em_backup_task_session_info, dict(CONNECTION, username="CORP\\svc-b\u00fcro"), capsys)
    assert not result.get("failed")


# ---- attacks, session 15 -----------------------------------------------------------------------

from ansible_collections.backupops.veeam_em.plugins.modules import (  # noqa: E402
    veeam_em_compliance_info, veeam_em_job, veeam_em_job_info, veeam_em_task_info)
from unit.plugins.module_utils.em_fake import synthetic_task_session  # noqa: E402

URL_SECRET = "Hunter2-Url-Secret"


@pytest.mark.parametrize("module, bad", [
    (veeam_em_backup_task_session_info, dict(page_size=0)),
    (veeam_em_backup_task_session_info, dict(filter="Name==\"x")),
    (veeam_em_backup_task_session_info, dict(created_after="yesterday")),
    (veeam_em_backup_task_session_info, dict(id="not-a-guid")),
    (veeam_em_backup_task_session_info, dict(sort_order="sideways")),   # AnsibleModule's own choices check
    (veeam_em_backup_task_session_info, dict(page_size="many")),        # AnsibleModule's own type check
    (veeam_em_backup_task_session_info, dict(id="x", filter="Name==\"y\"")),  # mutually exclusive
    (veeam_em_job_info, dict(limit=0)),
    (veeam_em_task_info, dict(concurrency=99)),
    (veeam_em_task_info, dict(wait_timeout=-1)),
    (veeam_em_job, dict(id="not-a-guid", action="start")),
    (veeam_em_session, dict(state="absent")),                           # required_if
    (veeam_em_compliance_info, dict(backup_rpo_hours=-1)),
])
@pytest.mark.parametrize("through", ["option", "environment"])
def test_a_password_written_into_server_never_reaches_the_result(monkeypatch, capsys, module, bad, through):
    """Found (attack, session 15): the user info of a server such as https://admin:<pw>@host was masked only once
    connection_options ran: any option refused before (ours or AnsibleModule's own checks) failed the module
    with the password in clear in invocation.module_args.server (-vvv, AWX job events). Now it is masked from
    the moment the options are read, also when the server comes from VEEAM_EM_SERVER."""
    fake = FakeEM("json", paged_handler([synthetic_task_session(i) for i in range(3)], "json"))
    install_fake(monkeypatch, fake)
    monkeypatch.delenv("VEEAM_EM_SESSION_ID", raising=False)
    server = "https://admin:%s@em.example.com" % URL_SECRET
    args = dict(CONNECTION, **bad)
    if through == "option":
        args["server"] = server
    else:
        args.pop("server")
        monkeypatch.setenv("VEEAM_EM_SERVER", server)
    result = run_module(module, args, capsys)
    assert result.get("failed"), result
    assert URL_SECRET not in json.dumps(result), result.get("invocation")
    assert fake.calls == []


@pytest.mark.parametrize("server, port, named", [
    ("em.example.com", 0, "option port: 0"), ("em.example.com", 70000, "option port: 70000"),
    ("em.example.com", -1, "option port: -1"),
    ("em.example.com#x", 9398, "option server: 'em.example.com#x'"),
    ("em.example.com?x", 9398, "option server: 'em.example.com?x'"),
    ("em.example.com\\x", 9398, "option server: %r" % "em.example.com\\x"),
    ("https://em.example.com/api?x=1", 9398, "option server: 'https://em.example.com/api?x=1'"),
    ("em .example.com", 9398, "option server: 'em .example.com'"),
    ("https://em.example.com:0", 9398, "option server: 'https://em.example.com:0' has the port '0'"),
    ("em.example.com:99999", 9398, "option server: 'em.example.com:99999' has the port '99999'"),
    ("em.example.com:x1", 9398, "option server: 'em.example.com:x1' has the port 'x1'"),
    ("ftp://em.example.com", 9398, "option server: 'ftp://em.example.com' has the scheme 'ftp'"),
    ("https://:9398", 9398, "option server: 'https://:9398' names no host"),
])
def test_a_port_or_server_requests_would_read_as_another_url_is_refused(monkeypatch, capsys, server, port, named):
    """Found (attack, session 15): port was not range-checked and server could hold '#', '?', '\\\\': requests
    then read another URL (port 0 dropped; the host part ended at '#', '?' or '\\\\') and the logon with the
    Authorization header went to port 443 of the host, not to EM; 70000 and -1 failed late as "cannot
    reach". Now each is refused before any request, naming the option and the value."""
    fake = FakeEM("json", paged_handler([synthetic_task_session(i) for i in range(3)], "json"))
    install_fake(monkeypatch, fake)
    monkeypatch.delenv("VEEAM_EM_SESSION_ID", raising=False)
    result = run_module(veeam_em_backup_task_session_info, dict(CONNECTION, server=server, port=port), capsys)
    assert result.get("failed") and named in result["msg"], result["msg"]
    assert fake.calls == []


@pytest.mark.parametrize("server, port", [("em.example.com", 1), ("em.example.com", 65535),
                                          ("https://em.example.com:9398/api/", 9398), ("[::1]:9398", 9398)])
def test_ports_and_servers_at_the_edges_are_accepted(monkeypatch, capsys, server, port):
    fake = FakeEM("json", paged_handler([], "json"))
    install_fake(monkeypatch, fake)
    monkeypatch.delenv("VEEAM_EM_SESSION_ID", raising=False)
    result = run_module(veeam_em_backup_task_session_info, dict(CONNECTION, server=server, port=port), capsys)
    assert not result.get("failed"), result.get("msg")
