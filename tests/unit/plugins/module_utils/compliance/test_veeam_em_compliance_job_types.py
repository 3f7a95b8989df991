"""Failed job sessions in the verdict (issue 22), job types (issue 14 item 4), CMDB names (item 5)."""
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import (
    ComplianceInputError, evaluate, names_match)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance_report import to_html, to_junit

NOW = "2025-06-05T06:00:00Z"
NOW_TIME = datetime(2025, 6, 5, 6, 0, tzinfo=timezone.utc)


def at(hours_before_now):
    return (NOW_TIME - timedelta(hours=hours_before_now)).strftime("%Y-%m-%dT%H:%M:%SZ")


def job_session_of(task, job_type, result="Success", is_retry=False, created=None, end=None):
    """The job session a task session points to (same UID), with the given JobType."""
    return {"uid": task["job_session_uid"], "name": "%s@%s" % (task["job_name"], task["creation_time"]),
            "job_uid": "urn:veeam:Job:" + task["job_name"], "job_id": task["job_name"],
            "job_name": task["job_name"], "job_type": job_type, "backup_server_name": task["backup_server_name"],
            "creation_time": created or task["creation_time"], "end_time": end or task["end_time"],
            "state": "Stopped", "result": result, "is_retry": is_retry}


def row_for(result, vm):
    rows = [r for r in result["vms"] if r["vm_display_name"] == vm]
    assert len(rows) == 1, rows
    return rows[0]


# --- a failed job session is never silent (issue 22, case 3) --------------------------------------

def merge01(session):
    """Job 'Copy to USB': its only task session succeeded, the job session failed afterwards."""
    task = session(vm="merge01", created=at(5), job="Copy to USB")
    job = job_session_of(task, "Backup", result="Failed", end=at(4))
    return task, job


def test_a_failed_job_session_with_successful_tasks_is_a_warning_by_default(session):
    task, job = merge01(session)
    result = evaluate([task], now=NOW, job_sessions=[job])
    assert result["status"] == "warning" and result["compliant"] is True
    assert result["summary"]["warnings_total"] == 1 and result["summary"]["jobs_failed"] == 1
    warning = result["warnings"][0]
    assert (warning["code"], warning["scope"], warning["job_name"], warning["backup_server_name"]) == (
        "job_failed", "job", "Copy to USB", "vbr01.example.com")
    assert warning["text"] == "vbr01.example.com / job Copy to USB: job_failed - last run of job Copy to USB ended with Failed"
    assert row_for(result, "merge01")["status"] == "compliant"  # the VM's data is there
    job_row = result["jobs"][0]
    assert (job_row["status"], job_row["reasons"], job_row["failed"]) == ("warning", ["job_failed"], True)


def test_failed_job_severity_violation_fails_the_verdict_and_junit(session):
    task, job = merge01(session)
    result = evaluate([task], now=NOW, job_sessions=[job], failed_job_severity="violation")
    assert result["status"] == "violation" and result["compliant"] is False
    assert [v["code"] for v in result["violations"]] == ["job_failed"]
    root = ET.fromstring(to_junit(result).encode("utf-8"))
    assert root.get("failures") == "1"
    jobs_suite = [s for s in root.findall("testsuite") if s.get("name") == "jobs"][0]
    case = jobs_suite.find("testcase")
    assert case.get("name") == "vbr01.example.com / Copy to USB"
    assert case.find("failure").get("type") == "job_failed"
    page = to_html(result)
    assert "job_failed" in page and "Copy to USB" in page


def test_a_warning_severity_job_is_a_junit_case_without_failure(session):
    task, job = merge01(session)
    root = ET.fromstring(to_junit(evaluate([task], now=NOW, job_sessions=[job])).encode("utf-8"))
    assert root.get("failures") == "0" and root.get("tests") == "4"  # global + server + job + VM
    case = [s for s in root.findall("testsuite") if s.get("name") == "jobs"][0].find("testcase")
    assert case.find("failure") is None and "job_failed" in case.find("system-out").text


def test_a_job_that_failed_days_ago_and_succeeded_since_has_no_finding(session):
    old_task = session(vm="merge01", created=at(72), job="Copy to USB")
    new_task = session(vm="merge01", created=at(5), job="Copy to USB")
    jobs = [job_session_of(old_task, "Backup", result="Failed"), job_session_of(new_task, "Backup")]
    result = evaluate([old_task, new_task], now=NOW, job_sessions=jobs, failed_job_severity="violation")
    assert result["status"] == "compliant" and result["jobs"][0]["findings"] == []
    assert result["summary"]["jobs_failed"] == 0


