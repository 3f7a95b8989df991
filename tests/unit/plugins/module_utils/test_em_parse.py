"""Normalisation of every EM sample; XML and JSON forms must give identical items.

Where a sample exists only as XML, its JSON twin is built here by the documented JSON rules
(docs/em-api-facts.md 3.3: attributes become keys, Links an array of {Rel,Href,Name,Type} with
nulls, Entities keys doubled with every other key null, numbers/booleans typed, nulls present,
`<Reason />` = ""), with xml.etree - independently of the xmltodict code under test. The one
JSON-only sample gets an XML twin the other way round.
"""
import json
import os
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_parse
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import (
    BACKUP_TASK_SESSION, REPLICA_TASK_SESSION, TASK, Output, Resource)
from unit.plugins.module_utils.em_fake import ENTITY_KEYS, paging_info, query_result_xml, xml_doc

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "em_samples")
NUMBERS = {"TotalSize", "PageNum", "PageSize", "PagesCount", "Progress", "StatusCode", "Port"}
BOOLEANS = {"Success", "IsRetry", "CredentialsNeeded", "ConfirmationNeeded"}
LIST_CONTAINERS = {"BackupTaskSessions", "ReplicaTaskSessions", "BackupJobSessions", "ReplicaJobSessions",
                   "Tasks", "Refs", "SupportedVersions"}
ENTITY_FIELDS = {
    "BackupTaskSession": ("JobSessionUid", "CreationTimeUTC", "EndTimeUTC", "State", "Result", "Reason",
                          "TotalSize", "VmUid", "VmDisplayName", "Name", "UID", "Links", "Href", "Type"),
    "ReplicaTaskSession": ("JobSessionUid", "CreationTimeUTC", "EndTimeUTC", "State", "Result", "Reason",
                           "TotalSize", "VmDisplayName", "Name", "UID", "Links", "Href", "Type"),
    "BackupJobSession": ("IsRetry", "JobUid", "JobName", "JobType", "CreationTimeUTC", "EndTimeUTC", "State",
                         "Result", "Progress", "FailureMessage", "Name", "UID", "Links", "Href", "Type"),
}


def read(name):
    with open(os.path.join(SAMPLES, name), "rb") as handle:
        return handle.read()


def local(tag):
    return tag.rsplit("}", 1)[-1]


def typed(name, text):
    if name in NUMBERS:
        return int(text)
    if name in BOOLEANS:
        return text.lower() == "true"
    return text


def element_to_json(element):
    """One XML element -> its EM JSON form (nulls for the entity's absent fields, as real EM)."""
    obj = {local(key): typed(local(key), value) for key, value in element.attrib.items()}
    for child in element:
        name = local(child.tag)
        if name == "Links":
            obj["Links"] = [{"Rel": link.get("Rel"), "Href": link.get("Href"), "Name": link.get("Name"),
                             "Type": link.get("Type")} for link in child]
        elif name in LIST_CONTAINERS:
            obj[name] = {name: [element_to_json(item) for item in child]}
        elif len(child) or child.attrib:
            obj[name] = element_to_json(child)
        else:
            obj[name] = typed(name, child.text or "")
    for field in ENTITY_FIELDS.get(local(element.tag), ()):
        obj.setdefault(field, None)
    return obj


def json_twin(xml_bytes):
    root = ET.fromstring(xml_bytes)
    tag = local(root.tag)
    if tag == "QueryResult":
        doc = {"Refs": None, "Entities": None, "Resources": None, "Links": None, "PagingInfo": None}
        doc.update(element_to_json(root))
        if isinstance(doc["Entities"], dict):
            entities = {key: None for key in ENTITY_KEYS}
            entities.update(doc["Entities"])
            doc["Entities"] = entities
        return json.dumps(doc).encode()
    if tag == "Tasks":  # resource collection: one level, {"Tasks": [...]} [INF]
        return json.dumps({"Tasks": [element_to_json(item) for item in root]}).encode()
    return json.dumps(element_to_json(root)).encode()


