"""Real EM answers of every version (issue 13; docs/em-api-facts.md 3.3 and 6).

* EM 13.0.1 writes JSON keys in camelCase at every level; XML backup files spell
  ``CreationTimeUtc``: keys are matched case-insensitively, in one place (``em_parse.decode``).
* Placeholder and impossible times (1900-01-01, 0001-01-01, before 1970, an end before the
  creation, an end on a running session) are no times: ``None``.
* An answer whose collection cannot be found raises ``EMResponseError``; a genuinely empty result
  stays ``[]`` (a page whose PagingInfo says there are items while none could be read: test_em_pager).

The PascalCase twins below are written out by hand (not derived with the code under test).
"""
import copy
import json
import os

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_parse, em_rows
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import (
    BACKUP_JOB_SESSION, BACKUP_TASK_SESSION, REPLICA_TASK_SESSION, TASK, VM_RESTORE_POINT)
from unit.plugins.module_utils.em_fake import paging_info, query_result_json, query_result_xml, xml_doc

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "em_samples")
EM13_SAMPLE = "query_backuptasksession_entities.em13.json"

SESSION_GUID = "1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b"
SERVER_GUID = "e0d1c2b3-a495-4867-9788-695a4b3c2d1e"
JOB_SESSION_GUID = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
VM_UID = "urn:VMware:Vm:aa11bb22-cc33-4d44-8e55-ff6677889900.vm-11"

# Issue 13 input 1, in EM 12's spelling (what the EM 13 sample must read exactly like).
PASCAL_ENTITY = {
    "UID": "urn:veeam:BackupTaskSession:" + SESSION_GUID, "VmDisplayName": "db01", "VmUid": VM_UID,
    "Result": "Failed", "State": "Completed", "Reason": "Error: snapshot failed",
    "CreationTimeUTC": "2026-06-16T06:22:59.39912Z", "EndTimeUTC": "2026-06-16T06:23:52.728467Z",
    "JobSessionUid": "urn:veeam:BackupJobSession:" + JOB_SESSION_GUID,
    "Links": [{"Rel": "Up", "Href": "https://em:9398/api/backupServers/" + SERVER_GUID, "Name": "vbr01",
               "Type": "BackupServerReference"}],
    "Href": "https://em:9398/api/backupTaskSessions/%s?format=Entity" % SESSION_GUID, "Type": "BackupTaskSession",
}
EXPECTED_ITEM = {
    "uid": "urn:veeam:BackupTaskSession:" + SESSION_GUID, "id": SESSION_GUID, "name": None,
    "vm_display_name": "db01", "vm_uid": VM_UID,
    "job_session_uid": "urn:veeam:BackupJobSession:" + JOB_SESSION_GUID, "job_session_id": JOB_SESSION_GUID,
    "job_session_name": None, "job_name": None,
    "backup_server_uid": "urn:veeam:BackupServer:" + SERVER_GUID, "backup_server_name": "vbr01",
    "creation_time": "2026-06-16T06:22:59.39912Z", "end_time": "2026-06-16T06:23:52.728467Z",
    "state": "Completed", "result": "Failed", "reason": "Error: snapshot failed", "total_size": None,
    "restore_point_uid": None,
    "links": [{"rel": "Up", "type": "BackupServerReference", "href": "https://em:9398/api/backupServers/" + SERVER_GUID,
               "name": "vbr01"}],
}


def read(name):
    with open(os.path.join(SAMPLES, name), "rb") as handle:
        return handle.read()


def camel(node):
    """EM 13's spelling, by hand: first letter lower-cased, ``UID`` -> ``uid`` (facts 3.3)."""
    if isinstance(node, dict):
        return {("uid" if key == "UID" else key[:1].lower() + key[1:]): camel(value) for key, value in node.items()}
    if isinstance(node, list):
        return [camel(value) for value in node]
    return node


def items_of(body, resource=BACKUP_TASK_SESSION):
    return em_parse.normalise_document(em_parse.decode(body), resource)


def pascal_query(entities, paging=None, list_tag="BackupTaskSessions"):
    return query_result_json(list_tag, entities, paging if paging is not None else paging_info(1, 1, 100))


# ---- input 1: EM 13 camelCase JSON -------------------------------------------------------------

def test_issue_input_1_em13_camel_case_query_reads_one_session_with_every_field():
    items = items_of(read(EM13_SAMPLE))
    assert items == [EXPECTED_ITEM]
    assert items[0]["creation_time"] == "2026-06-16T06:22:59.39912Z"
    assert items[0]["result"] == "Failed" and items[0]["backup_server_name"] == "vbr01"


