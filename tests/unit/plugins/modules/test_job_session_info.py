"""veeam_em_backup/replica_job_session_info: filters, task sessions without N+1, validation."""
import json
import uuid
from urllib.parse import unquote

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import BACKUP_JOB_SESSION
from ansible_collections.backupops.veeam_em.plugins.modules import (
    veeam_em_backup_job_session_info as backup_module, veeam_em_replica_job_session_info as replica_module)
from unit.plugins.module_utils.em_fake import (
    FILTER_VALUE_RE, FakeEM, Reply, paging_info, query_result_json, query_result_xml)
from unit.plugins.modules.module_runner import CONNECTION, install_fake, run_module

GUID = "07fb4019-dc8c-45ba-a36f-d15f2e7fe41b"


def job_session(index, kind="Backup"):
    guid = str(uuid.UUID(int=5000 + index))
    return {
        "IsRetry": index % 4 == 3, "JobUid": "urn:veeam:Job:%s" % uuid.UUID(int=9000 + index % 3),
        "JobName": "%s Job %d" % (kind, index % 3), "JobType": kind,
        "CreationTimeUTC": "2025-06-0%dT%02d:00:00.5Z" % (1 + index % 5, index % 24),
        "EndTimeUTC": None if index == 0 else "2025-06-0%dT23:00:00Z" % (1 + index % 5),
        "State": "Working" if index == 0 else "Stopped", "Result": None if index == 0 else "Success",
        "Progress": 40 if index == 0 else 100, "FailureMessage": None,
        "Name": "%s Job %d@2025-06-01 01:00:00" % (kind, index % 3),
        "UID": "urn:veeam:%sJobSession:%s" % (kind, guid),
        "Links": [{"Rel": "Up", "Href": "https://em:9398/api/backupServers/7445e6ce-86f5-4171-b909-dac209c66563",
                   "Name": "vbr01", "Type": "BackupServerReference"}],
        "Href": "https://em:9398/api/backupSessions/%s?format=Entity" % guid, "Type": "%sJobSession" % kind}


def task_session(job, index, kind="Backup"):
    guid = str(uuid.UUID(int=70000 + index))
    return {"JobSessionUid": job["UID"], "CreationTimeUTC": job["CreationTimeUTC"], "EndTimeUTC": None,
            "State": "Completed", "Result": "Success", "Reason": "", "TotalSize": 1, "VmDisplayName": "vm%d" % index,
            "Name": "vm%d@x" % index, "UID": "urn:veeam:%sTaskSession:%s" % (kind, guid), "Links": [],
            "Href": "https://em:9398/api/x/%s" % guid, "Type": "%sTaskSession" % kind}


def fleet(count, kind="Backup", tasks_per_session=2):
    sessions = [job_session(i, kind) for i in range(count)]
    tasks = [task_session(session, i * tasks_per_session + n, kind)
             for i, session in enumerate(sessions) for n in range(tasks_per_session)]
    return sessions, tasks


