"""Issue 15 at the module boundary: http:// refused, deadline validated, a missing ca_path named, the task's
credentials beating VEEAM_EM_SESSION_ID from the environment - all before any request where possible."""
import json

import pytest

from ansible_collections.backupops.veeam_em.plugins.modules import (
    veeam_em_backup_task_session_info, veeam_em_job, veeam_em_session)
from unit.plugins.module_utils.em_fake import TOKEN, FakeEM, paged_handler, synthetic_task_session
from unit.plugins.modules.module_runner import CONNECTION, install_fake, run_module

ENV_TOKEN = "ZW52aXJvbm1lbnQtc2Vzc2lvbi10b2tlbi14eXo="


@pytest.fixture
def warned(monkeypatch):
    """ansible-core keeps warnings once per process (deduplicated): record the calls instead
    (as test_task_session_info.record_warnings does)."""
    from ansible.module_utils.basic import AnsibleModule
    calls = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, message, **kwargs: calls.append(message))
    return calls


def warnings_of(calls):
    return json.dumps(calls)


@pytest.fixture
def fake(monkeypatch):
    fake = FakeEM("json", paged_handler([synthetic_task_session(i) for i in range(3)], "json"))
    install_fake(monkeypatch, fake)
    monkeypatch.delenv("VEEAM_EM_SESSION_ID", raising=False)
    return fake


def test_http_is_refused_before_any_request(fake, capsys):
    result = run_module(veeam_em_backup_task_session_info, dict(CONNECTION, server="http://em.example.com"), capsys)
    assert result["failed"] and "option server: http://em.example.com:9398 is plain http://" in result["msg"]
    assert "allow_http" in result["msg"] and fake.calls == []


def test_http_with_allow_http_works_and_warns(fake, capsys, warned):
    result = run_module(veeam_em_backup_task_session_info,
                        dict(CONNECTION, server="http://em.example.com", allow_http=True), capsys)
    assert not result.get("failed") and len(result["backup_task_sessions"]) == 3
    assert "allow_http is true" in warnings_of(warned) and "unencrypted" in warnings_of(warned)


@pytest.mark.parametrize("deadline", [0, -5])
def test_deadline_must_be_positive(fake, capsys, deadline):
    result = run_module(veeam_em_backup_task_session_info, dict(CONNECTION, deadline=deadline), capsys)
    assert result["failed"] and "option deadline: %r must be a number of seconds greater than 0" % float(deadline) \
        in result["msg"]
    assert fake.calls == []


def test_deadline_must_exceed_wait_timeout(fake, capsys):
    result = run_module(veeam_em_job, dict(CONNECTION, action="start", name="x", wait=True, wait_timeout=3600),
                        capsys)
    assert result["failed"] and "option deadline: 1800.0 must be greater than wait_timeout (3600)" in result["msg"]
    assert fake.calls == []


def test_missing_ca_path_is_named(fake, capsys, tmp_path):
    missing = str(tmp_path / "no-such-ca.pem")
    result = run_module(veeam_em_backup_task_session_info, dict(CONNECTION, ca_path=missing), capsys)
    assert result["failed"] and "option ca_path: %r does not exist" % missing in result["msg"]
    assert fake.calls == []


def test_task_credentials_beat_the_environment_session(fake, capsys, monkeypatch, warned):
    monkeypatch.setenv("VEEAM_EM_SESSION_ID", ENV_TOKEN)
    result = run_module(veeam_em_backup_task_session_info, dict(CONNECTION), capsys)
    assert not result.get("failed")
    assert "VEEAM_EM_SESSION_ID from the environment is ignored" in warnings_of(warned)
    assert fake.calls[0].method == "POST"  # logged on with the task's account
    assert all(call.headers.get("X-RestSvcSessionId") != ENV_TOKEN for call in fake.calls)


def test_environment_session_is_used_without_task_credentials(fake, capsys, monkeypatch):
    monkeypatch.setenv("VEEAM_EM_SESSION_ID", TOKEN)
    result = run_module(veeam_em_backup_task_session_info, {"server": "em.example.com"}, capsys)
    assert not result.get("failed")
    assert all(call.method == "GET" for call in fake.calls)


def test_a_session_id_in_the_task_still_wins(fake, capsys, monkeypatch, warned):
    monkeypatch.setenv("VEEAM_EM_SESSION_ID", ENV_TOKEN)
    result = run_module(veeam_em_backup_task_session_info, dict(CONNECTION, session_id=TOKEN), capsys)
    assert not result.get("failed") and "VEEAM_EM_SESSION_ID" not in warnings_of(warned)
    assert all(call.headers.get("X-RestSvcSessionId") == TOKEN for call in fake.calls)


def test_session_module_returns_its_token_unmasked(fake, capsys):
    result = run_module(veeam_em_session, dict(CONNECTION), capsys)
    assert result["session_id"] == TOKEN and result["changed"]
