"""Attack: spellings EM documents as one value read as that value (FACTS 2.4, 3.3, 5.2).

Enum values in another case ("success", "COMPLETED", "inProgress") mean EM's value: before, a
"success" was a failure (a false alarm) and a running "inprogress" session kept its placeholder-free
end time and counted as finished. Anything that is not a documented value is kept as sent (the
compliance rules never count it as a success: test_compliance_attack_values).
"""
import copy
import json

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import BACKUP_JOB_SESSION
from unit.plugins.module_utils.test_em_parse_versions import PASCAL_ENTITY, camel, items_of, pascal_query


def entity(**changes):
    item = copy.deepcopy(PASCAL_ENTITY)
    item.update(changes)
    return item


@pytest.mark.parametrize("sent,state", [("completed", "Completed"), ("COMPLETED", "Completed"),
                                        ("inProgress", "InProgress"), (" Pending ", "Pending")])
@pytest.mark.parametrize("result_sent,result", [("success", "Success"), ("WARNING", "Warning"),
                                                ("failed", "Failed")])
def test_documented_values_in_another_case_read_as_ems_spelling(sent, state, result_sent, result):
    item, = items_of(pascal_query([entity(State=sent, Result=result_sent)]))
    assert (item["state"], item["result"]) == (state, result)


@pytest.mark.parametrize("sent", ["Idle", "None", "", "Succeeded", "1"])
def test_values_em_does_not_document_are_kept_as_sent(sent):
    item, = items_of(pascal_query([entity(State=sent, Result=sent)]))
    assert item["state"] == sent and item["result"] == sent


def test_a_running_session_in_another_case_has_no_end_time():
    item, = items_of(pascal_query([entity(State="inprogress", EndTimeUTC="2026-06-16T06:30:00Z")]))
    assert item["state"] == "InProgress" and item["end_time"] is None


def test_camel_case_page_with_a_pascal_case_entity_and_other_value_case_reads_both():
    # one EM 13 page (camelCase) holding one entity in EM 12's spelling: both are read, same values
    body = json.loads(pascal_query([entity(Result="success")]))
    body = camel(body)
    body["entities"]["backupTaskSessions"]["backupTaskSessions"].append(entity(State="COMPLETED"))
    items = items_of(json.dumps(body).encode())
    assert [(item["state"], item["result"], item["vm_display_name"]) for item in items] == [
        ("Completed", "Success", "db01"), ("Completed", "Failed", "db01")]


def test_job_session_states_and_results_too():
    job = {"UID": "urn:veeam:BackupJobSession:9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", "JobName": "Nightly",
           "JobType": "Backup", "CreationTimeUTC": "2026-06-16T06:00:00Z", "EndTimeUTC": "2026-06-16T07:00:00Z",
           "State": "working", "Result": "none", "Links": [], "Type": "BackupJobSession"}
    item, = items_of(pascal_query([job], list_tag="BackupJobSessions"), BACKUP_JOB_SESSION)
    assert item["state"] == "Working" and item["end_time"] is None and item["result"] == "none"


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59", "9999-12-31T00:00:00+00:00"])
def test_dotnet_max_value_is_a_placeholder_like_min_value(when):
    # (h-attack) as a creation time it was a success dated ahead of every night until the year 9999
    item, = items_of(pascal_query([entity(CreationTimeUTC=when, EndTimeUTC=when)]))
    assert item["creation_time"] is None and item["end_time"] is None


def test_a_collection_in_two_spellings_is_not_read_as_the_last_one():
    # (h-attack) {"BackupTaskSessions": {...items...}, "backupTaskSessions": null}: the null came last
    # and the page read as empty; the value beside a null is kept
    body = json.loads(pascal_query([entity()]))
    body["Entities"]["backupTaskSessions"] = None
    items = items_of(json.dumps(body).encode())
    assert [item["vm_display_name"] for item in items] == ["db01"]


def test_one_key_in_two_spellings_with_two_values_is_refused():
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError
    raw = json.dumps(json.loads(pascal_query([entity()])))
    raw = raw.replace('"Result": "Failed"', '"Result": "Failed", "result": "Success"')
    with pytest.raises(EMResponseError, match="holds the key Result twice, with different values"):
        items_of(raw.encode())


