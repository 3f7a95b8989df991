"""Resource tables -> option specs and filters; the normalised shape is CONTRACTS.md section 2."""
import datetime

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_query
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMValidationError
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import (
    BACKUP_TASK_SESSION, REPLICA_TASK_SESSION, RESOURCES, TASK, XML_LIST_TAGS)

CONTRACT_TASK_SESSION_KEYS = [
    "uid", "id", "name", "vm_display_name", "vm_uid", "job_session_uid", "job_session_id", "job_session_name",
    "job_name", "backup_server_uid", "backup_server_name", "creation_time", "end_time", "state", "result", "reason",
    "total_size"]
CONTRACT_TASK_KEYS = ["task_id", "href", "state", "operation", "result_success", "result_message", "related", "links"]


def test_output_keys_are_the_contract():
    backup = [output.key for output in BACKUP_TASK_SESSION.outputs]
    replica = [output.key for output in REPLICA_TASK_SESSION.outputs]
    assert backup == CONTRACT_TASK_SESSION_KEYS + ["restore_point_uid", "links"]
    assert replica == CONTRACT_TASK_SESSION_KEYS + ["replica_point_uid", "links"]
    assert [output.key for output in TASK.outputs] == CONTRACT_TASK_KEYS


def test_every_documented_query_field_has_an_option():
    em_names = [field.em_name for field in BACKUP_TASK_SESSION.fields]
    assert sorted(em_names) == sorted([
        "UID", "Name", "CreationTime", "EndTime", "State", "Result", "Reason", "TotalSize", "JobSessionUid",
        "JobUid", "JobName", "BackupServerUid", "BackupServerName", "VmDisplayName"])
    assert [f.em_name for f in TASK.fields] == ["TaskId", "State", "Operation"]


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
def test_tables_are_consistent(resource):
    assert resource.item_tag in XML_LIST_TAGS
    assert resource.default_sort in resource.sort_choices()
    options = [option for option, _field, _op in resource.filter_options()]
    assert len(options) == len(set(options))
    for field in resource.fields:
        if field.kind == "enum":
            assert field.choices
        if field.kind == "uid":
            assert field.uid_kind


def test_filter_argument_spec_types():
    spec = em_query.filter_argument_spec(BACKUP_TASK_SESSION)
    assert spec["uid"] == {"type": "list", "elements": "str"}
    assert spec["state"] == {"type": "list", "elements": "str"}
    assert spec["vm_display_name"] == {"type": "raw"}
    assert spec["total_size_min"] == {"type": "int"}
    assert spec["created_after"] == {"type": "str"}
    assert em_query.filter_argument_spec(TASK)["task_id"] == {"type": "list", "elements": "str"}


@pytest.mark.parametrize("value, expected", [
    ("a, b", ["a, b"]), (["a", "b"], ["a", "b"]), (5, ["5"]), ([1, "x"], ["1", "x"]), (None, []), ("", [""]),
])
def test_as_values_never_splits_strings(value, expected):
    assert em_query.as_values(value, "name") == expected


@pytest.mark.parametrize("value", [{"a": 1}, [["nested"]], [None]])
def test_as_values_rejects_structures(value):
    with pytest.raises(EMValidationError):
        em_query.as_values(value, "name")


def test_build_filter_order_and_empty():
    now = datetime.datetime(2025, 6, 5, 12, tzinfo=datetime.timezone.utc)
    params = {"result": ["failed"], "created_after": "24h", "vm_display_name": "db01"}
    assert em_query.build_filter(BACKUP_TASK_SESSION, params, now=now) == (
        'VmDisplayName=="db01";Result=="Failed";CreationTime>="2025-06-04T12:00:00Z"')
    assert em_query.build_filter(BACKUP_TASK_SESSION, {}) is None
    assert em_query.build_filter(BACKUP_TASK_SESSION, {"uid": []}) is None


def test_sort_field_and_paging_checks():
    assert em_query.sort_field(BACKUP_TASK_SESSION, "creation_time") == "CreationTime"
    assert em_query.sort_field(TASK, "task_id") == "TaskId"
    em_query.check_paging({"limit": 1, "page_size": 1, "concurrency": 1})
    for bad in ({"limit": 0}, {"page_size": 0}, {"concurrency": 0}):
        with pytest.raises(EMValidationError):
            em_query.check_paging(bad)


def test_bool_is_not_a_size():
    with pytest.raises(EMValidationError):
        em_query.build_filter(BACKUP_TASK_SESSION, {"total_size_min": True})