BACKUP_JOB_SESSION = Resource(  # not a module yet: proves the generic parser on the job samples
    name="BackupJobSession", query_type="BackupJobSession", entity_path="backupSessions",
    list_tag="BackupJobSessions", item_tag="BackupJobSession", return_key="backup_job_sessions", key_field="uid",
    fields=(), outputs=(Output("uid", "UID"), Output("name", "Name"), Output("job_name", "JobName"),
                        Output("job_type", "JobType"), Output("creation_time", "CreationTimeUTC", "datetime"),
                        Output("end_time", "EndTimeUTC", "datetime"), Output("progress", "Progress", "int"),
                        Output("is_retry", "IsRetry", "bool"), Output("failure_message", "FailureMessage"),
                        Output("links", "Links", "links")))
REPLICA_JOB_SESSION = Resource(
    name="ReplicaJobSession", query_type="ReplicaJobSession", entity_path="replicaSessions",
    list_tag="ReplicaJobSessions", item_tag="ReplicaJobSession", return_key="replica_job_sessions", key_field="uid",
    fields=(), outputs=BACKUP_JOB_SESSION.outputs)
BACKUP_SERVER_REF = Resource(
    name="BackupServer", query_type="BackupServer", entity_path="backupServers", list_tag="BackupServers",
    item_tag="BackupServer", return_key="backup_servers", key_field="uid", fields=(),
    outputs=(Output("uid", "UID"), Output("name", "Name"), Output("links", "Links", "links")))

XML_SAMPLES = [
    ("backuptasksession_entity.xml", BACKUP_TASK_SESSION, 1),
    ("backuptasksession_ref.xml", BACKUP_TASK_SESSION, 1),
    ("query_replicatasksession_entities.xml", REPLICA_TASK_SESSION, 2),
    ("replicatasksession_entity.xml", REPLICA_TASK_SESSION, 1),
    ("query_task_resources.xml", TASK, 3),
    ("tasks_collection.xml", TASK, 2),
    ("query_backupjobsession_entities.xml", BACKUP_JOB_SESSION, 2),
    ("replicajobsession_entity.xml", REPLICA_JOB_SESSION, 1),
    ("query_backupserver_refs_paged.xml", BACKUP_SERVER_REF, 1),
]


@pytest.mark.parametrize("name, resource, count", XML_SAMPLES)
def test_xml_sample_and_its_json_twin_normalise_identically(name, resource, count):
    body = read(name)
    from_xml = em_parse.normalise_document(em_parse.decode(body), resource)
    from_json = em_parse.normalise_document(em_parse.decode(json_twin(body)), resource)
    bom_json = em_parse.normalise_document(em_parse.decode(b"\xef\xbb\xbf" + json_twin(body)), resource)
    bom_xml = em_parse.normalise_document(em_parse.decode(b"\xef\xbb\xbf" + body), resource)
    assert len(from_xml) == count
    assert from_xml == from_json == bom_json == bom_xml
    for item in from_xml:
        assert [output.key for output in resource.outputs] == list(item)


@pytest.mark.parametrize("name, resource, count", XML_SAMPLES)
def test_paging_info_identical_in_both_forms(name, resource, count):
    body = read(name)
    assert em_parse.paging(em_parse.decode(body)) == em_parse.paging(em_parse.decode(json_twin(body)))


def test_inferred_json_sample_and_its_xml_twin():
    body = read("query_backuptasksession_entities.inferred.json")
    document = em_parse.decode(body)
    raw = json.loads(body)
    entities = raw["Entities"]["BackupTaskSessions"]["BackupTaskSessions"]
    xml_body = query_result_xml("BackupTaskSessions", "BackupTaskSession", entities, raw["PagingInfo"])
    from_json = em_parse.normalise_document(document, BACKUP_TASK_SESSION)
    from_xml = em_parse.normalise_document(em_parse.decode(xml_body), BACKUP_TASK_SESSION)
    assert len(from_json) == 3
    assert from_json == from_xml
    assert em_parse.paging(document) == (1, 7, True)
    assert em_parse.paging(em_parse.decode(xml_body)) == (1, 7, True)


