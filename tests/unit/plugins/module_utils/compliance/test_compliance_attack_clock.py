"""Attack: sessions dated after the evaluation time (a wrong clock) must not read as protection.

FACTS 6 [INF]: a session's times are its backup server's; a server, EM or the controller whose clock
is wrong dates sessions ahead of ``now``. Before the fix a success dated ahead had a negative age: it
satisfied the RPO until the clock reached it and, as the newest run, hid the failure before it.
"""
import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate
from unit.plugins.module_utils.compliance.conftest import build_session as session
from unit.plugins.module_utils.compliance.test_veeam_em_compliance_jobs import job_session

NOW = "2025-06-05T06:00:00Z"


def only_row(result):
    assert len(result["vms"]) == 1
    return result["vms"][0]


def test_a_success_dated_days_ahead_does_not_satisfy_the_rpo():
    # the real last success is 29 h old (RPO 24 h); the server's clock then jumped 4 days ahead
    result = evaluate([session(vm="db01", created="2025-06-04T01:00:00Z"),
                       session(vm="db01", created="2025-06-09T01:00:00Z")], now=NOW)
    row = only_row(result)
    assert row["reasons"] == ["rpo_exceeded", "clock_skew"]
    assert row["status"] == "violation" and result["compliant"] is False
    assert row["findings"][0]["message"] == "data of the last successful backup is 29h old (RPO 24h)"
    skew = row["findings"][1]
    assert skew["severity"] == "warning" and skew["time"] == "2025-06-09T01:00:00Z"
    assert skew["message"].startswith("1 successful backup session(s) dated more than 1h after the evaluation "
                                      "time 2025-06-05T06:00:00Z are not counted")
    assert skew["message"].endswith(", 91h ahead")


def test_a_success_dated_ahead_is_no_backup_at_all_when_it_is_the_only_one():
    result = evaluate([session(vm="db01", created="2026-01-01T01:00:00Z")], now=NOW)
    assert only_row(result)["reasons"] == ["rpo_exceeded", "clock_skew"]
    assert result["status"] == "violation"


def test_a_success_dated_ahead_does_not_hide_the_failure_before_it():
    result = evaluate([session(vm="db01", created="2025-06-05T01:00:00Z", result="Failed"),
                       session(vm="db01", created="2026-01-01T01:00:00Z")], now=NOW, backup_rpo_hours=0)
    row = only_row(result)
    assert row["reasons"] == ["last_backup_failed", "clock_skew"]   # not recovered_failure
    assert row["status"] == "violation"


@pytest.mark.parametrize("kind,code", [("backup", "last_backup_failed"), ("replica", "last_replica_failed")])
def test_a_failure_dated_ahead_is_still_a_failure(kind, code):
    sessions = [session(vm="db01", created="2025-06-05T01:00:00Z", kind=kind),
                session(vm="db01", created="2026-01-01T01:00:00Z", result="Failed", kind=kind)]
    if kind == "backup":
        result = evaluate(sessions, now=NOW)
    else:
        result = evaluate([], replica_sessions=sessions, now=NOW)
    assert only_row(result)["reasons"] == [code]


def test_a_replica_dated_ahead_does_not_satisfy_the_replica_rpo():
    result = evaluate([], replica_sessions=[session(vm="db01", kind="replica", created="2025-06-04T01:00:00Z"),
                                            session(vm="db01", kind="replica", created="2025-06-09T01:00:00Z")],
                      now=NOW)
    assert only_row(result)["reasons"] == ["replica_rpo_exceeded", "clock_skew"]


def test_a_restore_point_dated_ahead_is_not_counted_either():
    # the task session's own times are fine; the restore point joined in says the data is from the future
    result = evaluate([session(vm="db01", created="2025-06-04T01:00:00Z",
                               restore_point_time="2025-06-12T01:00:00Z")], now=NOW)
    assert only_row(result)["reasons"] == ["rpo_exceeded", "clock_skew"]


def test_a_session_read_minutes_after_now_is_a_late_read_not_a_wrong_clock():
    # the module takes ``now`` before it reads EM; a run that started during the read is ~minutes ahead
    result = evaluate([session(vm="db01", created="2025-06-05T06:40:00Z", end="2025-06-05T06:50:00Z")], now=NOW)
    row = only_row(result)
    assert row["status"] == "compliant" and row["reasons"] == []


def test_an_end_time_ahead_on_a_run_of_last_night_is_not_a_wrong_clock():
    # the data time (the start) decides; an odd end (a placeholder) must not set a good run aside
    result = evaluate([session(vm="db01", created="2025-06-05T01:00:00Z", end="2025-12-31T00:00:00Z")], now=NOW)
    row = only_row(result)
    assert row["reasons"] == ["long_running"] and result["compliant"] is True   # its odd length is named


def test_a_job_run_dated_ahead_does_not_hide_a_failed_job():
    jobs = [job_session("Nightly", "2025-06-04T22:00:00Z", "Failed"),
            job_session("Nightly", "2026-01-01T22:00:00Z", "Success")]
    result = evaluate([session(vm="db01", job="Nightly")], now=NOW, job_sessions=jobs,
                      failed_job_severity="violation")
    row = next(job for job in result["jobs"] if job["job_name"] == "Nightly")
    assert row["reasons"] == ["job_failed", "clock_skew"]
    assert row["status"] == "violation"


def test_a_server_whose_newest_session_is_dated_ahead_is_named():
    result = evaluate([session(vm="db01", created="2025-06-05T01:00:00Z"),
                       session(vm="db02", created="2026-01-01T01:00:00Z")], now=NOW)
    server = only_server(result)
    assert server["reasons"] == ["clock_skew"] and server["status"] == "warning"
    assert "it is not taken as a sign of life" in server["findings"][0]["message"]


def only_server(result):
    assert len(result["servers"]) == 1
    return result["servers"][0]


def test_a_server_that_went_silent_is_silent_despite_one_stray_session_dated_ahead():
    # the server's clock once jumped to 2026 and back; its real sessions stopped 3 days ago
    result = evaluate([session(vm="db01", created="2025-06-02T01:00:00Z"),
                       session(vm="db02", created="2026-01-01T01:00:00Z", result="Failed")], now=NOW)
    assert "server_silent" in only_server(result)["reasons"]


def test_the_row_shows_the_success_the_rules_count_not_the_one_dated_ahead():
    """The VM row's last_success_time agrees with its findings: the success dated ahead is named (clock_skew), the
    one shown as the last success is the real one, with its real age."""
    result = evaluate([session(vm="db01", created="2025-06-04T01:00:00Z"),
                       session(vm="db01", created="2026-01-01T01:00:00Z")], now=NOW)
    backup = only_row(result)["backup"]
    assert backup["last_success_time"] == "2025-06-04T01:00:00Z" and backup["last_success_age_hours"] == 29.0
