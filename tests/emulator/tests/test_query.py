"""/api/query over real HTTP: types, formats, filters, sorting, paging, shapes vs the EM samples."""
import json
import os
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest

from emulator.harness import Emulator

from .conftest import EM, NOW, NS, SAMPLES, V, paging_info, query_items, xml


@pytest.fixture(scope="module")
def em():
    with Emulator(vms=60, days=10, seed=5, now=NOW) as e:
        yield e


def all_items(cl, json_mode=False, **params):
    params.setdefault("pageSize", 1000)
    params.setdefault("format", "Entities")
    out, page = [], 1
    while True:
        r = cl.query(page=page, **params)
        out += query_items(r, json_mode)
        num, size, count, links = paging_info(r, json_mode)
        if page >= count:
            return out
        page += 1


def tasks_ds(data, **match):
    js = {s["id"]: s for s in data["job_sessions"]}
    jobs = {j["id"]: j for j in data["jobs"]}
    out = []
    for t in data["task_sessions"]:
        if jobs[js[t["job_session_id"]]["job_id"]]["type"] != "Backup":
            continue
        if all(t[k] == v for k, v in match.items()):
            out.append(t)
    return out


# ----------------------------------------------------------------------------- shapes vs samples
def shape(el):
    links = el.find("v:Links", NS)
    return {
        "tag": el.tag,
        "attrs": sorted(el.attrib),
        "children": [c.tag.replace(V, "") for c in el],
        "rels": sorted({(lk.get("Rel"), lk.get("Type")) for lk in links}) if links is not None else None,
    }


def sample(name):
    with open(os.path.join(SAMPLES, name), "rb") as fh:
        return fh.read()


def test_backup_task_session_entities_xml_shape(c):
    r = c.query(type="BackupTaskSession", format="Entities", sortDesc="CreationTime", pageSize=3,
                filter="Result==Success")
    assert r.headers["Content-Type"] == "application/xml"
    assert r.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = xml(r)
    assert root.tag == V + "QueryResult" and [ch.tag.replace(V, "") for ch in root] == ["Entities", "PagingInfo"]
    ent = root.find("v:Entities/v:BackupTaskSessions/v:BackupTaskSession", NS)
    ref = ET.fromstring(sample("backuptasksession_entity.xml"))
    assert shape(ent) == shape(ref)   # same attributes, child order, link rels/types (incl. VmRestorePoint)
    assert b"&amp;" in r.content       # hrefs in PagingInfo links are XML-escaped


def test_backup_task_session_json_shape(cj):
    r = cj.query(type="BackupTaskSession", format="Entities", sortDesc="CreationTime", pageSize=3,
                 filter="Result==Failed")
    assert r.headers["Content-Type"] == "application/json"
    d = r.json()
    ref = json.loads(sample("query_backuptasksession_entities.inferred.json"))
    assert list(d) == list(ref)
    assert list(d["Entities"]) == list(ref["Entities"])             # all ~50 keys, same order
    assert [k for k, v in d["Entities"].items() if v is not None] == ["BackupTaskSessions"]
    items = d["Entities"]["BackupTaskSessions"]["BackupTaskSessions"]  # doubled key
    ref_item = ref["Entities"]["BackupTaskSessions"]["BackupTaskSessions"][0]
    assert list(items[0]) == list(ref_item)
    assert list(items[0]["Links"][0]) == ["Rel", "Href", "Name", "Type"]
    assert isinstance(items[0]["TotalSize"], int) and items[0]["Result"] == "Failed"
    assert list(d["PagingInfo"]) == list(ref["PagingInfo"])
    assert d["Refs"] is None and d["Resources"] is None and d["Links"] is None


def test_replica_task_session_shape(c, cj):
    r = c.query(type="ReplicaTaskSession", format="Entities", pageSize=2, filter="Result==Success")
    ent = xml(r).find("v:Entities/v:ReplicaTaskSessions/v:ReplicaTaskSession", NS)
    ref = ET.fromstring(sample("replicatasksession_entity.xml"))
    assert shape(ent) == shape(ref)   # no VmUid for replicas; VmReplicaPoint link
    d = cj.query(type="ReplicaTaskSession", format="Entities", pageSize=2).json()
    item = d["Entities"]["ReplicaTaskSessions"]["ReplicaTaskSessions"][0]
    assert "VmUid" not in item and item["UID"].startswith("urn:veeam:ReplicaTaskSession:")


