"""Issue 22 (and issue 14 items 4-5) end to end: the compliance role against an emulator dataset.

* bigfs01 - its newest successful run was created 30 h before now and ended 2 h before now: the data
  is 30 h old (rpo_exceeded) and the run is long_running the night after it ended.
* merge01 - job "Copy to USB": its only task session succeeded, the job session then failed:
  job_failed, a warning by default and a violation with failed_job_severity=violation, in the
  JSON, JUnit (a case per job) and HTML reports.
* app01 - its backup failed, a backup-copy run (JobType BackupCopy) succeeded later: still a violation.
* run10h - running for 10 h: long_running "has been running for 600 min".
* sql-prod-026 - expected as sql-prod-026.corp.example.com (CMDB FQDN): matched, no never_backed_up.
"""
import json

import pytest

from emulator.harness import Emulator
from integration.test_compliance_role import (
    _at, _guid, assert_junit_matches, em_env, read_reports, run_playbook)

NOW = "2025-06-05T06:00:00Z"
SERVER = "vbr01.test"

# (vm, job name, job type, hours before NOW created, hours before NOW ended or None,
#  task state, task result, job session result)
RUNS = [
    ("bigfs01", "Backup Job A", "Backup", 30, 2, "Completed", "Success", "Success"),
    ("merge01", "Copy to USB", "Backup", 5, 4.8, "Completed", "Success", "Failed"),
    ("app01", "Backup Job A", "Backup", 20, 19.8, "Completed", "Success", "Success"),
    ("app01", "Backup Job A", "Backup", 6, 5.8, "Completed", "Failed", "Failed"),
    ("app01", "Offsite Copy", "BackupCopy", 3, 2.5, "Completed", "Success", "Success"),
    ("run10h", "Backup Job B", "Backup", 10, None, "InProgress", None, None),
    ("sql-prod-026", "Backup Job A", "Backup", 3, 2.8, "Completed", "Success", "Success"),
]

EXPECTED = {
    "bigfs01": ("violation", ["rpo_exceeded", "long_running"]),
    "merge01": ("compliant", []),
    "app01": ("violation", ["last_backup_failed"]),
    "run10h": ("violation", ["rpo_exceeded", "long_running"]),
    "sql-prod-026": ("compliant", []),
}


def build_dataset():
    servers = [{"id": _guid(1), "name": SERVER}]
    jobs, vms, job_sessions, task_sessions = {}, {}, [], []
    for number, (vm, job_name, job_type, created_h, ended_h, state, result, job_result) in enumerate(RUNS, 100):
        vm_id = vms.setdefault(vm, {"id": "urn:VMware:Vm:vc-a.vm-%d" % (len(vms) + 1), "name": vm,
                                    "backup_server_id": _guid(1), "size_bytes": 10 ** 9})["id"]
        job = jobs.setdefault(job_name, {"id": _guid(1000 + len(jobs)), "name": job_name, "type": job_type,
                                         "backup_server_id": _guid(1), "vms": []})
        if vm_id not in job["vms"]:
            job["vms"].append(vm_id)
        created = _at(created_h)
        task_end = _at(ended_h) if ended_h is not None else None
        # The job session ends a little after its task (the merge of merge01 fails then).
        job_end = _at(ended_h - 0.2) if ended_h is not None else None
        job_sessions.append({"id": _guid(number), "job_id": job["id"], "creation_time": created,
                             "end_time": job_end, "state": "Stopped" if job_end else "Working",
                             "result": job_result, "progress": 100 if job_end else 40, "is_retry": False})
        task_sessions.append({"id": _guid(5000 + number), "job_session_id": _guid(number), "vm_id": vm_id,
                              "vm_display_name": vm, "creation_time": created, "end_time": task_end,
                              "state": state, "result": result, "reason": "" if result != "Failed" else "Error: x",
                              "total_size": 10 ** 9 if result == "Success" else 0})
    return {"format": "veeam-em-emulator-dataset/1", "generated_now": NOW, "backup_servers": servers,
            "vms": list(vms.values()), "jobs": list(jobs.values()), "job_sessions": job_sessions,
            "task_sessions": task_sessions}