def test_contract_example_item():
    """CONTRACTS.md 2, field by field, on the documented dbserver01 session."""
    item = em_parse.normalise_document(em_parse.decode(read("query_backuptasksession_entities.inferred.json")),
                                       BACKUP_TASK_SESSION)[0]
    assert item["uid"] == "urn:veeam:BackupTaskSession:38ceb150-e0a8-4f87-8a17-243afc1b98f4"
    assert item["id"] == "38ceb150-e0a8-4f87-8a17-243afc1b98f4"
    assert item["name"] == "dbserver01@2025-06-05 01:04:29"
    assert item["vm_display_name"] == "dbserver01"
    assert item["vm_uid"] == "urn:VMware:Vm:de28dc43-b8ee-4e17-8e63-3d38b6604033.vm-62228"
    assert item["job_session_uid"] == "urn:veeam:BackupJobSession:35c24055-bdee-4e43-b655-a42de408d2ec"
    assert item["job_session_id"] == "35c24055-bdee-4e43-b655-a42de408d2ec"
    assert item["job_session_name"] == "Backup Job 1@2025-06-05 01:03:37"
    assert item["job_name"] == "Backup Job 1"
    assert item["backup_server_uid"] == "urn:veeam:BackupServer:7445e6ce-86f5-4171-b909-dac209c66563"
    assert item["backup_server_name"] == "enterprise06.tech.local"
    assert item["creation_time"] == "2025-06-05T01:04:29.56Z"
    assert item["end_time"] == "2025-06-05T01:04:44.53Z"
    assert (item["state"], item["result"], item["total_size"]) == ("Completed", "Failed", 0)
    assert item["reason"].startswith("Error: There is not enough space on the disk.")
    assert item["restore_point_uid"] is None
    assert item["links"][0] == {"rel": "Up", "type": "BackupServerReference", "name": "enterprise06.tech.local",
                                "href": "https://localhost:9398/api/backupServers/7445e6ce-86f5-4171-b909-dac209c66563"}
    assert "replica_point_uid" not in item


def test_backup_entity_sample_specifics():
    item = em_parse.normalise_document(em_parse.decode(read("backuptasksession_entity.xml")), BACKUP_TASK_SESSION)[0]
    assert item["vm_display_name"] == "AnT_VM2"  # an XML attribute
    assert item["reason"] == ""                  # <Reason />
    assert item["total_size"] == 12884901888
    assert item["restore_point_uid"] == "urn:veeam:VmRestorePoint:a3571c27-a3a9-4ac8-8dfb-71a2336b3218"
    assert item["job_name"] == "vCD Job Template"


def test_replica_items_have_replica_point_and_no_vm_uid():
    items = em_parse.normalise_document(em_parse.decode(read("replicatasksession_entity.xml")), REPLICA_TASK_SESSION)
    assert items[0]["replica_point_uid"] == "urn:veeam:VmReplicaPoint:623cbbec-c8ff-4cf4-96be-d433f3b775c7"
    assert items[0]["vm_uid"] is None
    assert items[0]["creation_time"] == "2025-10-19T06:47:21Z"
    assert "restore_point_uid" not in items[0]


def test_reference_representation_has_every_key_with_nulls():
    item = em_parse.normalise_document(em_parse.decode(read("backuptasksession_ref.xml")), BACKUP_TASK_SESSION)[0]
    assert item["name"] == "srv04@2014-10-19 05:23:44"
    assert item["state"] is None and item["reason"] is None and item["vm_display_name"] is None


def test_tasks():
    tasks = em_parse.normalise_document(em_parse.decode(read("query_task_resources.xml")), TASK)
    assert [task["task_id"] for task in tasks] == ["task-5", "task-6", "task-7"]
    assert tasks[0]["related"] == [{
        "type": "BackupJobSession", "name": None,
        "href": "https://localhost:9398/api/backupSessions/35c24055-bdee-4e43-b655-a42de408d2ec?format=Entity",
        "uid": "urn:veeam:BackupJobSession:35c24055-bdee-4e43-b655-a42de408d2ec"}]
    assert tasks[2]["related"][0]["name"] == "Cloned job (6/5/2021 3:04:23 AM)"
    assert tasks[0]["result_success"] is True and tasks[0]["result_message"] == "Ok"
    collection = em_parse.normalise_document(em_parse.decode(read("tasks_collection.xml")), TASK)
    assert collection[0]["result_message"] is None and collection[0]["result_success"] is True
    assert collection[1]["result_message"] == 'Job "SQL Server Replication" triggered to start.'


