"""Normalisation of job sessions, jobs, backup servers and VM restore points (issue 8).

The EM samples (and documented example bodies written out here) must give identical items in
XML and in their JSON twin (built by test_em_parse.json_twin from the documented JSON rules).
"""
import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_parse, em_query
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMValidationError
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import (
    BACKUP_JOB_SESSION, BACKUP_SERVER, JOB, REPLICA_JOB_SESSION, VM_RESTORE_POINT)
from unit.plugins.module_utils import test_em_parse
from unit.plugins.module_utils.test_em_parse import json_twin, read

# Teach the JSON twin builder the new lists and typed fields (documented JSON rules, facts 3.3).
test_em_parse.LIST_CONTAINERS.update({"Jobs", "BackupServers", "VmRestorePoints"})
test_em_parse.NUMBERS.update({"WcfPort"})
test_em_parse.BOOLEANS.update({"ScheduleConfigured", "ScheduleEnabled"})
test_em_parse.ENTITY_FIELDS.update({
    "ReplicaJobSession": test_em_parse.ENTITY_FIELDS["BackupJobSession"],
    "BackupServer": ("Description", "Port", "Version", "WcfPort", "VbrCertificateThumbprint", "Name", "UID",
                     "Links", "Href", "Type"),
    "Job": ("JobType", "Platform", "Description", "ScheduleConfigured", "ScheduleEnabled", "NextRun", "Name",
            "UID", "Links", "Href", "Type"),
    "VmRestorePoint": ("CreationTimeUTC", "VmName", "Algorithm", "PointType", "HierarchyObjRef", "Name", "UID",
                       "Links", "Href", "Type"),
})

NS = 'xmlns="http://www.veeam.com/ent/v1.0"'
# get_vmrestorepoints_id.html (13.x) example, verbatim structure.
VM_RESTORE_POINT_XML = ('''<?xml version="1.0" encoding="utf-8"?>
<VmRestorePoint %s Type="VmRestorePoint" Href="https://localhost:9398/api/vmRestorePoints/5acac742-ee17-4080-8e89-a6ea67adfcf3?format=Entity"
    Name="oracle03@2016-10-06 13:59:50" UID="urn:veeam:VmRestorePoint:5acac742-ee17-4080-8e89-a6ea67adfcf3">
  <Links>
    <Link Rel="Restore" Href="https://localhost:9398/api/vmRestorePoints/5acac742-ee17-4080-8e89-a6ea67adfcf3?action=restore" />
    <Link Rel="Up" Type="BackupServerReference" Href="https://localhost:9398/api/backupServers/00fd67d9-2b4c-4c56-8a95-0b3dbec7ae43"
        Name="172.17.53.1" />
    <Link Rel="Up" Type="RestorePointReference" Href="https://localhost:9398/api/restorePoints/dc216c04-2e34-478e-8b9b-49a3397ef6f8"
        Name="Oct  6 2016  1:59PM" />
    <Link Rel="Up" Type="BackupFileReference" Href="https://localhost:9398/api/backupFiles/e86f61f9-4220-4f55-820b-e41a38abce90"
        Name="Oracle BackupD2016-10-06T165918.vib" />
    <Link Rel="Alternate" Type="VmRestorePointReference" Href="https://localhost:9398/api/vmRestorePoints/5acac742-ee17-4080-8e89-a6ea67adfcf3"
        Name="oracle03@2016-10-06 13:59:50" />
  </Links>
  <CreationTimeUTC>2016-10-06T13:59:50.783Z</CreationTimeUTC>
  <Algorithm>Incremental</Algorithm>
  <PointType>Increment</PointType>
  <HierarchyObjRef>urn:HyperV:Vm:757baa80-d19b-4607-a592-98e15d45d9b2.e3e47ce3-ace6-4f06-9aaf-f52cf2e11234</HierarchyObjRef>
</VmRestorePoint>''' % NS).encode()

# scenario_vm_restore.html: an older point with the VmDisplayName attribute and no VmName.
VM_RESTORE_POINT_ATTR_XML = ('''<VmRestorePoint %s Type="VmRestorePoint"
    Href="https://localhost:9398/api/vmRestorePoints/a712861b-0dd3-405b-8b75-2fbee55fb415?format=Entity" Name="sql01-hv@2013-08-21 10:44:36"
    UID="urn:veeam:VmRestorePoint:a712861b-0dd3-405b-8b75-2fbee55fb415" VmDisplayName="sql01-hv">
  <Links><Link Rel="Up" Type="BackupServerReference" Href="https://localhost:9398/api/backupServers/15942270-fb56-4dcc-96e9-5f80e4725a15"
      Name="localhost" /></Links>
  <CreationTimeUTC>2013-08-21T10:44:36Z</CreationTimeUTC><Algorithm>Full</Algorithm><PointType>Full</PointType>
</VmRestorePoint>''' % NS).encode()