@pytest.fixture(scope="module")
def long_runs_emulator():
    with Emulator(dataset=build_dataset(), now=NOW, tls=True) as em:
        yield em


def verdicts(result):
    return {row["vm_display_name"]: (row["status"], row["reasons"]) for row in result["vms"]}


def jobs_case(junit, name):
    suites = [suite for suite in junit.findall("testsuite") if suite.get("name") == "jobs"]
    assert len(suites) == 1
    cases = [case for case in suites[0].findall("testcase") if case.get("name") == name]
    assert len(cases) == 1
    return cases[0]


def test_long_runs_failed_jobs_copies_and_cmdb_names(long_runs_emulator, tmp_path):
    run = run_playbook(em_env(long_runs_emulator), tmp_path, veeam_em_compliance_now=NOW,
                       veeam_em_compliance_expected_vms=["sql-prod-026.corp.example.com"])
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    result, junit, page = read_reports(tmp_path)

    assert verdicts(result) == EXPECTED
    rows = {row["vm_display_name"]: row for row in result["vms"]}
    assert rows["bigfs01"]["backup"]["last_success_time"] == _at(30)
    assert rows["bigfs01"]["backup"]["last_success_age_hours"] == 30.0
    long_bigfs = [f for f in rows["bigfs01"]["findings"] if f["code"] == "long_running"][0]
    assert "ran for 1680 min (limit 480 min)" in long_bigfs["message"]
    long_run10h = [f for f in rows["run10h"]["findings"] if f["code"] == "long_running"][0]
    assert "has been running for 600 min" in long_run10h["message"]
    assert rows["app01"]["copy"]["last_result"] == "Success" and rows["app01"]["backup"]["last_result"] == "Failed"
    assert rows["sql-prod-026"]["expected"] is True

    jobs = {job["job_name"]: job for job in result["jobs"]}
    assert (jobs["Copy to USB"]["status"], jobs["Copy to USB"]["reasons"], jobs["Copy to USB"]["failed"]) == (
        "warning", ["job_failed"], True)
    assert jobs["Offsite Copy"]["job_type"] == "BackupCopy"
    job_warnings = [w for w in result["warnings"] if w["scope"] == "job"]
    # Backup Job A's run of 6 h ago failed (app01) and its next run succeeded: recovered at the job level,
    # while app01 itself stays last_backup_failed (its own newest backup failed).
    assert sorted((w["code"], w["job_name"]) for w in job_warnings) == [
        ("job_failed", "Copy to USB"), ("recovered_failure", "Backup Job A")]
    summary = result["summary"]
    assert summary["jobs_failed"] == 1
    assert summary["copy_sessions"] == 1 and summary["backup_sessions_job_type_unknown"] == 0

    case = jobs_case(junit, SERVER + " / Copy to USB")
    assert case.find("failure") is None and "job_failed" in case.find("system-out").text
    assert_junit_matches(result, junit)
    assert "job_failed" in page and "Copy to USB" in page
    assert long_runs_emulator.stats()["open_sessions"] == 0


def test_failed_job_severity_violation_reaches_verdict_and_junit(long_runs_emulator, tmp_path):
    run = run_playbook(em_env(long_runs_emulator), tmp_path, veeam_em_compliance_now=NOW,
                       veeam_em_compliance_include_vms=["merge01"], veeam_em_compliance_include_jobs=["Copy*"],
                       veeam_em_compliance_failed_job_severity="violation")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    result, junit, _page = read_reports(tmp_path)
    assert verdicts(result) == {"merge01": ("compliant", [])}
    assert result["status"] == "violation" and result["compliant"] is False
    assert [(v["code"], v["job_name"], v["severity"]) for v in result["violations"]] == [
        ("job_failed", "Copy to USB", "violation")]
    assert result["policy"]["failed_job_severity"] == "violation"
    assert jobs_case(junit, SERVER + " / Copy to USB").find("failure").get("type") == "job_failed"
    assert_junit_matches(result, junit)
    with open(str(tmp_path / "compliance.json"), encoding="utf-8") as handle:
        assert json.load(handle)["summary"]["violations_total"] == 1
