"""Task lifecycle and job actions (tasks are per logon session)."""
import time
import xml.etree.ElementTree as ET

import pytest

from emulator.harness import Emulator

from .conftest import EM, NOW, NS, SAMPLES, V, query_items, xml


@pytest.fixture(scope="module")
def em():
    with Emulator(vms=30, days=3, seed=9, now=NOW, task_seconds=1.0) as e:
        yield e


def first_job(c, job_type="Backup", running=False):
    for ref in xml(c.get("/jobs", params={"format": "Entity"})):
        if ref.find("v:JobType", NS).text != job_type:
            continue
        uid = ref.get("UID").rsplit(":", 1)[1]
        r = c.query(type="BackupJobSession" if job_type == "Backup" else "ReplicaJobSession",
                    filter="JobUid==%s;State==Working" % uid)
        if bool(query_items(r)) == running:
            return uid, ref.get("Name"), len(ref.findall("v:JobInfo/*/v:Includes/v:ObjectInJob", NS))
    raise AssertionError("no job")


def wait_state(c, task_id, state, timeout=5):
    end = time.time() + timeout
    while time.time() < end:
        t = xml(c.get("/tasks/" + task_id))
        if t.find("v:State", NS).text == state:
            return t
        time.sleep(0.05)
    raise AssertionError("task never reached " + state)


def test_fresh_session_has_no_tasks(em):
    c = EM(em)
    assert len(xml(c.get("/tasks"))) == 0
    r = c.query(type="Task")
    root = xml(r)
    assert root.find("v:Resources/v:Tasks", NS) is not None and query_items(r) == []
    c.close()


def test_start_job_lifecycle(em):
    c = EM(em)
    other = EM(em)
    job_id, job_name, n_vms = first_job(c)
    before = len(query_items(c.query(type="BackupJobSession", filter="JobUid==" + job_id, pageSize=1000)))
    r = c.post("/jobs/%s" % job_id, params={"action": "start"})
    assert r.status_code == 202
    task = xml(r)
    assert task.tag == V + "Task" and task.find("v:State", NS).text == "Running"
    assert task.find("v:Result", NS) is None                      # a Running task has no Result
    tid = task.find("v:TaskId", NS).text
    assert tid.startswith("task-") and task.get("Href").endswith("/api/tasks/" + tid)
    # visible to its own session only
    assert other.get("/tasks/" + tid).status_code == 404
    assert len(xml(other.get("/tasks"))) == 0
    assert query_items(other.query(type="Task")) == []
    t = wait_state(c, tid, "OperationFinished")
    t = wait_state(c, tid, "Finished")
    res = t.find("v:Result", NS)
    assert res.get("Success") == "true" and res.find("v:Message", NS).text == 'Job "%s" triggered to start.' % job_name
    related = [lk for lk in t.find("v:Links", NS) if lk.get("Rel") == "Related"]
    assert related and related[0].get("Type") == "BackupJobSession"
    # the new job session and its task sessions exist
    after = query_items(c.query(type="BackupJobSession", filter="JobUid==" + job_id, pageSize=1000,
                                sortDesc="CreationTime", format="Entities"))
    assert len(after) == before + 1
    js_uid = after[0]["UID"]
    ts = query_items(c.query(type="BackupTaskSession", filter="JobSessionUid==" + js_uid, pageSize=1000))
    assert len(ts) == n_vms
    r = c.get(related[0].get("Href"))
    assert r.status_code == 200 and xml(r).get("UID") == js_uid
    # query?type=Task with filter/sort, JSON form
    q = query_items(c.query(type="Task", filter="State==Finished;Operation==StartJob"))
    assert [x["TaskId"] for x in q] == [tid]
    for sort in ({"sortAsc": "TaskId"}, {"sortDesc": "State"}, {"sortAsc": "operation"}, {"sortAsc": "TaskUid"}):
        r = c.get("/query", params=dict(type="Task", **sort))
        assert r.status_code == 200 and [x["TaskId"] for x in query_items(r)] == [tid]
    cj = EM(em, json_mode=True)
    cj.token = c.token
    d = cj.get("/tasks/" + tid).json()
    assert list(d) == ["TaskId", "State", "Operation", "Result", "Links", "Href", "Type"]
    assert d["Result"]["Success"] is True
    dq = cj.query(type="Task").json()
    assert dq["Resources"]["Tasks"]["Tasks"][0]["TaskId"] == tid and dq["Entities"] is None
    # delete the task
    assert c.delete("/tasks/" + tid).status_code == 204
    assert c.get("/tasks/" + tid).status_code == 404
    c.close()
    other.close()