def test_issue_input_1_reads_exactly_like_its_pascal_case_twin():
    pascal = items_of(pascal_query([PASCAL_ENTITY]))
    assert pascal == items_of(read(EM13_SAMPLE)) == [EXPECTED_ITEM]


def test_em13_paging_info_is_read():
    document = em_parse.decode(read(EM13_SAMPLE))
    assert em_parse.paging(document) == (1, 1, False)
    body = json.dumps(camel(json.loads(pascal_query([PASCAL_ENTITY], paging_info(1, 3, 1))))).encode()
    assert em_parse.paging(em_parse.decode(body)) == (1, 3, True)


def test_every_key_is_canonical_after_decode():
    """One place: nothing after decode sees another spelling (consumers may read PascalCase)."""
    document = em_parse.decode(read(EM13_SAMPLE))
    assert set(document.data) == {"Refs", "Entities", "PagingInfo"}
    entity = document.data["Entities"]["BackupTaskSessions"]["BackupTaskSessions"][0]
    assert set(entity) == set(PASCAL_ENTITY)
    assert set(entity["Links"][0]) == {"Rel", "Href", "Name", "Type"}


@pytest.mark.parametrize("resource, list_tag, entity", [
    (BACKUP_JOB_SESSION, "BackupJobSessions", {
        "IsRetry": True, "JobUid": "urn:veeam:Job:%s" % SERVER_GUID, "JobName": "Backup Job 1", "JobType": "Backup",
        "CreationTimeUTC": "2025-02-19T03:33:17.233Z", "EndTimeUTC": "2025-02-19T03:40:00Z", "State": "Stopped",
        "Result": "Success", "Progress": 100, "FailureMessage": None, "Name": "Backup Job 1@2025-02-19 03:33:17",
        "UID": "urn:veeam:BackupJobSession:" + JOB_SESSION_GUID, "Links": PASCAL_ENTITY["Links"],
        "Href": "https://em:9398/api/backupSessions/%s?format=Entity" % JOB_SESSION_GUID,
        "Type": "BackupJobSession"}),
    (VM_RESTORE_POINT, "VmRestorePoints", {
        "VmName": "db01", "HierarchyObjRef": VM_UID, "CreationTimeUTC": "2025-02-19T03:33:17.233Z",
        "PointType": "Full", "Algorithm": "Full", "Name": "db01@2025", "UID": "urn:veeam:VmRestorePoint:" + SERVER_GUID,
        "Links": PASCAL_ENTITY["Links"], "Type": "VmRestorePoint"}),
])
def test_other_resources_read_the_same_in_camel_case(resource, list_tag, entity):
    pascal = query_result_json(list_tag, [entity], paging_info(1, 1, 100))
    camel_body = json.dumps(camel(json.loads(pascal))).encode()
    expected = items_of(pascal, resource)
    assert expected[0]["uid"] == entity["UID"] and expected[0]["backup_server_name"] == "vbr01"
    assert items_of(camel_body, resource) == expected


def test_single_entity_lookup_by_id_in_camel_case():
    """``GET /backupTaskSessions/{id}?format=Entity`` as EM 13 JSON: found by its ``type``."""
    assert items_of(json.dumps(camel(PASCAL_ENTITY)).encode()) == [EXPECTED_ITEM]


def test_tasks_in_camel_case():
    task = {"Links": [{"Rel": "Delete", "Href": "https://em/api/tasks/task-9", "Name": None, "Type": None}],
            "TaskId": "task-9", "State": "Finished", "Operation": "StartJob",
            "Result": {"Message": "Ok", "Success": True}, "Href": "https://em/api/tasks/task-9", "Type": "Task"}
    body = query_result_json("Tasks", [task], paging_info(1, 1, 100), container="Resources")
    expected = items_of(body, TASK)
    assert expected[0]["task_id"] == "task-9" and expected[0]["result_success"] is True
    assert items_of(json.dumps(camel(json.loads(body))).encode(), TASK) == expected
    assert items_of(json.dumps({"tasks": [camel(task)]}).encode(), TASK) == expected  # GET /tasks


