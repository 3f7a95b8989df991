"""The emulator answers as EM 12 or EM 13 (docs/em-api-facts.md 3.3, 6, 7).

EM 13.0.1 writes JSON keys in camelCase at every level, values unchanged [OBS]; XML is the same
in both versions [INF]. Running sessions carry the 1900 placeholder end time as EM 13 (the
emulator's choice of version for an [OBS] quirk whose version is not known), none as EM 12.
"""
import json

import pytest

from emulator.harness import Emulator
from emulator.render import camel_keys, camel_name

from .conftest import EM, NOW, NS, xml

QUERY = {"type": "BackupTaskSession", "format": "Entities", "pageSize": 3, "sortAsc": "CreationTime"}
RUNNING = dict(QUERY, filter="State==InProgress")


@pytest.fixture(scope="module")
def versions():
    with Emulator(vms=12, days=2, seed=21, now=NOW, em_version="12") as em12, \
            Emulator(vms=12, days=2, seed=21, now=NOW) as em13:
        yield {"12": em12, "13": em13}


def raw_json(em, path, params=None):
    client = EM(em, json_mode=True)
    try:
        r = client.http.get(em.api_url + path, params=params, verify=client.verify,
                            headers=client.headers())
        # Hrefs carry each emulator's own port: compare documents with the base URL taken out
        return r.status_code, json.loads(r.content.decode("utf-8-sig").replace(em.base_url, "BASE"))
    finally:
        client.close()


def test_default_is_em_13_with_camel_case_json(versions):
    status, doc = raw_json(versions["13"], "/query", QUERY)
    assert status == 200
    assert set(doc) == {"refs", "entities", "resources", "links", "pagingInfo"}
    assert set(doc["pagingInfo"]) == {"links", "pageNum", "pageSize", "pagesCount"}
    item = doc["entities"]["backupTaskSessions"]["backupTaskSessions"][0]
    assert {"uid", "vmDisplayName", "creationTimeUTC", "endTimeUTC", "jobSessionUid", "links", "href",
            "type"} <= set(item)
    assert item["type"] == "BackupTaskSession" and item["uid"].startswith("urn:veeam:BackupTaskSession:")
    assert set(item["links"][0]) == {"rel", "href", "name", "type"}
    assert "nasJobs" in doc["entities"] and "enterpiseRoles" in doc["entities"]


def test_em_13_json_is_em_12_json_with_camel_case_keys(versions):
    status12, doc12 = raw_json(versions["12"], "/query", QUERY)
    status13, doc13 = raw_json(versions["13"], "/query", QUERY)
    assert status12 == status13 == 200
    assert "Entities" in doc12 and "UID" in doc12["Entities"]["BackupTaskSessions"]["BackupTaskSessions"][0]
    assert doc13 == camel_keys(doc12)


def test_error_bodies_follow_the_version(versions):
    status12, doc12 = raw_json(versions["12"], "/query", {"type": "BackupTaskSession", "filter": "Bogus==1"})
    status13, doc13 = raw_json(versions["13"], "/query", {"type": "BackupTaskSession", "filter": "Bogus==1"})
    assert status12 == status13 == 400
    assert doc12["StatusCode"] == 400 and doc13["statusCode"] == 400 and doc13 == camel_keys(doc12)


@pytest.mark.parametrize("name, expected", [
    ("UID", "uid"), ("VmDisplayName", "vmDisplayName"), ("CreationTimeUTC", "creationTimeUTC"),
    ("PagesCount", "pagesCount"), ("NASJobs", "nasJobs"), ("VAppRestorePoints", "vAppRestorePoints"),
])
def test_camel_name(name, expected):
    assert camel_name(name) == expected


def _running_end_times(em):
    client = EM(em)
    try:
        root = xml(client.query(**RUNNING))
    finally:
        client.close()
    sessions = root.findall("v:Entities/v:BackupTaskSessions/v:BackupTaskSession", NS)
    return [(s.find("v:State", NS).text, s.find("v:EndTimeUTC", NS)) for s in sessions]


def test_running_sessions_placeholder_end_per_version(versions):
    em12, em13 = _running_end_times(versions["12"]), _running_end_times(versions["13"])
    assert em12 and len(em12) == len(em13)
    assert all(state == "InProgress" and end is None for state, end in em12)
    assert all(state == "InProgress" and end.text == "1900-01-01T00:00:00Z" for state, end in em13)


def test_xml_is_the_same_in_both_versions_for_ended_sessions(versions):
    bodies = []
    for em in (versions["12"], versions["13"]):
        client = EM(em)
        try:
            bodies.append(client.query(**dict(QUERY, filter="State==Completed")).content.replace(
                em.base_url.encode(), b"BASE"))
        finally:
            client.close()
    assert bodies[0] == bodies[1] and b"<BackupTaskSession " in bodies[0]


def test_running_end_time_option():
    with Emulator(vms=12, days=2, seed=21, now=NOW, em_version="12",
                  running_end_time="0001-01-01T00:00:00") as em:
        ends = _running_end_times(em)
    assert ends and all(end.text == "0001-01-01T00:00:00" for _state, end in ends)