def test_task_xml_shape_matches_sample(em):
    c = EM(em)
    job_id = first_job(c, "Replica")[0]
    tid = xml(c.post("/jobs/" + job_id, params={"action": "start"})).find("v:TaskId", NS).text
    wait_state(c, tid, "Finished")
    r = c.query(type="Task")
    ours = xml(r).find("v:Resources/v:Tasks/v:Task", NS)
    ref = ET.fromstring(open(SAMPLES + "/query_task_resources.xml", "rb").read()).find(
        "v:Resources/v:Tasks/v:Task", NS)
    assert [ch.tag for ch in ours] == [ch.tag for ch in ref]
    assert sorted(ours.attrib) == sorted(ref.attrib)
    assert [lk.get("Rel") for lk in ours.find("v:Links", NS)] == ["Delete", "Related"]
    assert ours.find("v:Links/v:Link[@Rel='Related']", NS).get("Type") == "ReplicaJobSession"
    tasks = xml(c.get("/tasks"))
    assert tasks.tag == V + "Tasks" and len(tasks) == 1
    c.close()


def test_stop_and_retry(em):
    c = EM(em)
    # stop a running job: its Working session becomes Stopped/Failed
    job_id = first_job(c, running=True)[0]
    tid = xml(c.post("/jobs/" + job_id, params={"action": "stop"})).find("v:TaskId", NS).text
    t = wait_state(c, tid, "Finished")
    assert t.find("v:Operation", NS).text == "StopJob" and t.find("v:Result", NS).get("Success") == "true"
    assert query_items(c.query(type="BackupJobSession", filter="JobUid==%s;State==Working" % job_id)) == []
    # retry: IsRetry session for the VMs that failed in the last session
    t = wait_state(c, xml(c.post("/jobs/" + job_id, params={"action": "retry"})).find("v:TaskId", NS).text,
                   "Finished")
    assert t.find("v:Operation", NS).text == "RetryJob" and t.find("v:Result", NS).get("Success") == "true"
    sess = query_items(c.query(type="BackupJobSession", filter="JobUid==%s" % job_id, sortDesc="CreationTime",
                               format="Entities", pageSize=1))
    assert sess[0]["IsRetry"] == "true"
    # stop when nothing runs: finished unsuccessfully with a message
    t = wait_state(c, xml(c.post("/jobs/" + job_id, params={"action": "stop"})).find("v:TaskId", NS).text,
                   "Finished")
    assert t.find("v:Result", NS).get("Success") == "false" and "not running" in t.find("v:Result/v:Message", NS).text
    c.close()


def test_job_action_errors(em):
    c = EM(em)
    assert c.post("/jobs/00000000-0000-4000-8000-000000000000", params={"action": "start"}).status_code == 404
    job_id = first_job(c)[0]
    assert c.post("/jobs/" + job_id, params={"action": "explode"}).status_code == 400
    assert c.get("/tasks/task-999999").status_code == 404
    c.close()


def test_tasks_die_with_the_session(em):
    c = EM(em)
    job_id = first_job(c)[0]
    tid = xml(c.post("/jobs/" + job_id, params={"action": "start"})).find("v:TaskId", NS).text
    old = c.token
    c.logoff()
    c.logon(em.username, em.password)
    assert c.get("/tasks/" + tid).status_code == 404 and c.token != old
    c.close()