def test_job_session_shapes(c, cj):
    r = c.query(type="BackupJobSession", format="Entities", pageSize=5, filter="State==Stopped")
    ent = xml(r).find("v:Entities/v:BackupJobSessions/v:BackupJobSession", NS)
    ref = ET.fromstring(sample("query_backupjobsession_entities.xml")).find(
        "v:Entities/v:BackupJobSessions/v:BackupJobSession", NS)
    assert shape(ent) == shape(ref)
    r = c.query(type="ReplicaJobSession", format="Entities", pageSize=5, filter="State==Stopped")
    ent = xml(r).find("v:Entities/v:ReplicaJobSessions/v:ReplicaJobSession", NS)
    assert shape(ent) == shape(ET.fromstring(sample("replicajobsession_entity.xml")))
    d = cj.query(type="BackupJobSession", format="Entities", pageSize=1, filter="State==Stopped").json()
    item = d["Entities"]["BackupJobSessions"]["BackupJobSessions"][0]
    assert list(item) == ["IsRetry", "JobUid", "JobName", "JobType", "CreationTimeUTC", "EndTimeUTC", "State",
                          "Result", "Progress", "FailureMessage", "Name", "UID", "Links", "Href", "Type"]
    assert item["FailureMessage"] is None and isinstance(item["IsRetry"], bool)


def test_backup_server_refs_paged_shape(c):
    r = c.query(type="backupServer", pageSize=1)
    root = xml(r)
    ref = ET.fromstring(sample("query_backupserver_refs_paged.xml"))
    assert [ch.tag for ch in root] == [ch.tag for ch in ref]
    assert shape(root.find("v:Refs/v:Ref", NS)) == shape(ref.find("v:Refs/v:Ref", NS))
    num, size, count, links = paging_info(r)
    assert (num, size) == (1, 1) and count >= 3 and set(links) == {"First", "Next", "Last"}
    assert "type=backupServer" in links["Next"]  # type echoed as sent


def test_refs_json(cj):
    d = cj.query(type="BackupTaskSession", pageSize=2).json()
    assert d["Entities"] is None and len(d["Refs"]["Refs"]) == 2
    assert list(d["Refs"]["Refs"][0]) == ["Name", "UID", "Links", "Href", "Type"]
    assert d["Refs"]["Refs"][0]["Type"] == "BackupTaskSessionReference"


def test_jobs_and_restore_points_queries(c, cj):
    jobs = all_items(c, type="Job")
    assert jobs and all(j["Type"] == "Job" for j in jobs)
    assert {j["JobType"] for j in jobs} == {"Backup", "Replica"}
    assert all_items(c, type="job", filter="JobType==Replica") == [j for j in jobs if j["JobType"] == "Replica"]
    d = cj.query(type="Job", format="Entities", pageSize=1).json()
    assert d["Entities"]["Jobs"]["Jobs"][0]["JobInfo"]["BackupJobInfo"]["Includes"]["ObjectInJobs"]
    rps = all_items(c, type="VmRestorePoint", filter='VmDisplayName=="db server 01"')
    assert rps and all(r["VmName"] == "db server 01" for r in rps)


def test_restore_point_links_follow_the_reference_page(cj):
    """get_vmrestorepoints_id: Up BackupServerReference and Up RestorePointReference (the parent
    restore point, whose UID is the RestorePointId query field), Alternate, Restore."""
    d = cj.query(type="VmRestorePoint", format="Entities", pageSize=1).json()
    rp = d["Entities"]["VmRestorePoints"]["VmRestorePoints"][0]
    links = {(link["Rel"], link["Type"]): link for link in rp["Links"]}
    assert set(links) == {("Up", "BackupServerReference"), ("Up", "RestorePointReference"),
                          ("Alternate", "VmRestorePointReference"), ("Restore", None)}
    parent = links[("Up", "RestorePointReference")]["Href"].rsplit("/", 1)[1]
    same = cj.query(type="VmRestorePoint", format="Entities",
                    filter='RestorePointId=="urn:veeam:RestorePoint:%s"' % parent).json()
    assert rp["UID"] in [item["UID"] for item in same["Entities"]["VmRestorePoints"]["VmRestorePoints"]]