def test_logon_session_and_error_bodies_in_camel_case():
    sid = "15a3fc97-0325-4119-b789-5c0367c6c565"
    logon = {"links": [{"rel": "Delete", "href": "https://em/api/logonSessions/" + sid, "name": None, "type": None}],
             "userName": "EM\\svc", "sessionId": sid, "href": "https://em/api/logonSessions/" + sid,
             "type": "LogonSession"}
    document = em_parse.decode(json.dumps(logon).encode())
    assert em_parse.logon_fields(document) == (sid, "EM\\svc", "https://em/api/logonSessions/" + sid)
    assert em_parse.logon_sessions(em_parse.decode(json.dumps({"logonSessions": [logon]}).encode()))[0][
        "SessionId"] == sid
    error = {"firstChanceExceptionMessage": None, "message": "Node [root] does not exist.", "stackTrace": "at X()",
             "status": None, "statusCode": 400}
    assert em_parse.error_fields(json.dumps(error).encode()) == ("Node [root] does not exist.", 400)


# ---- input 2: placeholder end times ------------------------------------------------------------

def _session(**changes):
    entity = copy.deepcopy(PASCAL_ENTITY)
    entity.update(changes)
    return entity


@pytest.mark.parametrize("end", ["1900-01-01T00:00:00Z", "0001-01-01T00:00:00", "1900-01-01T00:00:00",
                                 "0001-01-01T00:00:00.0000000Z", "1753-01-01T00:00:00Z"])
@pytest.mark.parametrize("media", ["json", "json13", "xml"])
def test_issue_input_2_in_progress_session_placeholder_end_is_none(end, media):
    entity = _session(State="InProgress", Result=None, EndTimeUTC=end, CreationTimeUTC="2026-06-16T02:00:00Z")
    if media == "xml":
        del entity["Result"]
        body = query_result_xml("BackupTaskSessions", "BackupTaskSession", [entity], paging_info(1, 1, 100))
    else:
        body = pascal_query([entity])
        if media == "json13":
            body = json.dumps(camel(json.loads(body))).encode()
    item = items_of(body)[0]
    assert item["end_time"] is None
    assert item["state"] == "InProgress" and item["creation_time"] == "2026-06-16T02:00:00Z"


def test_placeholder_end_is_none_on_a_completed_session_too():
    assert items_of(pascal_query([_session(EndTimeUTC="1900-01-01T00:00:00Z")]))[0]["end_time"] is None


def test_end_on_a_running_session_is_none_even_when_it_looks_real():
    item = items_of(pascal_query([_session(State="InProgress", EndTimeUTC="2026-06-16T07:00:00Z")]))[0]
    assert item["end_time"] is None


@pytest.mark.parametrize("state", ["Starting", "Working", "Stopping", "Pausing", "Resuming"])
def test_running_job_session_has_no_end(state):
    entity = {"JobName": "J", "CreationTimeUTC": "2026-06-16T02:00:00Z", "EndTimeUTC": "1900-01-01T00:00:00Z",
              "State": state, "UID": "urn:veeam:BackupJobSession:" + JOB_SESSION_GUID, "Type": "BackupJobSession"}
    assert items_of(query_result_json("BackupJobSessions", [entity], paging_info(1, 1, 100)),
                    BACKUP_JOB_SESSION)[0]["end_time"] is None
    entity.update(State="Stopped", EndTimeUTC="2026-06-16T03:00:00Z")
    assert items_of(query_result_json("BackupJobSessions", [entity], paging_info(1, 1, 100)),
                    BACKUP_JOB_SESSION)[0]["end_time"] == "2026-06-16T03:00:00Z"


def test_end_before_creation_is_none_and_fractions_compare_as_times():
    before = _session(CreationTimeUTC="2026-06-16T06:22:59.5Z", EndTimeUTC="2026-06-16T06:22:59Z")
    assert items_of(pascal_query([before]))[0]["end_time"] is None
    # "…59.5Z" sorts before "…59Z" as text: the check must compare times, not strings
    after = _session(CreationTimeUTC="2026-06-16T06:22:59Z", EndTimeUTC="2026-06-16T06:22:59.5Z")
    assert items_of(pascal_query([after]))[0]["end_time"] == "2026-06-16T06:22:59.5Z"
    same = _session(CreationTimeUTC="2026-06-16T06:22:59Z", EndTimeUTC="2026-06-16T06:22:59Z")
    assert items_of(pascal_query([same]))[0]["end_time"] == "2026-06-16T06:22:59Z"


def test_creation_time_before_1970_is_none():
    item = items_of(pascal_query([_session(CreationTimeUTC="0001-01-01T00:00:00")]))[0]
    assert item["creation_time"] is None and item["end_time"] == "2026-06-16T06:23:52.728467Z"


