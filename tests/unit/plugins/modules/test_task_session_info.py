"""veeam_em_backup/replica_task_session_info: validation before any request, results, errors."""
import pytest

from ansible_collections.backupops.veeam_em.plugins.modules import (
    veeam_em_backup_task_session_info as backup_module, veeam_em_replica_task_session_info as replica_module)
from unit.plugins.module_utils.em_fake import (
    TOKEN, FakeEM, Reply, error_body, paged_handler, synthetic_task_session)
from unit.plugins.modules.module_runner import CONNECTION, install_fake, run_module

ITEMS = [synthetic_task_session(i) for i in range(30)]
REPLICAS = [synthetic_task_session(i, kind="Replica") for i in range(5)]
GUID = "38ceb150-e0a8-4f87-8a17-243afc1b98f4"


@pytest.fixture
def fake(monkeypatch):
    fake = FakeEM("json", paged_handler(ITEMS, "json"))
    install_fake(monkeypatch, fake)
    return fake


def run(args, capsys, module=backup_module, **kwargs):
    return run_module(module, dict(CONNECTION, **args), capsys, **kwargs)


def test_query_returns_items_and_query_info(fake, capsys):
    result = run({"result": ["failed", "Warning"], "created_after": "2025-06-01T00:00:00+02:00",
                  "vm_display_name": 'web "east", (1)', "page_size": 10}, capsys)
    assert result["changed"] is False and "failed" not in result
    assert len(result["backup_task_sessions"]) == 30
    assert result["query"] == {
        "type": "BackupTaskSession",
        "filter": 'VmDisplayName=="web ""east"", (1)";(Result=="Failed",Result=="Warning");'
                  'CreationTime>="2025-05-31T22:00:00Z"',
        "sort": "sortDesc=CreationTime", "page_size": 10, "pages": 3, "requests": 3}
    assert fake.logons == 1 and fake.logoffs == 1


def test_every_typed_option_becomes_a_clause(fake, capsys):
    args = {"uid": [GUID], "name": "n", "vm_display_name": ["a", "b"], "job_name": "Backup Job 1",
            "job_uid": ["urn:veeam:Job:" + GUID], "job_session_uid": [GUID], "backup_server_name": "srv",
            "backup_server_uid": [GUID], "state": ["completed"], "result": ["success"], "reason": "",
            "total_size_min": 1, "total_size_max": 10, "created_after": "2025-06-01", "created_before": "2025-06-02",
            "ended_after": "2025-06-01T01:00:00Z", "ended_before": "2025-06-01T02:00:00Z",
            "filter": "TotalSize>=0", "sort_by": "vm_display_name", "sort_order": "asc", "limit": 2,
            "concurrency": 2, "media_type": "json"}
    result = run(args, capsys)
    assert result["query"]["filter"] == ";".join([
        'UID=="urn:veeam:BackupTaskSession:%s"' % GUID, 'Name=="n"', '(VmDisplayName=="a",VmDisplayName=="b")',
        'JobName=="Backup Job 1"', 'JobUid=="urn:veeam:Job:%s"' % GUID,
        'JobSessionUid=="urn:veeam:BackupJobSession:%s"' % GUID, 'BackupServerName=="srv"',
        'BackupServerUid=="urn:veeam:BackupServer:%s"' % GUID, 'State=="Completed"', 'Result=="Success"',
        'Reason==""', 'TotalSize>="1"', 'TotalSize<="10"', 'CreationTime>="2025-06-01T00:00:00Z"',
        'CreationTime<"2025-06-02T00:00:00Z"', 'EndTime>="2025-06-01T01:00:00Z"', 'EndTime<"2025-06-01T02:00:00Z"',
        "(TotalSize>=0)"])
    assert result["query"]["sort"] == "sortAsc=VmDisplayName"
    assert len(result["backup_task_sessions"]) == 2


