"""Connection options that cannot be sent safely are refused before any request (issue 5)."""
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