# ---- input 3: CreationTimeUtc / EndTimeUtc -----------------------------------------------------

def _utc_spelled(entity):
    entity = dict(entity)
    entity["CreationTimeUtc"] = entity.pop("CreationTimeUTC")
    entity["EndTimeUtc"] = entity.pop("EndTimeUTC")
    return entity


@pytest.mark.parametrize("media", ["json", "xml"])
def test_issue_input_3_utc_spelled_times_are_read(media):
    failing = [_session(UID="urn:veeam:BackupTaskSession:%s" % guid, VmDisplayName="vm-failing",
                        VmUid="urn:VMware:Vm:aa11bb22-cc33-4d44-8e55-ff6677889900.vm-failing",
                        CreationTimeUTC="2026-06-16T0%d:00:00Z" % hour, EndTimeUTC="2026-06-16T0%d:30:00Z" % hour)
               for guid, hour in (("00000000-0000-4000-8000-000000000001", 1),
                                  ("00000000-0000-4000-8000-000000000002", 3))]
    good = _session(UID="urn:veeam:BackupTaskSession:00000000-0000-4000-8000-000000000003", VmDisplayName="vm-ok",
                    Result="Success", Reason="", CreationTimeUTC="2026-06-16T02:00:00Z",
                    EndTimeUTC="2026-06-16T02:10:00Z")
    entities = [_utc_spelled(entity) for entity in failing + [good]]
    if media == "xml":
        body = query_result_xml("BackupTaskSessions", "BackupTaskSession", entities, paging_info(1, 1, 100))
    else:
        body = pascal_query(entities)
    items = items_of(body)
    assert [(i["vm_display_name"], i["result"], i["creation_time"], i["end_time"]) for i in items] == [
        ("vm-failing", "Failed", "2026-06-16T01:00:00Z", "2026-06-16T01:30:00Z"),
        ("vm-failing", "Failed", "2026-06-16T03:00:00Z", "2026-06-16T03:30:00Z"),
        ("vm-ok", "Success", "2026-06-16T02:00:00Z", "2026-06-16T02:10:00Z"),
    ]


def test_xml_element_and_attribute_names_in_other_cases():
    entity = {"uid": PASCAL_ENTITY["UID"], "vmDisplayName": "db01", "CreationTimeUtc": "2026-06-16T06:22:59Z",
              "State": "Completed", "type": "BackupTaskSession"}
    body = query_result_xml("BackupTaskSessions", "BackupTaskSession", [entity], paging_info(1, 1, 100))
    item = items_of(body)[0]
    assert (item["uid"], item["vm_display_name"], item["creation_time"]) == (
        PASCAL_ENTITY["UID"], "db01", "2026-06-16T06:22:59Z")


# ---- unreadable answers are errors, empty answers are empty ------------------------------------

@pytest.mark.parametrize("body, fragment", [
    ({"items": [PASCAL_ENTITY]}, "no BackupTaskSessions or BackupTaskSession"),
    ({"Refs": None, "Entities": {"BackupJobSessions": None, "SystemSessions": None}, "PagingInfo": None},
     "Entities holds no BackupTaskSessions collection"),
    ({"Refs": None, "Entities": {"BackupTaskSessions": {"Sessions": [PASCAL_ENTITY]}}, "PagingInfo": None},
     "the BackupTaskSessions collection holds no BackupTaskSession items"),
    ({"Refs": None, "PagingInfo": {"PageNum": 1, "PageSize": 100, "PagesCount": 1}},
     "no Entities.BackupTaskSessions collection"),
    ({"Refs": None, "Entities": {"BackupTaskSessions": {"BackupTaskSessions": ["urn:veeam:x"]}}},
     "1 of 1 BackupTaskSession items are not objects"),
    ({"Type": "SomethingElse", "UID": "x"}, "no BackupTaskSessions or BackupTaskSession"),
])
def test_unrecognised_answers_raise_naming_the_resource(body, fragment):
    with pytest.raises(EMResponseError) as error:
        items_of(json.dumps(body).encode())
    assert "BackupTaskSession answer" in str(error.value) and fragment in str(error.value)


def test_xml_without_the_collection_raises():
    body = (b'<QueryResult xmlns="http://www.veeam.com/ent/v1.0"><Entities><BackupJobSessions />'
            b'</Entities></QueryResult>')
    with pytest.raises(EMResponseError, match="Entities holds no BackupTaskSessions"):
        items_of(body)


