"""Where issue 14 (history before the window) meets issue 22 (job types, copies, data time).

* History sessions take their job's type by job name and server from the window's job sessions
  (a job's type does not change): a copy in the history is on the copy time line, never a
  backup - it can neither give a VM a "last success" nor make a stopped VM's backup look fresh.
* A history session of a job with no job session in the window has no known type and counts as
  a backup, as every session of unknown job type does (documented in the filter docs).
* A VM owes one RPO finding per kind: the history's (with the real age) replaces the window's
  "no successful backup in the lookback window" when the backups are only in the history.
* The history rows' RPO message is built, not rewritten from the window's text.
* The JUnit counts hold with jobs and an outage together.
"""
import xml.etree.ElementTree as ET

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_report as report
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate
from unit.plugins.module_utils.compliance.conftest import build_session as session

NOW = "2025-06-05T06:00:00Z"          # window of 7 days: from 2025-05-29T06:00:00Z
IN_WINDOW = "2025-06-05T01:00:00Z"    # 5 h before NOW: a fresh point


def job_session(job, job_type, created=IN_WINDOW, result="Success", server="vbr01.example.com"):
    return {"uid": "urn:veeam:BackupJobSession:%s-%s" % (job, created), "name": "%s@%s" % (job, created),
            "job_name": job, "job_type": job_type, "backup_server_name": server, "creation_time": created,
            "end_time": created.replace("T01:00", "T01:30"), "state": "Stopped", "result": result,
            "is_retry": False}


JOBS = [job_session("Backup Job 1", "Backup"), job_session("Copy Job", "BackupCopy")]


def daily(vm, first_day, last_day, job="Backup Job 1", result="Success"):
    """One session per day of May 2025, created at 01:00Z (ends 01:10Z)."""
    return [session(vm=vm, job=job, result=result, created="2025-05-%02dT01:00:00Z" % day)
            for day in range(first_day, last_day + 1)]


def row_of(result, vm):
    rows = [row for row in result["vms"] if row["vm_display_name"] == vm]
    assert len(rows) == 1, result["vms"]
    return rows[0]


def test_backups_only_in_the_history_while_copies_go_on_is_one_rpo_finding_with_the_real_age():
    sessions = daily("vm1", 10, 20) + [session(vm="vm1", job="Copy Job", created=IN_WINDOW)]
    row = row_of(evaluate(sessions, now=NOW, job_sessions=JOBS), "vm1")
    assert (row["in_window"], row["status"], row["reasons"]) == (True, "violation", ["rpo_exceeded"])
    assert [f["code"] for f in row["findings"]] == ["rpo_exceeded"]  # the window's "no success" is replaced
    assert row["findings"][0]["message"] == (
        "no backup session in the 7-day window, the last one was created 2025-05-20T01:00:00Z; "
        "data of the last successful backup is 389h old (RPO 24h)")
    assert (row["backup"]["sessions"], row["backup"]["last_success_time"]) == (0, "2025-05-20T01:00:00Z")
    assert (row["copy"]["sessions"], row["copy"]["last_success_time"]) == (1, IN_WINDOW)


def test_a_copy_in_the_history_is_no_last_success_of_a_failing_backup():
    """Copies of the history (a typed job) stay copies: the failing backup has no success at all."""
    sessions = daily("vm2", 20, 28, job="Copy Job") + [session(vm="vm2", result="Failed", created=IN_WINDOW)]
    row = row_of(evaluate(sessions, now=NOW, job_sessions=JOBS, backup_rpo_hours=240), "vm2")
    assert row["reasons"] == ["rpo_exceeded", "last_backup_failed"]
    assert row["backup"]["last_success_time"] is None
    assert row["findings"][0]["message"] == "no successful backup in the lookback window (RPO 240h)"
    assert (row["copy"]["sessions"], row["copy"]["last_success_time"]) == (0, "2025-05-28T01:00:00Z")


def test_a_vm_with_only_copies_in_the_history_owes_a_backup():
    row = row_of(evaluate(daily("vm3", 10, 20, job="Copy Job") + [session(vm="ok", created=IN_WINDOW)],
                          now=NOW, job_sessions=JOBS), "vm3")
    assert (row["in_window"], row["reasons"], row["backup"]) == (False, ["rpo_exceeded"], None)
    assert row["findings"][0]["kind"] == "backup"
    assert row["findings"][0]["message"] == (
        "no successful backup in the window nor in the history EM keeps (RPO 24h)")
    assert row["copy"]["last_success_time"] == "2025-05-20T01:00:00Z"


def test_a_copy_rpo_is_judged_on_copies_that_stopped_before_the_window():
    sessions = daily("vm5", 10, 20, job="Copy Job") + [session(vm="vm5", created=IN_WINDOW)]
    row = row_of(evaluate(sessions, now=NOW, job_sessions=JOBS, copy_rpo_hours=48), "vm5")
    assert row["reasons"] == ["copy_rpo_exceeded"]
    assert row["findings"][0]["message"] == (
        "no copy session in the 7-day window, the last one was created 2025-05-20T01:00:00Z; "
        "data of the last successful copy is 389h old (RPO 48h)")


def test_a_history_session_of_a_job_not_in_the_window_counts_as_a_backup():
    """No job session of "Old Job" in the window: its type is unknown, so it is a backup (like every
    unknown type); the summary's count of unknown types is of the window only."""
    result = evaluate(daily("vm4", 10, 20, job="Old Job") + [session(vm="ok", created=IN_WINDOW)],
                      now=NOW, job_sessions=JOBS)
    row = row_of(result, "vm4")
    assert (row["reasons"], row["copy"]) == (["rpo_exceeded"], None)
    assert row["backup"]["last_success_time"] == "2025-05-20T01:00:00Z"
    assert result["summary"]["backup_sessions_job_type_unknown"] == 0


def test_without_job_sessions_every_window_session_is_of_unknown_type():
    result = evaluate(daily("vm4", 10, 20) + [session(vm="ok", created=IN_WINDOW)] * 1, now=NOW)
    assert result["summary"]["backup_sessions_job_type_unknown"] == 1


def test_a_history_run_that_ended_within_the_rpo_keeps_its_server_from_silence():
    """Issue 22 in the history: a server's sign of life is a session's end. A 200 h run, created
    before the window, that ended 2 h ago is activity (its start alone would make the server silent)."""
    long_run = session(vm="vm6", created="2025-05-27T20:00:00Z", end="2025-06-05T04:00:00Z")
    result = evaluate([long_run], now=NOW)
    assert result["servers"][0]["last_session_time"] == "2025-06-05T04:00:00Z"
    assert result["servers"][0]["reasons"] == []


def test_junit_counts_with_jobs_and_an_outage():
    sessions = [session(vm="vm7", created=IN_WINDOW), session(vm="vm8", result="Failed", created=IN_WINDOW)]
    jobs = [job_session("Backup Job 1", "Backup", result="Failed")]
    result = evaluate(sessions, now=NOW, job_sessions=jobs, failed_job_severity="violation",
                      read_errors=["HTTP 500 on page 3"])
    summary = result["summary"]
    root = ET.fromstring(report.to_junit(result).split("\n", 1)[1])
    assert int(root.get("tests")) == summary["vms_total"] + summary["servers_total"] + summary["jobs_total"] + 1 == 5
    assert int(root.get("failures")) == summary["vms_violation"] + 1 == 2  # vm8 and the failed job
    assert int(root.get("errors")) == 1  # the global case: EM was not read in full
    assert result["status"] == "error" and result["compliant"] is False