BACKUP_SERVERS_XML = ('''<QueryResult %s><Entities><BackupServers>
  <BackupServer Href="https://localhost:9398/api/backupServers/15942270-fb56-4dcc-96e9-5f80e4725a15?format=Entity" Type="BackupServer"
      Name="vbr01.corp.example.com" UID="urn:veeam:BackupServer:15942270-fb56-4dcc-96e9-5f80e4725a15">
    <Links><Link Href="https://localhost:9398/api/backupServers/15942270-fb56-4dcc-96e9-5f80e4725a15/jobs" Type="JobReferenceList"
        Rel="Down" /></Links>
    <Description /><Port>9392</Port><Version>13.0.0.1420</Version><WcfPort>9405</WcfPort>
    <VbrCertificateThumbprint>0000000000000000000000000000000000000000</VbrCertificateThumbprint>
  </BackupServer>
</BackupServers></Entities>
<PagingInfo PageNum="1" PageSize="100" PagesCount="1"><Links /></PagingInfo></QueryResult>''' % NS).encode()

JOBS_XML = ('''<QueryResult %s><Entities><Jobs>
  <Job Href="https://srv12.tech.local:9398/api/jobs/5658281f-625e-4627-89dd-d2a0c48be99e?format=Entity" Type="Job" Name="DB Backup"
      UID="urn:veeam:Job:5658281f-625e-4627-89dd-d2a0c48be99e">
    <Links>
      <Link Href="https://srv12.tech.local:9398/api/backupServers/3cbab7db-fa0d-4c18-82b6-bc1816f0a128" Name="enterprisevbr01.tech.local"
          Type="BackupServerReference" Rel="Up" />
      <Link Href="https://srv12.tech.local:9398/api/jobs/5658281f-625e-4627-89dd-d2a0c48be99e?action=start" Rel="Start" />
    </Links>
    <JobType>Backup</JobType><Platform>VMware</Platform><Description>Created by SRV12\\Administrator</Description>
    <ScheduleConfigured>true</ScheduleConfigured><ScheduleEnabled>false</ScheduleEnabled>
    <NextRun>2019-10-23T22:00:00+02:00</NextRun>
  </Job>
</Jobs></Entities></QueryResult>''' % NS).encode()

CASES = [
    ("query_backupjobsession_entities.xml", BACKUP_JOB_SESSION, 2),
    ("replicajobsession_entity.xml", REPLICA_JOB_SESSION, 1),
    ("query_backupserver_refs_paged.xml", BACKUP_SERVER, 1),
    (BACKUP_SERVERS_XML, BACKUP_SERVER, 1),
    (JOBS_XML, JOB, 1),
    (VM_RESTORE_POINT_XML, VM_RESTORE_POINT, 1),
    (VM_RESTORE_POINT_ATTR_XML, VM_RESTORE_POINT, 1),
]


def body_of(case):
    return read(case) if isinstance(case, str) else case


def items_of(case, resource):
    return em_parse.normalise_document(em_parse.decode(body_of(case)), resource)


@pytest.mark.parametrize("case, resource, count", CASES, ids=range(len(CASES)))
def test_xml_and_json_twin_normalise_identically(case, resource, count):
    body = body_of(case)
    from_xml = em_parse.normalise_document(em_parse.decode(body), resource)
    from_json = em_parse.normalise_document(em_parse.decode(json_twin(body)), resource)
    bom_json = em_parse.normalise_document(em_parse.decode(b"\xef\xbb\xbf" + json_twin(body)), resource)
    assert len(from_xml) == count
    assert from_xml == from_json == bom_json
    for item in from_xml:
        assert list(item) == [output.key for output in resource.outputs]