def test_running_task_has_no_result():
    body = xml_doc("Task", {"Links": [{"Rel": "Delete", "Href": "https://em/api/tasks/task-9"}], "TaskId": "task-9",
                            "State": "Running", "Operation": "StartJob", "Href": "https://em/api/tasks/task-9",
                            "Type": "Task"})
    task = em_parse.normalise_document(em_parse.decode(body), TASK)[0]
    assert task["state"] == "Running" and task["result_success"] is None and task["result_message"] is None


def test_one_item_lists_stay_lists():
    entity = {"JobSessionUid": "urn:veeam:BackupJobSession:35c24055-bdee-4e43-b655-a42de408d2ec",
              "Links": [{"Rel": "Up", "Type": "BackupServerReference", "Name": "s",
                         "Href": "https://em/api/backupServers/7445e6ce-86f5-4171-b909-dac209c66563"}],
              "UID": "urn:veeam:BackupTaskSession:38ceb150-e0a8-4f87-8a17-243afc1b98f4", "Type": "BackupTaskSession"}
    body = query_result_xml("BackupTaskSessions", "BackupTaskSession", [entity], paging_info(1, 1, 10))
    items = em_parse.normalise_document(em_parse.decode(body), BACKUP_TASK_SESSION)
    assert len(items) == 1 and len(items[0]["links"]) == 1
    assert items[0]["backup_server_name"] == "s"


def test_empty_results_in_both_forms():
    xml_body = query_result_xml("BackupTaskSessions", "BackupTaskSession", [], paging_info(1, 1, 10))
    assert em_parse.normalise_document(em_parse.decode(xml_body), BACKUP_TASK_SESSION) == []
    json_body = json.dumps({"Refs": None, "Entities": {"BackupTaskSessions": {"BackupTaskSessions": []}},
                            "PagingInfo": None}).encode()
    assert em_parse.normalise_document(em_parse.decode(json_body), BACKUP_TASK_SESSION) == []
    json_null = json.dumps({"Refs": None, "Entities": None, "Resources": None}).encode()
    assert em_parse.normalise_document(em_parse.decode(json_null), TASK) == []


def test_logon_session_in_both_forms():
    body = read("logon_session.xml")
    expected = ("15a3fc97-0325-4119-b789-5c0367c6c565", "SRV12\\Administrator",
                "https://srv12.tech.local:9398/api/logonSessions/15a3fc97-0325-4119-b789-5c0367c6c565")
    assert em_parse.logon_fields(em_parse.decode(body)) == expected
    assert em_parse.logon_fields(em_parse.decode(json_twin(body))) == expected


def test_error_in_both_forms_without_stack_trace():
    assert em_parse.error_fields(read("error_400.json")) == ("Node [root] does not exist.", 400)
    xml_error = (b'<Error xmlns="http://www.veeam.com/ent/v1.0" Message="Object reference not set." StatusCode="500">'
                 b"<FirstChanceExceptionMessage>x</FirstChanceExceptionMessage><StackTrace>at A.B()</StackTrace></Error>")
    assert em_parse.error_fields(xml_error) == ("Object reference not set.", 500)
    assert em_parse.error_fields(b"<html>oops") == (None, None)
    assert em_parse.error_fields(b"") == (None, None)


def test_json_single_entity_without_root_tag():
    body = json_twin(read("backuptasksession_entity.xml"))
    items = em_parse.normalise_document(em_parse.decode(body), BACKUP_TASK_SESSION)
    assert items[0]["vm_display_name"] == "AnT_VM2"


def test_json_entities_plain_list_is_accepted_too():
    """Docs' hand-written JSON may not double the list key; accept both (parse leniently)."""
    raw = json.loads(read("query_backuptasksession_entities.inferred.json"))
    raw["Entities"] = {"BackupTaskSessions": raw["Entities"]["BackupTaskSessions"]["BackupTaskSessions"]}
    items = em_parse.normalise_document(em_parse.decode(json.dumps(raw).encode()), BACKUP_TASK_SESSION)
    assert len(items) == 3