@pytest.mark.parametrize("fmt,container", [("entities", "Entities"), ("ENTITIES", "Entities"),
                                           ("References", "Refs"), ("references", "Refs"), (None, "Refs")])
def test_format_case_insensitive(c, fmt, container):
    params = {"type": "BackupTaskSession", "pageSize": 1}
    if fmt:
        params["format"] = fmt
    assert xml(c.query(**params))[0].tag == V + container


# ----------------------------------------------------------------------------- filters over HTTP
def test_filter_matches_dataset(c, data):
    failed = tasks_ds(data, result="Failed")
    got = all_items(c, type="BackupTaskSession", filter="Result==Failed")
    assert sorted(g["UID"].rsplit(":", 1)[1] for g in got) == sorted(t["id"] for t in failed)
    ge_warn = all_items(c, type="BackupTaskSession", filter="result>=warning")
    assert len(ge_warn) == len(failed) + len(tasks_ds(data, result="Warning"))


@pytest.mark.parametrize("op", ["==", "!=", "<", ">", "<=", ">="])
def test_each_operator_on_datetime_and_size(c, data, op):
    import operator as o
    fn = {"==": o.eq, "!=": o.ne, "<": o.lt, ">": o.gt, "<=": o.le, ">=": o.ge}[op]
    backup = tasks_ds(data)
    pivot = sorted(t["creation_time"] for t in backup)[len(backup) // 2]
    got = all_items(c, type="BackupTaskSession", format="References", filter="CreationTime%s\"%s\"" % (op, pivot))
    from emulator.timeutil import parse_dt
    exp = [t for t in backup if fn(parse_dt(t["creation_time"]), parse_dt(pivot))]
    assert len(got) == len(exp)
    size = 107374182400
    got = all_items(c, type="BackupTaskSession", format="References", filter="TotalSize%s%d" % (op, size))
    assert len(got) == len([t for t in backup if fn(t["total_size"], size)])


def test_special_vm_names_with_quoting(c, data):
    for name in ['fs "legacy" 01', "app,frontend", "cache;02", "erp (old)", "Müller-Fileserver", "日本語-vm01",
                 "mixed; (a,b) \"q\" ü", "db server 01"]:
        quoted = '"' + name.replace('"', '""') + '"'
        got = all_items(c, type="BackupTaskSession", filter="VmDisplayName==" + quoted)
        exp = tasks_ds(data, vm_display_name=name)
        assert len(got) == len(exp) > 0, name
        assert {g["VmDisplayName"] for g in got} == {name}


def test_same_vm_name_on_two_servers(c):
    got = all_items(c, type="BackupTaskSession", filter="VmDisplayName==dc01")
    servers = {g["VmUid"].split(":")[3].split(".")[0] for g in got}
    assert len(servers) == 2
    one = all_items(c, type="BackupTaskSession",
                    filter='VmDisplayName==dc01;BackupServerName=="vbr01.corp.example.com"')
    assert 0 < len(one) < len(got)


def test_injection_values_are_data(c):
    for evil in ['x";Result==Success;VmDisplayName=="y', "' OR 1=1 --", "*", "a),(Result==Failed"]:
        quoted = '"' + evil.replace('"', '""') + '"'
        r = c.query(type="BackupTaskSession", filter="VmDisplayName==" + quoted)
        assert query_items(r) == [] and paging_info(r)[2] == 0


def test_and_or_parentheses_over_http(c, data):
    a = all_items(c, type="BackupTaskSession", filter="Result==Failed,Result==Warning;TotalSize==0")
    exp = [t for t in tasks_ds(data) if t["result"] == "Failed" or (t["result"] == "Warning" and t["total_size"] == 0)]
    assert len(a) == len(exp)
    b = all_items(c, type="BackupTaskSession", filter="(Result==Failed,Result==Warning);TotalSize>0")
    exp = [t for t in tasks_ds(data) if t["result"] in ("Failed", "Warning") and t["total_size"] > 0]
    assert len(b) == len(exp)


def test_uid_filters_bare_and_urn(c, data):
    t = tasks_ds(data, result="Success")[0]
    for v in (t["id"], "urn:veeam:BackupTaskSession:" + t["id"], '"%s"' % t["id"].upper()):
        got = all_items(c, type="BackupTaskSession", filter="UID==" + v)
        assert [g["UID"] for g in got] == ["urn:veeam:BackupTaskSession:" + t["id"]]
    got = all_items(c, type="BackupTaskSession", filter="JobSessionUid==" + t["job_session_id"])
    assert len(got) == len([x for x in data["task_sessions"] if x["job_session_id"] == t["job_session_id"]])


def test_in_progress_and_stuck_sessions(c):
    running = all_items(c, type="BackupTaskSession", filter="State==InProgress")
    # EM 13 (the default) writes the 1900 placeholder as a running session's end (facts 6)
    assert running and all(r.get("Result") is None and r.get("EndTimeUTC") == "1900-01-01T00:00:00Z"
                           for r in running)
    stuck = all_items(c, type="BackupJobSession", filter='State==Working;CreationTime<"2025-06-04T22:00:00Z"')
    assert stuck  # started more than 12 h before NOW and still Working
    retries = all_items(c, type="BackupJobSession", filter="IsRetry==true")
    assert retries and all(r["IsRetry"] == "true" for r in retries)


def test_date_only_window(c, data):
    got = all_items(c, type="BackupTaskSession", format="References",
                    filter="CreationTime>=2025-06-04;CreationTime<2025-06-05")
    exp = [t for t in tasks_ds(data) if "2025-06-04T" <= t["creation_time"] < "2025-06-05"]
    assert len(got) == len(exp) > 0


@pytest.mark.parametrize("flt,fragment", [
    ("Bogus==1", "unknown field 'Bogus'"),
    ("Result==Perhaps", "Perhaps"),
    ("Result==Failed;(", "expression expected"),
    ("CreationTime>=notadate", "DateTime"),
])
def test_bad_filter_400(c, cj, flt, fragment):
    r = c.get("/query", params={"type": "BackupTaskSession", "filter": flt})
    assert r.status_code == 400
    e = xml(r)
    assert e.tag == V + "Error" and e.get("StatusCode") == "400" and fragment in e.get("Message")
    r = cj.get("/query", params={"type": "BackupTaskSession", "filter": flt})
    ref = json.loads(sample("error_400.json"))
    assert r.status_code == 400 and list(r.json()) == list(ref) and fragment in r.json()["Message"]


@pytest.mark.parametrize("params,status", [
    ({"type": "NoSuchType"}, 400),
    ({}, 400),
    ({"type": "Repository"}, 501),          # documented type not modelled by the emulator
    ({"type": "BackupTaskSession", "format": "Entity"}, 400),   # [UNCONFIRMED] singular not accepted by /query
    ({"type": "BackupTaskSession", "sortAsc": "Colour"}, 400),
    ({"type": "BackupTaskSession", "pageSize": 0}, 400),
    ({"type": "BackupTaskSession", "pageSize": -5}, 400),
    ({"type": "BackupTaskSession", "page": 0}, 400),
    ({"type": "BackupTaskSession", "pageSize": "ten"}, 400),
])
def test_query_errors(c, params, status):
    r = c.get("/query", params=params)
    assert r.status_code == status and xml(r).get("StatusCode") == str(status)


def test_unknown_extra_params_tolerated(c):
    assert c.get("/query", params={"type": "BackupServer", "JobType": "Backup"}).status_code == 200


# ----------------------------------------------------------------------------- sorting
@pytest.mark.parametrize("field,key", [("CreationTime", "CreationTimeUTC"), ("name", "Name"),
                                       ("VmDisplayName", "VmDisplayName"), ("TotalSize", "TotalSize")])
def test_sorting(c, field, key):
    asc = all_items(c, type="BackupTaskSession", sortAsc=field, filter="CreationTime>=2025-06-03")
    desc = all_items(c, type="BackupTaskSession", sortDesc=field.upper(), filter="CreationTime>=2025-06-03")

    def k(x):
        v = x[key]
        return int(v) if key == "TotalSize" else (v.casefold() if key != "CreationTimeUTC" else v)
    assert [k(x) for x in asc] == sorted(k(x) for x in asc)
    assert [k(x) for x in desc] == sorted((k(x) for x in desc), reverse=True)
    # ties broken by UID ascending in both directions (stable paging)
    for lst in (asc, desc):
        for a, b in zip(lst, lst[1:]):
            if k(a) == k(b):
                assert a["UID"] < b["UID"]


def test_sort_by_enum_and_filter_only_field(c):
    res = all_items(c, type="BackupTaskSession", sortDesc="Result", filter="State==Completed")
    order = {"Success": 0, "Warning": 1, "Failed": 2}
    assert [order[r["Result"]] for r in res] == sorted((order[r["Result"]] for r in res), reverse=True)
    by_job = all_items(c, type="BackupTaskSession", sortAsc="JobName", format="References")
    assert len(by_job) > 0


# ----------------------------------------------------------------------------- paging
def test_default_page_size_is_100(c):
    r = c.query(type="BackupTaskSession")
    num, size, count, links = paging_info(r)
    assert (num, size) == (1, 100) and len(query_items(r)) == 100 and count > 1
    assert "pageSize=100" in links["First"] and "Next" in links and "Previous" not in links


def test_paging_walk_edges(c):
    flt = "Result==Failed"
    total = len(all_items(c, type="BackupTaskSession", filter=flt))
    assert total >= 3
    seen = []
    for page in range(1, total + 1):
        r = c.query(type="BackupTaskSession", filter=flt, pageSize=1, page=page, sortDesc="CreationTime")
        num, size, count, links = paging_info(r)
        assert (num, size, count) == (page, 1, total)
        assert ("Previous" in links) == (page > 1) and ("Next" in links) == (page < total)
        q = parse_qs(urlsplit(links["Last"]).query)
        assert q["page"] == [str(total)] and q["filter"] == [flt] and q["sortDesc"] == ["CreationTime"]
        seen += query_items(r)
    assert len({s["UID"] for s in seen}) == total
    # last page may be partial
    r = c.query(type="BackupTaskSession", filter=flt, pageSize=2, page=(total + 1) // 2)
    assert len(query_items(r)) == (2 if total % 2 == 0 else 1)
    # past the end: empty page, still 200
    r = c.query(type="BackupTaskSession", filter=flt, pageSize=2, page=999)
    num, size, count, links = paging_info(r)
    assert query_items(r) == [] and num == 999 and "Next" not in links and "Previous" in links
    root = xml(r)
    assert root.find("v:Entities", NS) is None and root.find("v:Refs", NS) is not None


def test_empty_result(c, cj):
    r = c.query(type="BackupTaskSession", format="Entities", filter="VmDisplayName==nothing-like-this")
    root = xml(r)
    assert root.find("v:Entities/v:BackupTaskSessions", NS) is not None and query_items(r) == []
    assert paging_info(r)[:3] == (1, 100, 0)
    d = cj.query(type="BackupTaskSession", format="Entities", filter="VmDisplayName==nothing").json()
    assert d["Entities"]["BackupTaskSessions"] == {"BackupTaskSessions": []}


def test_next_link_can_be_followed(c):
    r = c.query(type="BackupTaskSession", pageSize=5, filter='Result>="Warning";VmDisplayName!="x y"')
    nxt = paging_info(r)[3]["Next"]
    r2 = c.get(nxt)
    assert r2.status_code == 200 and paging_info(r2)[0] == 2


@pytest.mark.parametrize("accept,ctype", [("*/*", "application/xml"), ("application/xml", "application/xml"),
                                          ("application/xml, application/json;q=0.1", "application/json")])
def test_accept_negotiation(c, accept, ctype):
    # 9.5 U4 behaviour: application/json anywhere in Accept wins (q-values ignored)
    r = c.get("/query", params={"type": "BackupServer"}, headers={"Accept": accept})
    assert r.headers["Content-Type"] == ctype


def test_concurrent_clients_page_consistently(em):
    from concurrent.futures import ThreadPoolExecutor

    def walk(i):
        cl = EM(em, json_mode=bool(i % 2))
        try:
            uids = [x["UID"] for x in all_items(cl, json_mode=bool(i % 2), type="BackupTaskSession",
                                                pageSize=37, sortAsc="VmDisplayName", format="References")]
            return sorted(uids)
        finally:
            cl.close()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(walk, range(8)))
    assert all(r == results[0] for r in results) and len(set(results[0])) == len(results[0]) > 100