def handler_for(sessions, tasks, media="json", kind="Backup"):
    """type=<kind>JobSession pages the sessions; type=<kind>TaskSession evaluates the OR filter."""
    def serve(items, list_tag, item_tag, call):
        size = int(call.query["pageSize"])
        page = int(call.query["page"])
        pages_count = max(1, -(-len(items) // size))
        chunk = items[(page - 1) * size: page * size]
        paging = paging_info(page, pages_count, size)
        if media == "json":
            return Reply(200, query_result_json(list_tag, chunk, paging))
        return Reply(200, query_result_xml(list_tag, item_tag, chunk, paging))

    def handler(call):
        if call.path != "/api/query":
            return None
        if call.query["type"] == "%sJobSession" % kind:
            return serve(sessions, "%sJobSessions" % kind, "%sJobSession" % kind, call)
        wanted = {value.replace('""', '"') for value in FILTER_VALUE_RE.findall(call.query["filter"])}
        return serve([task for task in tasks if task["JobSessionUid"] in wanted],
                     "%sTaskSessions" % kind, "%sTaskSession" % kind, call)
    return handler


def run(args, capsys, module=backup_module, **kwargs):
    return run_module(module, dict(CONNECTION, **args), capsys, **kwargs)


@pytest.mark.parametrize("media", ["json", "xml"])
def test_task_sessions_are_read_in_batches_not_per_session(monkeypatch, capsys, media):
    sessions, tasks = fleet(90)
    fake = FakeEM(media, handler_for(sessions, tasks, media))
    install_fake(monkeypatch, fake)
    result = run({"include_task_sessions": True, "media_type": media, "page_size": 100}, capsys)
    items = result["backup_job_sessions"]
    assert len(items) == 90
    for item in items:
        assert [task["job_session_uid"] for task in item["task_sessions"]] == [item["uid"]] * 2
    task_calls = [call for call in fake.api_calls() if call.query["type"] == "BackupTaskSession"]
    assert len(task_calls) == 3  # ceil(90 / 40) batches, each one page of <= 80 task sessions
    assert result["task_session_query"] == {"type": "BackupTaskSession", "batches": 3, "pages": 3, "requests": 3}
    first = task_calls[0]
    assert first.query["sortAsc"] == "CreationTime" and first.query["format"] == "Entities"
    clauses = first.query["filter"].split(";", 1)
    # earliest creation time of the batch (2025-06-01T00:00:00.5Z) floored, minus one minute
    assert clauses[0] == 'CreationTime>="2025-05-31T23:59:00Z"'
    assert clauses[1].count("JobSessionUid==") == 40 and clauses[1].startswith("(")
    assert len(first.raw_query) < 4500  # the URL stays below common limits
    assert not [call for call in fake.calls if "taskSessions" in call.path]
    assert fake.logons == 1 and fake.logoffs == 1


def test_without_include_task_sessions_the_key_is_null(monkeypatch, capsys):
    sessions, tasks = fleet(3)
    fake = FakeEM("json", handler_for(sessions, tasks))
    install_fake(monkeypatch, fake)
    result = run({"is_retry": False, "job_type": "backup", "state": ["stopped", "WORKING"]}, capsys)
    sessions = result["backup_job_sessions"]
    assert sessions and all(item["task_sessions"] is None for item in sessions)
    assert result["task_session_query"] is None
    assert result["query"]["filter"] == 'JobType=="Backup";(State=="Stopped",State=="Working");IsRetry=="false"'
    assert len(fake.api_calls()) == 1
    running = result["backup_job_sessions"][0]
    assert running["state"] == "Working" and running["result"] is None and running["end_time"] is None
    assert running["progress"] == 40 and running["is_retry"] is False


def test_replica_module_uses_replica_types(monkeypatch, capsys):
    sessions, tasks = fleet(2, kind="Replica")
    fake = FakeEM("json", handler_for(sessions, tasks, kind="Replica"))
    install_fake(monkeypatch, fake)
    result = run({"include_task_sessions": True, "job_uid": ["urn:veeam:Job:" + GUID]}, capsys, module=replica_module)
    assert [call.query["type"] for call in fake.api_calls()] == ["ReplicaJobSession", "ReplicaTaskSession"]
    assert "replica_point_uid" in result["replica_job_sessions"][0]["task_sessions"][0]
    assert 'urn:veeam:ReplicaJobSession:' in unquote(fake.api_calls()[1].raw_query)


def test_id_reads_one_entity_and_its_task_sessions(monkeypatch, capsys):
    session = job_session(1)
    tasks = [task_session(session, n) for n in range(3)]
    list_handler = handler_for([session], tasks)

    def handler(call):
        if call.path.startswith("/api/backupSessions/"):
            return Reply(200, json.dumps(session).encode())
        return list_handler(call)
    fake = FakeEM("json", handler)
    install_fake(monkeypatch, fake)
    result = run({"id": session["UID"], "include_task_sessions": True}, capsys)
    item, = result["backup_job_sessions"]
    assert len(item["task_sessions"]) == 3 and result["query"]["id"] == session["UID"].rsplit(":", 1)[1]
    assert fake.calls[1].path == "/api/backupSessions/%s" % item["id"]


def test_check_mode_reads_normally(monkeypatch, capsys):
    sessions, tasks = fleet(5)
    install_fake(monkeypatch, FakeEM("json", handler_for(sessions, tasks)))
    result = run({"limit": 2, "include_task_sessions": True}, capsys, check_mode=True)
    assert len(result["backup_job_sessions"]) == 2 and result["changed"] is False


@pytest.mark.parametrize("args, message", [
    ({"id": GUID, "is_retry": True}, "mutually exclusive"),
    ({"id": "urn:veeam:BackupTaskSession:" + GUID}, "option id"),
    ({"job_type": ["Replica"]}, "option job_type: 'Replica' is not one of Backup, BackupCopy"),
    ({"state": ["Running"]}, "option state: 'Running' is not one of Starting"),
    ({"result": ["None"]}, "option result"),
    ({"is_retry": "maybe"}, "is_retry"),
    ({"created_after": "last week"}, "option created_after: 'last week'"),
    ({"job_name": "a\tb"}, "option job_name"),
    ({"job_uid": ["urn:veeam:BackupServer:" + GUID]}, "option job_uid"),
    ({"sort_by": "vm_display_name"}, "sort_by"),
    ({"page_size": 0}, "option page_size"),
    ({"filter": "(State==Working"}, "option filter"),
])
def test_bad_input_fails_before_any_request(monkeypatch, capsys, args, message):
    fake = FakeEM("json", handler_for(*fleet(1)))
    install_fake(monkeypatch, fake)
    result = run(args, capsys)
    assert result["failed"] is True and message in result["msg"]
    assert fake.calls == []


def test_resource_table_of_job_sessions_is_complete():
    assert [field.em_name for field in BACKUP_JOB_SESSION.fields] == [
        "UID", "Name", "JobName", "JobUid", "JobType", "BackupServerName", "BackupServerUid", "State", "Result",
        "IsRetry", "CreationTime", "EndTime"]


@pytest.mark.parametrize("media", ["json", "xml"])
def test_fields_projects_the_job_sessions_and_keeps_task_sessions(monkeypatch, capsys, media):
    sessions, tasks = fleet(5)
    fake = FakeEM(media, handler_for(sessions, tasks, media))
    install_fake(monkeypatch, fake)
    full = run({"include_task_sessions": True, "media_type": media}, capsys)["backup_job_sessions"]
    result = run({"include_task_sessions": True, "media_type": media, "fields": ["result", "job_name", "is_retry"]},
                 capsys)
    items = result["backup_job_sessions"]
    assert [list(item) for item in items] == [["uid", "job_name", "result", "is_retry", "task_sessions"]] * 5
    for item, whole in zip(items, full):
        assert item == {key: whole[key] for key in item}
        assert len(item["task_sessions"]) == 2  # task sessions are complete items, grouped as before


def test_fields_unknown_name_fails_before_any_request(monkeypatch, capsys):
    fake = FakeEM("json", handler_for(*fleet(1)))
    install_fake(monkeypatch, fake)
    result = run({"fields": ["task_sessions"]}, capsys)
    assert result["failed"] is True and "fields" in result["msg"] and "task_sessions" in result["msg"]
    assert fake.calls == []