def test_a_failed_run_retried_successfully_last_night_is_a_recovered_warning(session):
    task = session(vm="vm01", created=at(5), job="Nightly")
    retry_task = session(vm="vm01", created=at(4), job="Nightly")
    jobs = [job_session_of(task, "Backup", result="Failed"), job_session_of(retry_task, "Backup", is_retry=True)]
    result = evaluate([task, retry_task], now=NOW, job_sessions=jobs, failed_job_severity="violation")
    assert result["status"] == "warning"
    assert result["jobs"][0]["reasons"] == ["recovered_failure"] and result["jobs"][0]["recovered_by_retry"] is True


def test_failed_job_severity_is_validated(session):
    with pytest.raises(ComplianceInputError, match="failed_job_severity must be one of warning, violation"):
        evaluate([session()], now=NOW, failed_job_severity="fatal")


# --- job types: only a backup from the source is a backup (issue 14, item 4) ----------------------

def test_a_successful_copy_after_a_failed_backup_is_still_a_violation(session):
    backup = session(vm="vm01", created=at(6), job="Backup Job", result="Failed", reason="snapshot failed")
    copy = session(vm="vm01", created=at(3), job="Backup Copy Job")
    jobs = [job_session_of(backup, "Backup", result="Failed"), job_session_of(copy, "BackupCopy")]
    row = row_for(evaluate([backup, copy], now=NOW, job_sessions=jobs), "vm01")
    assert row["status"] == "violation"
    assert row["reasons"] == ["rpo_exceeded", "last_backup_failed"]
    assert row["backup"]["last_result"] == "Failed" and row["copy"]["last_result"] == "Success"
    assert "recovered_failure" not in row["reasons"]


@pytest.mark.parametrize("job_type", ["ImmediateBackupCopy", "ImmediateBackupCopyWorker", "SomethingNew"])
def test_a_fresh_copy_does_not_satisfy_the_backup_rpo(session, job_type):
    backup = session(vm="vm01", created=at(30), job="Backup Job")
    copy = session(vm="vm01", created=at(2), job="Copy Job")
    jobs = [job_session_of(backup, "Backup"), job_session_of(copy, job_type)]
    row = row_for(evaluate([backup, copy], now=NOW, job_sessions=jobs), "vm01")
    assert row["reasons"] == ["rpo_exceeded"]
    assert row["backup"]["last_success_age_hours"] == 30.0


@pytest.mark.parametrize("job_type", ["AgentBackup", "NasBackup", "backup"])
def test_agent_and_nas_backups_are_backups(session, job_type):
    item = session(vm="host01", created=at(2), job="Agent Job")
    result = evaluate([item], now=NOW, job_sessions=[job_session_of(item, job_type)])
    row = row_for(result, "host01")
    assert row["status"] == "compliant" and row["copy"] is None and row["backup"]["sessions"] == 1
    assert result["summary"]["backup_sessions_job_type_unknown"] == 0


def test_copies_have_an_optional_rpo_and_failures_of_their_own(session):
    backup = session(vm="vm01", created=at(3), job="Backup Job")
    copy = session(vm="vm01", created=at(30), job="Copy Job")
    jobs = [job_session_of(backup, "Backup"), job_session_of(copy, "BackupCopy")]
    assert row_for(evaluate([backup, copy], now=NOW, job_sessions=jobs), "vm01")["status"] == "compliant"
    row = row_for(evaluate([backup, copy], now=NOW, job_sessions=jobs, copy_rpo_hours=24), "vm01")
    assert row["reasons"] == ["copy_rpo_exceeded"] and row["copy"]["last_success_age_hours"] == 30.0
    failed_copy = session(vm="vm01", created=at(2), job="Copy Job", result="Failed")
    jobs.append(job_session_of(failed_copy, "BackupCopy", result="Failed"))
    result = evaluate([backup, copy, failed_copy], now=NOW, job_sessions=jobs)
    assert row_for(result, "vm01")["reasons"] == ["last_copy_failed"]
    assert result["summary"]["copy_sessions"] == 2 and result["summary"]["backup_sessions"] == 1