def test_replica_module_uses_replica_query_and_kinds(monkeypatch, capsys):
    fake = FakeEM("xml", paged_handler(REPLICAS, "xml", "ReplicaTaskSessions", "ReplicaTaskSession"))
    install_fake(monkeypatch, fake)
    result = run({"job_session_uid": [GUID], "media_type": "xml"}, capsys, module=replica_module)
    assert len(result["replica_task_sessions"]) == 5
    assert result["replica_task_sessions"][0]["uid"].startswith("urn:veeam:ReplicaTaskSession:")
    assert "replica_point_uid" in result["replica_task_sessions"][0]
    assert fake.api_calls()[0].query["type"] == "ReplicaTaskSession"
    assert result["query"]["filter"] == 'JobSessionUid=="urn:veeam:ReplicaJobSession:%s"' % GUID


def test_id_reads_one_entity(monkeypatch, capsys):
    entity = synthetic_task_session(0)
    import json
    fake = FakeEM("json", lambda call: Reply(200, json.dumps(entity).encode()) if call.path.startswith(
        "/api/backupTaskSessions/") else None)
    install_fake(monkeypatch, fake)
    guid = entity["UID"].rsplit(":", 1)[1]
    result = run({"id": entity["UID"].upper().replace("URN:VEEAM:BACKUPTASKSESSION", "urn:veeam:BackupTaskSession")},
                 capsys)
    assert [item["id"] for item in result["backup_task_sessions"]] == [guid]
    assert fake.calls[1].path == "/api/backupTaskSessions/%s" % guid and fake.calls[1].query == {"format": "Entity"}


def test_check_mode_reads_normally(fake, capsys):
    result = run({"limit": 3}, capsys, check_mode=True)
    assert len(result["backup_task_sessions"]) == 3 and result["changed"] is False


@pytest.mark.parametrize("args, message", [
    ({"id": GUID, "result": ["Failed"]}, "mutually exclusive"),
    ({"id": GUID, "filter": "Result==Failed"}, "mutually exclusive"),
    ({"id": "not-a-guid"}, "option id"),
    ({"id": "urn:veeam:ReplicaTaskSession:" + GUID}, "option id"),
    ({"result": ["Broken"]}, "option result: 'Broken' is not one of Success, Warning, Failed"),
    ({"state": ["done"]}, "option state"),
    ({"created_after": "yesterday"}, "option created_after"),
    ({"ended_before": "2025-02-30"}, "option ended_before"),
    ({"limit": -1}, "option limit"),
    ({"limit": 0}, "option limit"),
    ({"page_size": 0}, "option page_size"),
    ({"page_size": -5}, "option page_size"),
    ({"concurrency": 0}, "option concurrency"),
    ({"concurrency": 33}, "option concurrency: 33 must be between 1 and 32"),
    ({"vm_display_name": "a\nb"}, "option vm_display_name"),
    ({"reason": ["ok", "bad\x00"]}, "option reason"),
    ({"name": {"a": 1}}, "option name"),
    ({"uid": ["123"]}, "option uid"),
    ({"job_uid": ["urn:veeam:BackupServer:" + GUID]}, "option job_uid"),
    ({"filter": "a==1),(b==2"}, "option filter"),
    ({"filter": "  "}, "option filter"),
    ({"total_size_min": -1}, "option total_size_min"),
    ({"sort_by": "size"}, "sort_by"),
    ({"sort_order": "up"}, "sort_order"),
    ({"media_type": "yaml"}, "media_type"),
    ({"retries": -1}, "option retries"),
    ({"timeout": 0}, "option timeout"),
    ({"api_version": "v1_4"}, "api_version"),
])
def test_bad_input_fails_before_any_request(fake, capsys, args, message):
    result = run(args, capsys)
    assert result["failed"] is True
    assert message in result["msg"]
    assert fake.calls == []


def test_missing_credentials_fail_before_any_request(fake, capsys):
    result = run_module(backup_module, {"server": "em.example.com"}, capsys)
    assert result["failed"] and "username and password are required" in result["msg"]
    assert fake.calls == []