@pytest.mark.parametrize("body", [
    # EM 12 real output: every Entities key listed; the requested one null, [] or doubled []
    {"Refs": None, "Entities": {"BackupTaskSessions": None, "BackupJobSessions": None},
     "PagingInfo": {"Links": [], "PageNum": 1, "PageSize": 100, "PagesCount": 0}},
    {"Refs": None, "Entities": {"BackupTaskSessions": {"BackupTaskSessions": []}, "Jobs": None},
     "PagingInfo": {"PageNum": 1, "PageSize": 100, "PagesCount": 1}},
    {"Refs": None, "Entities": {"BackupTaskSessions": []}},
    {"Refs": None, "Entities": {"BackupTaskSessions": {"BackupTaskSessions": None}}},
    # a page past the last one (sessions went away while paging)
    {"Refs": None, "Entities": {"BackupTaskSessions": None}, "PagingInfo": {"PageNum": 4, "PagesCount": 3}},
    {"BackupTaskSessions": []},  # GET /backupTaskSessions?format=Entity
])
def test_genuinely_empty_answers_stay_empty(body):
    assert items_of(json.dumps(body).encode()) == []
    assert items_of(json.dumps(camel(body)).encode()) == []


def test_genuinely_empty_xml_answers_stay_empty():
    ns = b'xmlns="http://www.veeam.com/ent/v1.0"'
    assert items_of(b'<QueryResult ' + ns + b'><Entities><BackupTaskSessions /></Entities>'
                    b'<PagingInfo PageNum="1" PageSize="100" PagesCount="0" /></QueryResult>') == []
    assert items_of(b'<QueryResult ' + ns + b'>\n  <Entities>\n    <BackupTaskSessions>\n    </BackupTaskSessions>'
                    b'\n  </Entities>\n</QueryResult>') == []
    assert items_of(b'<BackupTaskSessions ' + ns + b' />') == []
    assert items_of(b'<EntityReferences ' + ns + b'></EntityReferences>') == []
    assert items_of(b'<QueryResult ' + ns + b'><Refs /><PagingInfo PageNum="1" PageSize="100" PagesCount="0" />'
                    b'</QueryResult>') == []


# ---- other single-shape assumptions of facts 3 and 6, pinned -----------------------------------

@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_bom_on_json_and_xml(bom):
    xml_body = query_result_xml("BackupTaskSessions", "BackupTaskSession", [PASCAL_ENTITY], paging_info(1, 1, 100))
    assert items_of(bom + xml_body) == [EXPECTED_ITEM]
    assert items_of(bom + read(EM13_SAMPLE)) == [EXPECTED_ITEM]


def test_nulls_and_missing_keys_read_the_same():
    """Real output serialises null members; docs omit them (facts 3.3)."""
    with_nulls = _session(TotalSize=None, VmUid=None, Reason=None, Name=None)
    without = {key: value for key, value in with_nulls.items() if value is not None}
    link_nulls = _session(Links=[{"Rel": "Up", "Href": PASCAL_ENTITY["Links"][0]["Href"], "Name": "vbr01",
                                  "Type": "BackupServerReference"},
                                 {"Rel": "Stop", "Href": "https://em/api/x?action=stop", "Name": None, "Type": None}])
    link_missing = _session(Links=[link_nulls["Links"][0], {"Rel": "Stop", "Href": "https://em/api/x?action=stop"}])
    assert items_of(pascal_query([with_nulls])) == items_of(pascal_query([without]))
    assert items_of(pascal_query([link_nulls])) == items_of(pascal_query([link_missing]))
    assert items_of(pascal_query([link_missing]))[0]["links"][1] == {
        "rel": "Stop", "type": None, "href": "https://em/api/x?action=stop", "name": None}


def test_single_item_xml_lists_in_every_spelling():
    entity = _session(Links=[PASCAL_ENTITY["Links"][0]])
    body = query_result_xml("BackupTaskSessions", "BackupTaskSession", [entity], paging_info(1, 1, 100))
    lower = body.replace(b"<Link ", b"<link ").replace(b"<Links>", b"<links>").replace(b"</Links>", b"</links>")
    for variant in (body, lower):
        items = items_of(variant)
        assert len(items) == 1 and items[0]["backup_server_name"] == "vbr01" and len(items[0]["links"]) == 1