def test_xml_attribute_and_element_of_one_name_with_two_values_are_refused():
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError
    from unit.plugins.module_utils.em_fake import paging_info, query_result_xml
    body = query_result_xml("BackupTaskSessions", "BackupTaskSession", [entity()], paging_info(1, 1, 100))
    body = body.replace(b"<Result>Failed</Result>", b"<Result>Failed</Result><result>Success</result>")
    assert b"<result>Success</result>" in body
    with pytest.raises(EMResponseError, match="holds the key Result twice"):
        items_of(body)


@pytest.mark.parametrize("camel_case", [False, True])
def test_an_answer_whose_items_are_in_another_collection_is_not_an_empty_result(camel_case):
    # (h-attack) every Entities key but the requested one is null in EM's JSON [OBS]; here the requested
    # BackupTaskSessions is null and BackupJobSessions holds the items: it read as "no sessions"
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError
    body = json.loads(pascal_query([entity()]))
    body["Entities"]["BackupJobSessions"] = body["Entities"]["BackupTaskSessions"]
    body["Entities"]["BackupTaskSessions"] = None
    if camel_case:
        body = camel(body)
    with pytest.raises(EMResponseError, match="the BackupTaskSessions collection is empty but the answer holds "
                                              "BackupJobSessions; refused"):
        items_of(json.dumps(body).encode())


def test_an_empty_result_with_every_other_collection_null_is_empty():
    body = json.loads(pascal_query([]))
    assert items_of(json.dumps(body).encode()) == []
    assert items_of(json.dumps(camel(body)).encode()) == []


@pytest.mark.parametrize("empty", [None, [], {}, {"BackupJobSessions": []}, {"BackupJobSessions": None}])
def test_other_collections_written_empty_in_any_form_are_empty(empty):
    body = json.loads(pascal_query([]))
    body["Entities"]["BackupJobSessions"] = empty
    assert items_of(json.dumps(body).encode()) == []


# ---- items outside the requested collection (attack, session 17) -----------------------------------------------
# The check above looked inside Entities only: an empty requested collection beside items in Refs (format not
# applied, Entities kept with its keys null), in Resources, or beside the list in the requested collection read as
# "no sessions" on the last page.

def _empty_beside(where):
    body = json.loads(pascal_query([]))
    ref = {"Type": "BackupTaskSessionReference", "Href": "https://em:9398/api/backupTaskSessions/x", "Name": "db01@x",
           "UID": PASCAL_ENTITY["UID"], "Links": []}
    if where == "Refs":
        body["Refs"] = {"Refs": [ref]}
    elif where == "Resources":
        body["Resources"] = {"BackupTaskSessions": {"BackupTaskSessions": [entity()]}}
    else:
        body["Entities"]["BackupTaskSessions"]["Items"] = [entity()]
    return body


@pytest.mark.parametrize("camel_case", [False, True])
@pytest.mark.parametrize("where, named", [("Refs", "Refs"), ("Resources", "Resources"),
                                          ("beside", "BackupTaskSessions.Items")])
def test_items_anywhere_beside_an_empty_requested_collection_are_refused(camel_case, where, named):
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError
    body = _empty_beside(where)
    with pytest.raises(EMResponseError, match="the BackupTaskSessions collection is empty but the answer holds %s; "
                                              "refused" % named):
        items_of(json.dumps(camel(body) if camel_case else body).encode())


def test_xml_refs_beside_an_empty_entities_collection_are_refused():
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError
    from unit.plugins.module_utils.em_fake import paging_info, query_result_xml
    body = query_result_xml("BackupTaskSessions", "BackupTaskSession", [], paging_info(1, 1, 100))
    body = body.replace(b"</Entities>", b'</Entities><Refs><Ref Type="BackupTaskSessionReference" Href="h" '
                                        b'Name="db01@x" UID="urn:veeam:BackupTaskSession:1" /></Refs>')
    with pytest.raises(EMResponseError, match="holds Refs; refused"):
        items_of(body)


def test_an_empty_result_with_links_paging_and_root_attributes_is_empty():
    body = json.loads(pascal_query([]))
    body.update(Links=[{"Rel": "Up", "Href": "https://em:9398/api/", "Name": None, "Type": None}], Href="x")
    assert items_of(json.dumps(body).encode()) == []