def test_backup_job_sessions_sample():
    first, second = items_of("query_backupjobsession_entities.xml", BACKUP_JOB_SESSION)
    assert first == {
        "uid": "urn:veeam:BackupJobSession:07fb4019-dc8c-45ba-a36f-d15f2e7fe41b",
        "id": "07fb4019-dc8c-45ba-a36f-d15f2e7fe41b",
        "name": "Periodic Backup Copy Job\\Backup Job 1@2025-08-16 05:17:38.22142",
        "job_uid": "urn:veeam:Job:643e7958-f608-41fd-932c-084596f5b44f",
        "job_id": "643e7958-f608-41fd-932c-084596f5b44f",
        "job_name": "Periodic Backup Copy Job\\Backup Job 1",
        "job_type": "ImmediateBackupCopyWorker",
        "backup_server_uid": "urn:veeam:BackupServer:a0c8ea55-8bd4-49fe-9095-927d7bddddc3",
        "backup_server_name": "enterprisevbr01.tech.local",
        "creation_time": "2025-08-16T05:17:38.22142Z", "end_time": "2025-08-16T05:25:01.879599Z",
        "state": "Stopped", "result": "Failed", "progress": 100, "is_retry": True, "failure_message": None,
        "links": first["links"]}
    assert len(first["links"]) == 5 and first["links"][-1] == {
        "rel": "Stop", "type": None, "name": None,
        "href": "https://enterpriseem02.tech.local:9398/api/backupSessions/07fb4019-dc8c-45ba-a36f-d15f2e7fe41b"
                "?action=stop"}
    assert second["is_retry"] is False and second["result"] == "Success" and second["job_type"] == "Backup"


def test_replica_job_session_sample():
    item, = items_of("replicajobsession_entity.xml", REPLICA_JOB_SESSION)
    assert item["uid"] == "urn:veeam:ReplicaJobSession:04f694ad-664c-4603-a747-00edecae4f17"
    assert (item["job_type"], item["job_name"], item["progress"]) == ("Replica", "Replication Job 1", 100)
    assert item["creation_time"] == "2025-10-07T20:00:02.42Z" and item["end_time"] == "2025-10-07T20:03:56.477Z"
    assert item["backup_server_name"] == "enterprise01.tech.local"
    assert item["is_retry"] is False and item["failure_message"] is None


def test_backup_server_reference_and_entity():
    ref, = items_of("query_backupserver_refs_paged.xml", BACKUP_SERVER)
    assert ref["uid"] == "urn:veeam:BackupServer:e42211aa-321d-4f91-9c13-2342cf9557eb"
    assert ref["name"] == "172.17.53.47" and ref["port"] is None and ref["version"] is None
    assert em_parse.paging(em_parse.decode(read("query_backupserver_refs_paged.xml"))) == (1, 2, True)
    entity, = items_of(BACKUP_SERVERS_XML, BACKUP_SERVER)
    assert (entity["port"], entity["wcf_port"], entity["version"], entity["description"]) == (
        9392, 9405, "13.0.0.1420", "")
    assert entity["vbr_certificate_thumbprint"] == "0" * 40


def test_job_entity():
    job, = items_of(JOBS_XML, JOB)
    assert job["schedule_configured"] is True and job["schedule_enabled"] is False
    assert job["next_run"] == "2019-10-23T20:00:00Z"  # offset form of schedule fields -> UTC Z
    assert job["backup_server_uid"] == "urn:veeam:BackupServer:3cbab7db-fa0d-4c18-82b6-bc1816f0a128"
    assert job["description"] == "Created by SRV12\\Administrator"


def test_vm_restore_point_entity_and_vm_name_fallback():
    point, = items_of(VM_RESTORE_POINT_XML, VM_RESTORE_POINT)
    assert point["restore_point_uid"] == "urn:veeam:RestorePoint:dc216c04-2e34-478e-8b9b-49a3397ef6f8"
    assert point["restore_point_name"] == "Oct  6 2016  1:59PM"
    assert point["backup_file_name"] == "Oracle BackupD2016-10-06T165918.vib"
    assert point["vm_uid"].startswith("urn:HyperV:Vm:") and point["vm_display_name"] is None
    assert (point["point_type"], point["algorithm"]) == ("Increment", "Incremental")
    old, = items_of(VM_RESTORE_POINT_ATTR_XML, VM_RESTORE_POINT)
    assert old["vm_display_name"] == "sql01-hv" and old["restore_point_uid"] is None