@pytest.mark.parametrize("spell", [lambda node: node, camel])
def test_refs_instead_of_entities(spell):
    ref = {"Links": [], "Name": "db01@2026-06-16 06:22:59", "UID": PASCAL_ENTITY["UID"],
           "Href": "https://em:9398/api/backupTaskSessions/" + SESSION_GUID, "Type": "BackupTaskSessionReference"}
    body = {"Refs": {"Refs": [ref]}, "Entities": None, "PagingInfo": {"PageNum": 1, "PageSize": 100, "PagesCount": 1}}
    items = items_of(json.dumps(spell(body)).encode())
    assert [(item["uid"], item["name"]) for item in items] == [(PASCAL_ENTITY["UID"], "db01@2026-06-16 06:22:59")]


def test_replica_sessions_in_camel_case_keep_their_point_link():
    point = {"Rel": "Related", "Type": "VmReplicaPoint", "Name": "p",
             "Href": "https://em/api/vmReplicaPoints/%s" % SERVER_GUID}
    entity = _session(Type="ReplicaTaskSession", UID="urn:veeam:ReplicaTaskSession:" + SESSION_GUID,
                      Links=PASCAL_ENTITY["Links"] + [point])
    body = query_result_json("ReplicaTaskSessions", [entity], paging_info(1, 1, 100))
    camel_items = items_of(json.dumps(camel(json.loads(body))).encode(), REPLICA_TASK_SESSION)
    assert camel_items == items_of(body, REPLICA_TASK_SESSION)
    assert camel_items[0]["replica_point_uid"] == "urn:veeam:VmReplicaPoint:" + SERVER_GUID


def test_xml_single_entity_document_with_placeholder():
    body = xml_doc("BackupTaskSession", _session(State="InProgress", EndTimeUTC="1900-01-01T00:00:00Z"))
    assert items_of(body)[0]["end_time"] is None


# ---- items lacking UID or creation time: kept, and warned about --------------------------------

def test_incomplete_items_are_kept_and_counted_with_the_first_uid():
    placeholder_start = _session(UID="urn:veeam:BackupTaskSession:00000000-0000-4000-8000-000000000007",
                                 CreationTimeUTC="0001-01-01T00:00:00")
    no_uid = _session(Name="db02@2026-06-16 06:00:00")
    del no_uid["UID"]
    items = items_of(pascal_query([PASCAL_ENTITY, placeholder_start, no_uid]))
    assert len(items) == 3
    warning = em_parse.incomplete_items_warning(items, BACKUP_TASK_SESSION)
    assert warning.startswith("2 BackupTaskSession item(s) lack uid or creation_time")
    assert warning.endswith("first: urn:veeam:BackupTaskSession:00000000-0000-4000-8000-000000000007")
    assert em_parse.incomplete_items_warning(items[:1], BACKUP_TASK_SESSION) is None
    assert em_parse.incomplete_items_warning([], BACKUP_TASK_SESSION) is None
    rows = em_rows.Rows()
    for item in items:
        rows.append(item)
    assert em_parse.incomplete_items_warning(rows, BACKUP_TASK_SESSION) == warning


def test_incomplete_item_without_uid_is_named_by_its_name():
    no_uid = _session(Name="db02@2026-06-16 06:00:00")
    del no_uid["UID"]
    warning = em_parse.incomplete_items_warning(items_of(pascal_query([no_uid])), BACKUP_TASK_SESSION)
    assert warning.startswith("1 BackupTaskSession item(s)") and warning.endswith("first: db02@2026-06-16 06:00:00")


def test_projected_items_are_checked_only_for_the_keys_they_carry():
    projected = BACKUP_TASK_SESSION.project(["result"])
    items = items_of(pascal_query([_session(CreationTimeUTC="1900-01-01T00:00:00")]), projected)
    assert em_parse.incomplete_items_warning(items, projected) is None


def test_job_session_info_warns_through_the_client():
    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_job_session_info

    class Client:
        warnings = []

    entity = {"JobName": "J", "CreationTimeUTC": "1900-01-01T00:00:00Z", "State": "Stopped",
              "UID": "urn:veeam:BackupJobSession:" + JOB_SESSION_GUID, "Type": "BackupJobSession"}
    items = items_of(query_result_json("BackupJobSessions", [entity], paging_info(1, 1, 100)), BACKUP_JOB_SESSION)
    em_job_session_info.warn_incomplete(Client, items, BACKUP_JOB_SESSION)
    assert Client.warnings == ["1 BackupJobSession item(s) lack uid or creation_time (placeholder or unreadable "
                               "in EM's answer; returned with null there); first: urn:veeam:BackupJobSession:"
                               + JOB_SESSION_GUID]