def test_a_vm_with_only_copies_owes_a_backup(session):
    copy = session(vm="vm01", created=at(2), job="Copy Job")
    row = row_for(evaluate([copy], now=NOW, job_sessions=[job_session_of(copy, "BackupCopy")]), "vm01")
    assert row["reasons"] == ["rpo_exceeded"] and row["backup"] is None


def test_the_job_type_is_found_by_job_name_when_the_job_session_is_older_than_the_window(session):
    old_copy = session(vm="vm01", created=at(2), job="Copy Job")
    other_run = session(vm="vm02", created=at(1), job="Copy Job")
    backup = session(vm="vm01", created=at(30), job="Backup Job")
    jobs = [job_session_of(other_run, "BackupCopy"), job_session_of(backup, "Backup")]
    result = evaluate([old_copy, backup], now=NOW, job_sessions=jobs)
    assert row_for(result, "vm01")["reasons"] == ["rpo_exceeded"]
    assert result["summary"]["backup_sessions_job_type_unknown"] == 0


def test_without_job_sessions_the_type_is_unknown_and_counted(session):
    # Documented choice: unknown job types stay on the backup time line (as before) and are counted.
    backup = session(vm="vm01", created=at(30), job="Backup Job")
    copy = session(vm="vm01", created=at(2), job="Copy Job")
    result = evaluate([backup, copy], now=NOW)
    assert row_for(result, "vm01")["status"] == "compliant"
    assert result["summary"]["backup_sessions_job_type_unknown"] == 2


# --- CMDB names (issue 14, item 5) -----------------------------------------------------------------

@pytest.mark.parametrize("em_name, cmdb_name", [
    ("sql-prod-026", "sql-prod-026.corp.example.com"),
    ("sql-prod-026.corp.example.com", "sql-prod-026"),
    ("SQL-PROD-026", "sql-prod-026.Corp.Example.com"),
])
def test_short_name_and_fqdn_match_by_default(session, em_name, cmdb_name):
    result = evaluate([session(vm=em_name, created=at(2))], now=NOW, expected_vms=[cmdb_name])
    assert result["status"] == "compliant"
    assert [(r["vm_display_name"], r["expected"]) for r in result["vms"]] == [(em_name, True)]


def test_fqdns_of_different_domains_do_not_match_by_default_but_do_with_short(session):
    item = session(vm="db01.dmz.example.com", created=at(2))
    strict = evaluate([item], now=NOW, expected_vms=["db01.corp.example.com"])
    assert row_for(strict, "db01.corp.example.com")["reasons"] == ["never_backed_up"]
    loose = evaluate([item], now=NOW, expected_vms=["db01.corp.example.com"], expected_vm_match="short")
    assert loose["status"] == "compliant"


def test_exact_matching_names_the_near_miss(session):
    result = evaluate([session(vm="sql-prod-026", created=at(2))], now=NOW,
                      expected_vms=["sql-prod-026.corp.example.com"], expected_vm_match="exact")
    missing = row_for(result, "sql-prod-026.corp.example.com")
    assert missing["reasons"] == ["never_backed_up"]
    assert 'did you mean "sql-prod-026"? (expected_vm_match=exact)' in missing["findings"][0]["message"]


def test_a_typo_gets_a_did_you_mean_and_unrelated_names_do_not(session):
    result = evaluate([session(vm="sql-prod-026", created=at(2)), session(vm="web01", created=at(2))], now=NOW,
                      expected_vms=["sql-prod-26", "ghost99"])
    typo = row_for(result, "sql-prod-26")["findings"][0]["message"]
    assert typo.endswith('did you mean "sql-prod-026"? (expected_vm_match=fqdn)')
    assert "did you mean" not in row_for(result, "ghost99")["findings"][0]["message"]


def test_names_match_modes():
    assert names_match("10.0.0.5", "10.0.0.5", "fqdn") and not names_match("10.0.0.5", "10", "short")
    assert not names_match("sql-prod-026", "sql-prod-026.corp.example.com", "exact")
    assert names_match("sql-prod-026", "sql-prod-026.corp.example.com", "short")
    assert not names_match("sql-prod-02", "sql-prod-026.corp.example.com", "fqdn")


def test_expected_vm_match_is_validated(session):
    with pytest.raises(ComplianceInputError, match="expected_vm_match must be one of exact, fqdn, short, got 'dns'"):
        evaluate([session()], now=NOW, expected_vm_match="dns")
