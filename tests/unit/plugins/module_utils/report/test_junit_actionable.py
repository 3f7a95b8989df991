"""Issue 17: JUnit that CI reads well - a case per job and per VM, <error> for 'could not read',
<failure> for a breach, a line on what to do, and what was read as properties."""
import xml.etree.ElementTree as ET

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance_report import REMEDIATION, to_junit

NOW = "2025-06-05T06:00:00Z"


def job_session(job, result):
    return {"name": job + "@1", "job_uid": "urn:veeam:Job:" + job, "job_id": job, "job_name": job,
            "job_type": "Backup", "backup_server_name": "vbr01", "creation_time": "2025-06-05T01:00:00Z",
            "end_time": "2025-06-05T01:30:00Z", "state": "Stopped", "result": result, "is_retry": False}


def cases_by_name(document):
    root = ET.fromstring(document.encode("utf-8"))
    return root, {case.get("name"): case for case in root.iter("testcase")}


def test_a_case_per_job_and_per_vm_a_failure_for_a_breach_with_what_to_do(session):
    sessions = [session(vm="ok01", server="vbr01"), session(vm="bad01", server="vbr01", result="Failed",
                                                            reason="quota")]
    result = evaluate(sessions, now=NOW, job_sessions=[job_session("Nightly", "Failed"), job_session("Web", "Success")],
                      failed_job_severity="violation")
    _root, cases = cases_by_name(to_junit(result))
    assert {"ok01", "bad01", "vbr01 / Nightly", "vbr01 / Web"} <= set(cases)
    assert cases["ok01"].find("failure") is None and cases["ok01"].find("error") is None
    failure = cases["bad01"].find("failure")
    assert failure is not None and cases["bad01"].find("error") is None
    assert "last_backup_failed" in failure.get("message")
    assert "what to do (last_backup_failed): " + REMEDIATION["last_backup_failed"] in failure.text
    assert cases["vbr01 / Nightly"].find("failure") is not None
    assert cases["vbr01 / Web"].find("failure") is None


def test_could_not_read_is_an_error_not_a_failure():
    result = evaluate([], now=NOW, read_errors=["EM at https://em01:9398 refused the logon (401)"])
    root, cases = cases_by_name(to_junit(result))
    case = cases["Enterprise Manager was read in full"]
    error = case.find("error")
    assert error is not None and error.get("type") == "read_error"
    assert "refused the logon" in error.text and "what to do (read_error): " in error.text
    assert int(root.get("errors")) == 1


def test_the_global_suite_names_what_was_read(session):
    result = evaluate([session(vm="ok01")], now=NOW)
    result["source"] = {"em_server": "https://em01.example.com:9398", "username": "CORP\\svc"}
    root = ET.fromstring(to_junit(result).encode("utf-8"))
    suite = root.find("testsuite")
    assert suite.get("name") == "veeam_em_compliance"
    assert list(suite)[0].tag == "properties"
    properties = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert properties["em_server"] == "https://em01.example.com:9398" and properties["username"] == "CORP\\svc"
    assert properties["status"] == "compliant" and properties["generated_at"] == NOW
