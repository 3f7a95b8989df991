"""Per-job rows (job sessions, retries) of the compliance filter and their HTML table."""
import itertools

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance_report import to_html

NOW = "2025-06-05T06:00:00Z"
_COUNTER = itertools.count(1)


def job_session(job, created, result="Success", state="Stopped", is_retry=False, server="vbr01", kind="Backup"):
    """A normalised job session (the keys of veeam_em_backup_job_session_info)."""
    number = next(_COUNTER)
    guid = "00000000-0000-0000-0000-%012d" % number
    job_guid = "00000000-0000-0000-1111-%012d" % (abs(hash((job, server))) % 10 ** 12)
    running = state != "Stopped"
    return {"uid": "urn:veeam:%sJobSession:%s" % (kind, guid), "id": guid, "name": "%s@%s" % (job, created),
            "job_uid": "urn:veeam:Job:" + job_guid, "job_id": job_guid, "job_name": job, "job_type": kind,
            "backup_server_uid": None, "backup_server_name": server, "creation_time": created,
            "end_time": None if running else created, "state": state, "result": None if running else result,
            "progress": 50 if running else 100, "is_retry": is_retry, "failure_message": None, "links": [],
            "task_sessions": None}


def task(vm="vm01", created="2025-06-05T01:00:00Z", job="Nightly"):
    return {"uid": "urn:veeam:BackupTaskSession:%d" % next(_COUNTER), "vm_display_name": vm, "vm_uid": None,
            "job_name": job, "backup_server_name": "vbr01", "backup_server_uid": None, "creation_time": created,
            "end_time": "2025-06-05T01:10:00Z", "state": "Completed", "result": "Success", "reason": "",
            "restore_point_uid": None}


SESSIONS = [
    job_session("Nightly", "2025-06-04T22:00:00Z", "Failed"),
    job_session("Nightly", "2025-06-04T22:30:00Z", "Success", is_retry=True),
    job_session("Broken", "2025-06-04T22:00:00Z", "Failed"),
    job_session("Broken", "2025-06-04T22:30:00Z", "Failed", is_retry=True),
    job_session("Fine", "2025-06-03T22:00:00Z", "Success"),
    job_session("Fine", "2025-06-04T22:00:00Z", "Warning"),
    job_session("Busy", "2025-06-04T22:00:00Z", "Failed"),
    job_session("Busy", "2025-06-05T05:00:00Z", state="Working"),
    job_session("Old", "2025-05-01T22:00:00Z", "Failed"),             # outside the 7-day window
    job_session("DR", "2025-06-04T12:00:00Z", "Success", kind="Replica", server="vbr02"),
]


def jobs_of(result):
    return {row["job_name"]: row for row in result["jobs"]}


def test_job_rows_carry_retry_information():
    result = evaluate([task()], now=NOW, job_sessions=SESSIONS)
    jobs = jobs_of(result)
    assert set(jobs) == {"Nightly", "Broken", "Fine", "Busy", "DR"}
    nightly = jobs["Nightly"]
    assert (nightly["status"], nightly["retries"], nightly["failed_sessions"], nightly["recovered_by_retry"],
            nightly["last_result"], nightly["last_is_retry"]) == ("warning", 1, 1, True, "Success", True)
    assert nightly["reasons"] == ["recovered_failure"] and nightly["failed"] is False
    # Issue 22: a job row's status is now its findings' (part of the verdict); a failed last run is
    # job_failed with failed_job_severity, a warning by default (was an informational "violation").
    broken = jobs["Broken"]
    assert (broken["status"], broken["retries"], broken["failed_sessions"], broken["recovered_by_retry"]) == (
        "warning", 1, 2, False)
    assert broken["reasons"] == ["job_failed"] and broken["failed"] is True
    assert jobs["Fine"]["status"] == "compliant" and jobs["Fine"]["sessions"] == 2
    busy = jobs["Busy"]
    assert busy["running"] is True and busy["last_result"] == "Failed" and busy["status"] == "warning"
    assert busy["reasons"] == ["job_failed"] and busy["failed"] is True
    assert busy["last_session_time"] == "2025-06-05T05:00:00Z"
    assert jobs["DR"]["job_type"] == "Replica" and jobs["DR"]["backup_server_name"] == "vbr02"
    assert jobs["DR"]["status"] == "compliant" and jobs["DR"]["findings"] == []
    summary = result["summary"]
    assert (summary["jobs_total"], summary["jobs_failed"], summary["jobs_retried"]) == (5, 2, 2)


def test_failed_jobs_are_part_of_the_verdict():
    # Issue 22 reverses the old test "job rows never change the verdict": a failed job is never silent.
    with_jobs = evaluate([task()], now=NOW, job_sessions=SESSIONS)
    without = evaluate([task()], now=NOW)
    assert without["status"] == "compliant" and without["jobs"] == [] and without["summary"]["jobs_total"] == 0
    assert with_jobs["status"] == "warning" and with_jobs["compliant"] is True
    assert with_jobs["vms"] == without["vms"]
    assert sorted((w["code"], w["job_name"], w["scope"]) for w in with_jobs["warnings"]) == [
        ("job_failed", "Broken", "job"), ("job_failed", "Busy", "job"), ("recovered_failure", "Nightly", "job")]
    strict = evaluate([task()], now=NOW, job_sessions=SESSIONS, failed_job_severity="violation")
    assert strict["status"] == "violation" and strict["compliant"] is False
    assert sorted(v["job_name"] for v in strict["violations"]) == ["Broken", "Busy"]
    assert strict["summary"]["violations_total"] == 2


def test_warnings_not_accepted_and_scope_apply_to_jobs():
    result = evaluate([task(job="Fine")], now=NOW, job_sessions=SESSIONS, accept_warnings=False,
                      exclude_jobs=["b*"], include_servers=["vbr01"])
    jobs = jobs_of(result)
    assert set(jobs) == {"Nightly", "Fine"}
    assert jobs["Fine"]["status"] == "warning"


@pytest.mark.parametrize("bad", ["not a list", 5])
def test_bad_job_sessions_are_refused(bad):
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import ComplianceInputError
    with pytest.raises(ComplianceInputError):
        evaluate([task()], now=NOW, job_sessions=bad)


def test_unreadable_job_sessions_are_skipped():
    result = evaluate([task()], now=NOW, job_sessions=[None, {"creation_time": "garbage"}, {"job_name": "x"}])
    assert result["jobs"] == []


def test_html_has_a_job_table_with_escaped_names():
    hostile = job_session('Job "<x>" & co', "2025-06-04T22:00:00Z", "Failed")
    page = to_html(evaluate([task()], now=NOW, job_sessions=SESSIONS + [hostile]))
    assert "<h2>Jobs (6)</h2>" in page
    assert "Job &quot;&lt;x&gt;&quot; &amp; co" in page and '<x>' not in page
    assert "recovered by a retry" in page and "running now" in page
    empty = to_html(evaluate([task()], now=NOW))
    assert "No job sessions were read." in empty