@pytest.mark.parametrize("resource, params, expected", [
    (BACKUP_JOB_SESSION, {"is_retry": True, "job_type": ["backup", "NASBACKUP"]},
     '(JobType=="Backup",JobType=="NasBackup");IsRetry=="true"'),
    (REPLICA_JOB_SESSION, {"is_retry": False, "state": ["working"]}, 'State=="Working";IsRetry=="false"'),
    (JOB, {"schedule_enabled": False, "platform": ["hyperv"], "next_run_before": "2025-06-05"},
     'Platform=="Hyperv";ScheduleEnabled=="false";NextRun<"2025-06-05T00:00:00Z"'),
    (BACKUP_SERVER, {"backup_server_port": 9392, "ip_or_dns_name": "10.0.0.1"},
     'IpOrDnsName=="10.0.0.1";Port=="9392"'),
    (VM_RESTORE_POINT, {"point_type": ["full"], "algorithm": ["syntheticfull"],
                        "restore_point_uid": ["DC216C04-2E34-478E-8B9B-49A3397EF6F8"]},
     'Type=="Full";Algorithm=="SyntheticFull";RestorePointId=="urn:veeam:RestorePoint:'
     'dc216c04-2e34-478e-8b9b-49a3397ef6f8"'),
])
def test_filters_of_new_tables(resource, params, expected):
    assert em_query.build_filter(resource, params) == expected


@pytest.mark.parametrize("resource, params, message", [
    (BACKUP_JOB_SESSION, {"job_type": ["Replica"]}, "option job_type: 'Replica' is not one of Backup"),
    (REPLICA_JOB_SESSION, {"job_type": ["Backup"]}, "option job_type"),
    (BACKUP_JOB_SESSION, {"is_retry": "yes"}, "option is_retry"),
    (JOB, {"platform": ["Xen"]}, "option platform"),
    (VM_RESTORE_POINT, {"point_type": ["Incremental"]}, "option point_type"),
    (VM_RESTORE_POINT, {"restore_point_uid": ["urn:veeam:VmRestorePoint:dc216c04-2e34-478e-8b9b-49a3397ef6f8"]},
     "option restore_point_uid"),
    (BACKUP_SERVER, {"backup_server_port": -1}, "option backup_server_port"),
])
def test_bad_values_name_the_option(resource, params, message):
    with pytest.raises(EMValidationError) as error:
        em_query.build_filter(resource, params)
    assert message in str(error.value)


@pytest.mark.parametrize("case, resource, count", CASES, ids=range(len(CASES)))
def test_projection_normalises_only_the_asked_keys_from_xml_and_json(case, resource, count):
    body = body_of(case)
    full = em_parse.normalise_document(em_parse.decode(body), resource)
    keys = resource.output_keys()
    asked = [key for key in keys if key != resource.key_field][1::2] + ["links"]
    projected = resource.project(asked)
    assert projected is not resource and resource.output_keys() == keys  # the table is not changed
    assert projected.query_type == resource.query_type and projected.key_field == resource.key_field
    from_xml = em_parse.normalise_document(em_parse.decode(body), projected)
    from_json = em_parse.normalise_document(em_parse.decode(json_twin(body)), projected)
    expected_keys = [key for key in keys if key in asked or key == resource.key_field]
    assert from_xml == from_json == [{key: item[key] for key in expected_keys} for item in full]


@pytest.mark.parametrize("case, resource, count", CASES, ids=range(len(CASES)))
def test_projection_without_link_outputs_does_not_parse_links(case, resource, count, monkeypatch):
    plain = [output.key for output in resource.outputs if output.link is None and output.convert != "links"]
    projected = resource.project(plain)
    assert resource.uses_links and not projected.uses_links
    full = items_of(case, resource)
    monkeypatch.setattr(em_parse, "links_of", lambda entity: pytest.fail("Links parsed for no output"))
    assert items_of(case, projected) == [{key: item[key] for key in projected.output_keys()} for item in full]


def test_project_and_fields_option_validation():
    assert BACKUP_SERVER.project(None) is BACKUP_SERVER and BACKUP_SERVER.project([]) is BACKUP_SERVER
    assert BACKUP_SERVER.project(["name"]).output_keys() == ["uid", "name"]
    assert BACKUP_SERVER.project(["name", "uid", "name"]).output_keys() == ["uid", "name"]
    with pytest.raises(ValueError):
        BACKUP_SERVER.project(["nmae"])
    assert em_query.projected_resource(JOB, {"fields": None}) is JOB
    assert em_query.fields_argument_spec(JOB) == {"type": "list", "elements": "str", "choices": JOB.output_keys()}
    with pytest.raises(EMValidationError, match=r"option fields: 'nmae', 'size' are not an output key of Job"):
        em_query.projected_resource(JOB, {"fields": ["name", "nmae", "size"]})