def test_comma_in_a_string_value_is_one_value(fake, capsys):
    result = run({"reason": "Error: a, b", "vm_display_name": "x,y"}, capsys)
    assert result["query"]["filter"] == 'VmDisplayName=="x,y";Reason=="Error: a, b"'


def record_warnings(monkeypatch):
    """AnsibleModule.warn goes to the controller's Display once controller code is imported in
    the test process; record the calls instead of reading ``warnings`` from the result."""
    from ansible.module_utils.basic import AnsibleModule
    warnings = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, message: warnings.append(message))
    return warnings


def test_validate_certs_false_warns(fake, capsys, monkeypatch):
    warnings = record_warnings(monkeypatch)
    run({"validate_certs": False}, capsys)
    assert any("validate_certs is false" in warning for warning in warnings)
    assert fake.api_calls() and all(call.verify is False for call in fake.calls)  # a query was sent


def test_ca_path_is_used_as_verify(fake, capsys, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    run({"ca_path": str(ca)}, capsys)
    assert fake.api_calls() and all(call.verify == str(ca) for call in fake.calls)  # a query was sent


def test_env_fallbacks(monkeypatch, fake, capsys):
    monkeypatch.setenv("VEEAM_EM_SERVER", "https://env-em.example.com:9555")
    monkeypatch.setenv("VEEAM_EM_USERNAME", "envuser")
    monkeypatch.setenv("VEEAM_EM_PASSWORD", "envpass")
    monkeypatch.setenv("VEEAM_EM_VALIDATE_CERTS", "false")
    result = run_module(backup_module, {}, capsys)
    assert "failed" not in result
    assert fake.calls[0].url.startswith("https://env-em.example.com:9555/api/sessionMngr/")
    assert fake.calls[0].verify is False


def test_session_id_from_env_is_reused(monkeypatch, fake, capsys):
    monkeypatch.setenv("VEEAM_EM_SESSION_ID", "env-token")
    result = run_module(backup_module, {"server": "em"}, capsys)
    assert "failed" not in result and fake.logons == 0 and fake.logoffs == 0
    assert fake.calls[0].headers["X-RestSvcSessionId"] == "env-token"


@pytest.mark.parametrize("status, hint", [(401, "check username and password"), (403, "Portal Administrator"),
                                          (500, "EM says")])
def test_em_errors_become_one_clear_failure_without_secrets(monkeypatch, capsys, status, hint):
    fake = FakeEM("json", lambda call: Reply(status, error_body("json", status, "It broke (%d)" % status)))
    install_fake(monkeypatch, fake)
    result = run({"retries": 0}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("GET /api/query (type=BackupTaskSession) failed: HTTP %d" % status)
    assert hint in result["msg"] and "It broke (%d)" % status in result["msg"]
    text = str(result)
    assert CONNECTION["password"] not in text and TOKEN not in text and "Secret.Stack" not in text
    # logoff is attempted on every path, also after a 401: on a 401 the first session is logged off
    # before the one re-logon (issue 5: it may still be alive), the second one at the end
    assert fake.logoffs == (2 if status == 401 else 1)


def test_logon_failure_message(monkeypatch, capsys):
    fake = FakeEM("json", logon=lambda call: Reply(401, b""))
    install_fake(monkeypatch, fake)
    result = run({}, capsys)
    assert result["failed"] and "POST /api/sessionMngr/ (logon) failed: HTTP 401" in result["msg"]
    assert CONNECTION["password"] not in str(result)


# ---- option fields: projection of the items -----------------------------------------------------

@pytest.mark.parametrize("media", ["json", "xml"])
def test_fields_returns_only_the_asked_keys_with_the_same_values(monkeypatch, capsys, media):
    fake = FakeEM(media, paged_handler(ITEMS, media))
    install_fake(monkeypatch, fake)
    full = run({"media_type": media}, capsys)["backup_task_sessions"]
    asked = ["result", "vm_display_name", "restore_point_uid", "creation_time", "backup_server_name"]
    result = run({"media_type": media, "fields": asked}, capsys)
    items = result["backup_task_sessions"]
    assert len(items) == len(full) == 30
    # table order, the key field first although it was not asked for
    expected_keys = ["uid", "vm_display_name", "backup_server_name", "creation_time", "result", "restore_point_uid"]
    for item, whole in zip(items, full):
        assert list(item) == expected_keys
        assert item == {key: whole[key] for key in expected_keys}
    assert result["query"]["requests"] == 1


def test_fields_keeps_the_key_field(fake, capsys):
    items = run({"fields": ["result"]}, capsys)["backup_task_sessions"]
    assert items and all(sorted(item) == ["result", "uid"] for item in items)
    assert len({item["uid"] for item in items}) == 30  # deduplication still sees every uid


def test_fields_with_links_and_with_id(monkeypatch, capsys):
    entity = synthetic_task_session(0)
    import json
    fake = FakeEM("json", lambda call: Reply(200, json.dumps(entity).encode()) if call.path.startswith(
        "/api/backupTaskSessions/") else None)
    install_fake(monkeypatch, fake)
    result = run({"id": entity["UID"], "fields": ["links", "uid"]}, capsys)
    (item,) = result["backup_task_sessions"]
    assert list(item) == ["uid", "links"] and item["links"]


def test_fields_omitted_or_empty_returns_every_key(fake, capsys):
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import BACKUP_TASK_SESSION
    for args in ({}, {"fields": []}):
        item = run(args, capsys)["backup_task_sessions"][0]
        assert list(item) == BACKUP_TASK_SESSION.output_keys()


@pytest.mark.parametrize("module, fields, bad", [
    (backup_module, ["result", "size"], "size"),
    (backup_module, ["replica_point_uid"], "replica_point_uid"),
    (replica_module, ["restore_point_uid"], "restore_point_uid"),
])
def test_unknown_field_fails_before_any_request(fake, capsys, module, fields, bad):
    result = run({"fields": fields}, capsys, module=module)
    assert result["failed"] is True
    assert "fields" in result["msg"] and bad in result["msg"]
    assert fake.calls == []


def test_items_without_creation_time_are_returned_and_warned_about(monkeypatch, capsys):
    # Issue 13: an item EM sent with a placeholder/unreadable creation time is never dropped, and
    # the module says so with the count and the first offending UID.
    broken = [synthetic_task_session(i) for i in range(3)]
    for item in broken[1:]:
        item["CreationTimeUTC"] = "0001-01-01T00:00:00"
    install_fake(monkeypatch, FakeEM("json", paged_handler(broken, "json")))
    recorded = record_warnings(monkeypatch)
    result = run({}, capsys)
    assert len(result["backup_task_sessions"]) == 3
    assert [item["creation_time"] is None for item in result["backup_task_sessions"]] == [False, True, True]
    warnings = [w for w in recorded if "lack" in w]
    assert len(warnings) == 1
    assert warnings[0].startswith("2 BackupTaskSession item(s) lack uid or creation_time")
    assert warnings[0].endswith(broken[1]["UID"])


@pytest.mark.parametrize("option", ["created_after", "created_before", "ended_after"])
@pytest.mark.parametrize("value", ["99999999d", "9999999999999999999999d"])
def test_a_relative_window_that_overflows_fails_naming_the_option_before_any_request(monkeypatch, capsys, option,
                                                                                     value):
    """Found (attack, session 15): created_after: 99999999d ended the module with an OverflowError traceback
    ('MODULE FAILURE'). Now it fails with an error naming the option and the value, before any request."""
    fake = FakeEM("json", paged_handler(ITEMS, "json"))
    install_fake(monkeypatch, fake)
    monkeypatch.delenv("VEEAM_EM_SESSION_ID", raising=False)
    result = run_module(backup_module, dict(CONNECTION, **{option: value}), capsys)
    assert result.get("failed") and "option %s: %r" % (option, value) in result["msg"], result
    assert fake.calls == []
