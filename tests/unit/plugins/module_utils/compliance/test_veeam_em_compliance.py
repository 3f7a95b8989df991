"""Unit tests of the compliance evaluation rules (module_utils/em_compliance.py and its _compliance/ package).

Every test builds a handful of sessions around a fixed NOW, so each rule is checked at its
boundary without a clock or an EM.
"""
from datetime import datetime, timezone

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import (
    ComplianceInputError, evaluate, parse_time, window_start)

NOW = "2025-06-05T06:00:00Z"


def only_row(result):
    assert len(result["vms"]) == 1, result["vms"]
    return result["vms"][0]


def row_for(result, vm, server=None):
    rows = [r for r in result["vms"] if r["vm_display_name"] == vm
            and (server is None or r["backup_server_name"] == server)]
    assert len(rows) == 1, rows
    return rows[0]


def codes(findings):
    return [f["code"] for f in findings]


# --- time parsing ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2025-06-05T01:04:29Z", datetime(2025, 6, 5, 1, 4, 29, tzinfo=timezone.utc)),
    ("2025-06-05T01:04:29.56Z", datetime(2025, 6, 5, 1, 4, 29, 560000, tzinfo=timezone.utc)),
    ("2025-06-05T01:04:29.1234567Z", datetime(2025, 6, 5, 1, 4, 29, 123456, tzinfo=timezone.utc)),
    ("2025-06-05T03:04:29+02:00", datetime(2025, 6, 5, 1, 4, 29, tzinfo=timezone.utc)),
    ("2025-06-04T20:34:29-0430", datetime(2025, 6, 5, 1, 4, 29, tzinfo=timezone.utc)),
    ("2025-06-05T01:04:29", datetime(2025, 6, 5, 1, 4, 29, tzinfo=timezone.utc)),
    ("2025-06-05 01:04", datetime(2025, 6, 5, 1, 4, tzinfo=timezone.utc)),
    ("2025-06-05", datetime(2025, 6, 5, tzinfo=timezone.utc)),
])
def test_parse_time_accepts_em_strings_and_offsets(text, expected):
    assert parse_time(text) == expected


def test_parse_time_handles_empty_datetime_and_garbage():
    assert parse_time(None) is None
    assert parse_time("") is None
    assert parse_time(datetime(2025, 6, 5, 1, 0)) == datetime(2025, 6, 5, 1, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        parse_time("yesterday")


def test_window_start_is_now_minus_lookback():
    assert window_start("2025-06-05T06:00:00Z", 7) == "2025-05-29T06:00:00Z"
    assert window_start("2025-06-05T08:00:00+02:00", 1.5) == "2025-06-03T18:00:00Z"


def test_now_is_required_and_validated(session):
    with pytest.raises(ComplianceInputError):
        evaluate([session()])
    with pytest.raises(ComplianceInputError):
        evaluate([session()], now="soon")


def test_unknown_or_negative_options_are_rejected(session):
    with pytest.raises(ComplianceInputError, match="unknown option"):
        evaluate([session()], now=NOW, rpo=24)
    with pytest.raises(ComplianceInputError, match="must not be negative"):
        evaluate([session()], now=NOW, backup_rpo_hours=-1)
    with pytest.raises(ComplianceInputError, match="boolean"):
        evaluate([session()], now=NOW, accept_warnings="maybe")


# --- RPO -----------------------------------------------------------------------------------------

def test_recent_success_is_compliant(session):
    result = evaluate([session(created="2025-06-05T01:00:00Z")], now=NOW)
    row = only_row(result)
    assert row["status"] == "compliant"
    assert row["reasons"] == []
    # Issue 22: the age of a backup is the age of its data, counted from the run's start (was the end,
    # 01:10 and 4.83 h); the end is kept as last_success_end_time.
    assert row["backup"]["last_success_time"] == "2025-06-05T01:00:00Z"
    assert row["backup"]["last_success_age_hours"] == 5.0
    assert row["backup"]["last_success_end_time"] == "2025-06-05T01:10:00Z"
    assert result["compliant"] is True
    assert result["status"] == "compliant"
    assert result["violations"] == []


# Issue 22: the RPO boundary is on the start of the run (the data's time), not on its end; these two
# tests moved their creation times from 05:50 (with the end at the boundary) to the boundary itself.
def test_point_exactly_at_the_rpo_is_still_compliant(session):
    item = session(created="2025-06-04T06:00:00Z", end="2025-06-04T06:10:00Z")
    assert only_row(evaluate([item], now=NOW))["status"] == "compliant"


def test_point_one_second_older_than_the_rpo_violates(session):
    item = session(created="2025-06-04T05:59:59Z", end="2025-06-04T06:10:00Z")
    row = only_row(evaluate([item], now=NOW))
    assert row["status"] == "violation"
    assert row["reasons"] == ["rpo_exceeded"]
    assert row["findings"][0]["time"] == "2025-06-04T05:59:59Z"


def test_point_time_falls_back_to_creation_time_without_end_time(session):
    # Created 23h59m ago, no end time: the creation time is the point time.
    item = session(created="2025-06-04T06:01:00Z", end=None)
    row = only_row(evaluate([item], now=NOW))
    assert row["status"] == "compliant"
    assert row["backup"]["last_success_time"] == "2025-06-04T06:01:00Z"


def test_rpo_is_configurable(session):
    item = session(created="2025-06-04T20:00:00Z")
    assert only_row(evaluate([item], now=NOW, backup_rpo_hours=12))["reasons"] == []
    assert only_row(evaluate([item], now=NOW, backup_rpo_hours=8))["reasons"] == ["rpo_exceeded"]


def test_no_success_at_all_is_an_rpo_violation(session):
    sessions = [session(created="2025-06-04T01:00:00Z", result="Failed"),
                session(created="2025-06-05T01:00:00Z", result="Failed")]
    row = only_row(evaluate(sessions, now=NOW))
    assert row["status"] == "violation"
    assert row["reasons"] == ["rpo_exceeded", "last_backup_failed"]
    assert row["backup"]["last_success_time"] is None
    assert "no successful backup" in row["findings"][0]["message"]


# --- failures, retries, warnings ---------------------------------------------------------------

def test_latest_failure_is_open_even_inside_the_rpo(session):
    sessions = [session(created="2025-06-04T23:00:00Z"),
                session(created="2025-06-05T01:00:00Z", result="Failed", reason="Error: disk full")]
    row = only_row(evaluate(sessions, now=NOW))
    assert row["status"] == "violation"
    assert row["reasons"] == ["last_backup_failed"]
    assert "Error: disk full" in row["findings"][0]["message"]


def test_failure_recovered_by_a_retry_is_a_warning_not_a_violation(session):
    sessions = [session(created="2025-06-05T01:00:00Z", result="Failed"),
                session(created="2025-06-05T01:30:00Z", result="Success")]  # the retry session
    result = evaluate(sessions, now=NOW)
    row = only_row(result)
    assert row["status"] == "warning"
    assert row["reasons"] == ["recovered_failure"]
    assert result["violations"] == []
    assert [w["code"] for w in result["warnings"]] == ["recovered_failure"]
    assert result["compliant"] is True
    assert result["status"] == "warning"


def test_failure_recovered_by_the_next_nights_run_is_not_reported_after_recent_hours(session):
    sessions = [session(created="2025-06-03T01:00:00Z", result="Failed"),
                session(created="2025-06-04T01:00:00Z"),
                session(created="2025-06-05T01:00:00Z")]
    assert only_row(evaluate(sessions, now=NOW))["status"] == "compliant"
    assert only_row(evaluate(sessions, now=NOW, recent_hours=72))["reasons"] == ["recovered_failure"]


def test_failure_after_the_success_stays_open(session):
    sessions = [session(created="2025-06-05T01:00:00Z"),
                session(created="2025-06-05T02:00:00Z", result="Failed")]
    row = only_row(evaluate(sessions, now=NOW))
    assert row["reasons"] == ["last_backup_failed"]


def test_completed_without_result_counts_as_failed(session):
    row = only_row(evaluate([session(created="2025-06-05T01:00:00Z", result=None)], now=NOW))
    assert row["reasons"] == ["rpo_exceeded", "last_backup_failed"]


def test_accepted_warning_protects_but_is_reported(session):
    result = evaluate([session(created="2025-06-05T01:00:00Z", result="Warning", reason="low space")], now=NOW)
    row = only_row(result)
    assert row["status"] == "warning"
    assert row["reasons"] == ["last_backup_warning"]
    assert row["findings"][0]["severity"] == "warning"
    assert row["backup"]["last_success_time"] == "2025-06-05T01:00:00Z"  # issue 22: the start, was the end
    assert result["compliant"] is True


def test_refused_warning_is_a_violation(session):
    row = only_row(evaluate([session(created="2025-06-05T01:00:00Z", result="Warning")],
                            now=NOW, accept_warnings=False))
    assert row["status"] == "violation"
    assert row["reasons"] == ["rpo_exceeded", "last_backup_warning"]
    assert all(f["severity"] == "violation" for f in row["findings"])
    assert row["backup"]["last_success_time"] is None


def test_refused_warning_recovered_by_a_retry(session):
    sessions = [session(created="2025-06-05T01:00:00Z", result="Warning"),
                session(created="2025-06-05T01:30:00Z", result="Success")]
    assert only_row(evaluate(sessions, now=NOW, accept_warnings=False))["reasons"] == ["recovered_failure"]
    assert only_row(evaluate(sessions, now=NOW, accept_warnings=True))["reasons"] == []


def test_accept_warnings_understands_strings(session):
    item = session(created="2025-06-05T01:00:00Z", result="Warning")
    assert only_row(evaluate([item], now=NOW, accept_warnings="false"))["status"] == "violation"


# --- stuck and long-running sessions -------------------------------------------------------------

def test_in_progress_beyond_the_stuck_limit_is_stuck(session):
    sessions = [session(created="2025-06-04T05:00:00Z"),
                session(created="2025-06-04T17:59:00Z", state="InProgress", result=None)]
    row = only_row(evaluate(sessions, now=NOW, backup_rpo_hours=48))
    assert row["status"] == "violation"
    assert row["reasons"] == ["stuck_session"]  # not also long_running: the same session
    assert row["backup"]["running"] == 1


def test_pending_counts_as_stuck_too(session):
    sessions = [session(created="2025-06-05T01:00:00Z"),
                session(created="2025-06-04T10:00:00Z", state="Pending", result=None)]
    assert "stuck_session" in only_row(evaluate(sessions, now=NOW))["reasons"]


def test_in_progress_below_the_stuck_limit_but_over_max_duration_is_long_running(session):
    sessions = [session(created="2025-06-04T23:00:00Z"),
                session(created="2025-06-04T21:00:00Z", state="InProgress", result=None)]  # 9 h
    row = only_row(evaluate(sessions, now=NOW))
    assert row["status"] == "warning"
    assert row["reasons"] == ["long_running"]
    assert "has been running" in row["findings"][0]["message"]


def test_fresh_in_progress_session_is_fine(session):
    sessions = [session(created="2025-06-05T01:00:00Z"),
                session(created="2025-06-05T05:00:00Z", state="InProgress", result=None)]
    assert only_row(evaluate(sessions, now=NOW))["status"] == "compliant"


def test_long_finished_session_is_a_warning_boundary_included(session):
    exactly = session(created="2025-06-04T20:00:00Z", end="2025-06-05T04:00:00Z")  # 480 min
    longer = session(vm="vm02", created="2025-06-04T20:00:00Z", end="2025-06-05T04:00:01Z")
    result = evaluate([exactly, longer], now=NOW)
    assert row_for(result, "vm01")["status"] == "compliant"
    assert row_for(result, "vm02")["reasons"] == ["long_running"]
    assert only_row(evaluate([longer], now=NOW, max_duration_minutes=0))["status"] == "compliant"


def test_old_long_session_is_not_reported_again(session):
    sessions = [session(created="2025-06-02T10:00:00Z", end="2025-06-02T20:00:00Z"),
                session(created="2025-06-05T01:00:00Z")]
    assert only_row(evaluate(sessions, now=NOW))["status"] == "compliant"


# --- grouping ------------------------------------------------------------------------------------

def test_same_vm_name_on_two_servers_gives_two_rows(session):
    sessions = [session(vm="web01", server="vbr01", created="2025-06-05T01:00:00Z"),
                session(vm="web01", server="vbr02", created="2025-06-02T01:00:00Z")]
    result = evaluate(sessions, now=NOW)
    assert result["summary"]["vms_total"] == 2
    assert row_for(result, "web01", "vbr01")["status"] == "compliant"
    assert row_for(result, "web01", "vbr02")["reasons"] == ["rpo_exceeded"]
    # violations first
    assert result["vms"][0]["backup_server_name"] == "vbr02"


def test_vm_uid_keeps_a_renamed_vm_together_and_splits_namesakes(session):
    sessions = [session(vm="old-name", vm_uid="urn:VMware:Vm:a.vm-1", created="2025-06-04T01:00:00Z"),
                session(vm="new-name", vm_uid="urn:VMware:Vm:a.vm-1", created="2025-06-05T01:00:00Z"),
                session(vm="twin", vm_uid="urn:VMware:Vm:a.vm-2", created="2025-06-05T01:00:00Z"),
                session(vm="twin", vm_uid="urn:VMware:Vm:b.vm-2", created="2025-06-01T01:00:00Z")]
    result = evaluate(sessions, now=NOW)
    assert result["summary"]["vms_total"] == 3
    renamed = row_for(result, "new-name")
    assert renamed["vm_uid"] == "urn:VMware:Vm:a.vm-1"
    assert renamed["backup"]["sessions"] == 2
    twins = sorted(r["status"] for r in result["vms"] if r["vm_display_name"] == "twin")
    assert twins == ["compliant", "violation"]


def test_server_name_is_the_key_when_the_uid_is_missing(session):
    sessions = [session(vm="a", server="VBR01", server_uid=None, created="2025-06-05T01:00:00Z"),
                session(vm="a", server="vbr01", server_uid=None, created="2025-06-04T01:00:00Z")]
    assert only_row(evaluate(sessions, now=NOW))["backup"]["sessions"] == 2


def test_sessions_without_vm_or_time_are_ignored_and_counted(session):
    sessions = [session(created="2025-06-05T01:00:00Z"),
                session(vm=None, created="2025-06-05T01:00:00Z"),
                session(created=None, end=None),
                session(created="not a time", end=None),
                "garbage"]
    result = evaluate(sessions, now=NOW)
    assert result["summary"]["vms_total"] == 1
    assert result["summary"]["sessions_ignored"] == 4
    assert result["summary"]["sessions_read"] == 5


def test_duplicate_session_uids_are_counted_once(session):
    item = session(created="2025-06-05T01:00:00Z")
    assert only_row(evaluate([item, dict(item)], now=NOW))["backup"]["sessions"] == 1


def test_sessions_older_than_the_lookback_window_are_ignored(session):
    sessions = [session(created="2025-05-28T01:00:00Z"), session(created="2025-06-05T01:00:00Z", result="Failed")]
    result = evaluate(sessions, now=NOW)
    row = only_row(result)
    assert row["backup"]["sessions"] == 1
    assert row["reasons"] == ["rpo_exceeded", "last_backup_failed"]
    assert result["summary"]["sessions_outside_window"] == 1


# --- time zones ----------------------------------------------------------------------------------

def test_offsets_are_normalised_to_utc(session):
    # 08:10+02:00 is 06:10Z; now given with an offset as well. Issue 22: the RPO counts from the
    # start (08:10+02:00), so the session was moved 10 min later than it was (it used to be the end).
    item = session(created="2025-06-04T08:10:00+02:00", end="2025-06-04T08:20:00+02:00")
    row = only_row(evaluate([item], now="2025-06-05T08:10:00+02:00"))
    assert row["status"] == "compliant"  # exactly 24 h
    assert row["backup"]["last_success_time"] == "2025-06-04T06:10:00Z"
    late = only_row(evaluate([item], now="2025-06-05T06:10:01Z"))
    assert late["reasons"] == ["rpo_exceeded"]


def test_fractional_seconds_matter_at_the_boundary(session):
    # Issue 22: the boundary is on the creation time (was the end time).
    item = session(created="2025-06-04T06:00:00.5Z", end="2025-06-04T06:10:00Z")
    assert only_row(evaluate([item], now="2025-06-05T06:00:00.5Z"))["status"] == "compliant"
    assert only_row(evaluate([item], now="2025-06-05T06:00:00.500001Z"))["status"] == "violation"


# --- replicas ------------------------------------------------------------------------------------

def test_replica_sessions_join_the_backup_row_by_name(session):
    backups = [session(vm="db01", vm_uid="urn:VMware:Vm:x.vm-7", created="2025-06-05T01:00:00Z")]
    replicas = [session(vm="db01", kind="replica", job="Replica Job", created="2025-06-03T02:00:00Z")]
    result = evaluate(backups, replica_sessions=replicas, now=NOW)
    row = only_row(result)
    assert row["vm_uid"] == "urn:VMware:Vm:x.vm-7"
    assert row["reasons"] == ["replica_rpo_exceeded"]
    assert row["findings"][0]["kind"] == "replica"
    assert row["jobs"] == ["Replica Job", "Backup Job 1"]
    assert result["summary"]["replica_sessions"] == 1


def test_replica_rpo_can_be_turned_off(session):
    backups = [session(vm="db01", created="2025-06-05T01:00:00Z")]
    replicas = [session(vm="db01", kind="replica", created="2025-06-03T02:00:00Z")]
    row = only_row(evaluate(backups, replica_sessions=replicas, now=NOW, replica_rpo_hours=0))
    assert row["status"] == "compliant"
    assert row["replica"]["rpo_hours"] is None


def test_replica_failure_and_replica_only_vm(session):
    replicas = [session(vm="app01", kind="replica", created="2025-06-05T01:00:00Z", result="Failed")]
    row = only_row(evaluate([], replica_sessions=replicas, now=NOW))
    assert row["backup"] is None
    assert row["reasons"] == ["replica_rpo_exceeded", "last_replica_failed"]


def test_replica_ambiguous_name_stays_a_separate_row(session):
    backups = [session(vm="dup", vm_uid="urn:VMware:Vm:a.vm-1", created="2025-06-05T01:00:00Z"),
               session(vm="dup", vm_uid="urn:VMware:Vm:b.vm-1", created="2025-06-05T01:00:00Z")]
    replicas = [session(vm="dup", kind="replica", created="2025-06-05T02:00:00Z")]
    result = evaluate(backups, replica_sessions=replicas, now=NOW)
    assert result["summary"]["vms_total"] == 3


# --- scope ---------------------------------------------------------------------------------------

def test_include_and_exclude_globs(session):
    sessions = [session(vm="web01", created="2025-06-05T01:00:00Z"),
                session(vm="WEB02", created="2025-06-01T01:00:00Z"),
                session(vm="db01", created="2025-06-01T01:00:00Z"),
                session(vm="tmp-web", created="2025-06-01T01:00:00Z")]
    result = evaluate(sessions, now=NOW, include_vms=["web*", "tmp-*"], exclude_vms=["web0[2-9]", "TMP-*"])
    assert [r["vm_display_name"] for r in result["vms"]] == ["web01"]
    assert result["summary"]["sessions_excluded"] == 3
    assert result["compliant"] is True


def test_job_and_server_globs(session):
    sessions = [session(vm="a", job="Backup Daily", created="2025-06-05T01:00:00Z"),
                session(vm="a", job="Backup Test", created="2025-06-05T02:00:00Z", result="Failed"),
                session(vm="b", server="lab-vbr", created="2025-06-01T01:00:00Z")]
    result = evaluate(sessions, now=NOW, exclude_jobs=["* test"], exclude_servers=["lab-*"])
    assert only_row(result)["status"] == "compliant"
    result = evaluate(sessions, now=NOW, include_jobs=["Backup Test"], include_servers=["vbr01.*"])
    assert only_row(result)["reasons"] == ["rpo_exceeded", "last_backup_failed"]


def test_a_single_string_pattern_is_accepted(session):
    result = evaluate([session(vm="a", created="2025-06-05T01:00:00Z")], now=NOW, exclude_vms="a")
    assert result["summary"]["no_data"] is True


# --- expected VMs --------------------------------------------------------------------------------

def test_expected_vm_never_seen_is_never_backed_up(session):
    result = evaluate([session(vm="web01", created="2025-06-05T01:00:00Z")], now=NOW,
                      expected_vms=["web01", "DB01", {"name": "mail01", "backup_server": "vbr09"}])
    assert result["summary"]["vms_total"] == 3
    assert row_for(result, "web01")["expected"] is True
    assert row_for(result, "web01")["status"] == "compliant"
    db = row_for(result, "DB01")
    assert db["reasons"] == ["never_backed_up"] and db["backup"] is None and db["expected"] is True
    assert row_for(result, "mail01")["backup_server_name"] == "vbr09"
    assert result["summary"]["reasons"] == {"never_backed_up": 2}


def test_expected_vm_matches_case_insensitively_and_by_server_name_or_uid(session):
    sessions = [session(vm="Web01", server="vbr01", created="2025-06-05T01:00:00Z")]
    for server in ("VBR01", "urn:veeam:BackupServer:vbr01"):
        result = evaluate(sessions, now=NOW, expected_vms=[{"name": "web01", "backup_server": server}])
        assert only_row(result)["expected"] is True


def test_expected_vm_on_another_server_is_missing(session):
    sessions = [session(vm="web01", server="vbr01", created="2025-06-05T01:00:00Z")]
    result = evaluate(sessions, now=NOW, expected_vms=[{"name": "web01", "backup_server": "vbr02"}])
    assert row_for(result, "web01", "vbr02")["reasons"] == ["never_backed_up"]
    assert row_for(result, "web01", "vbr01")["expected"] is False


def test_expected_vm_with_only_replicas_still_needs_a_backup(session):
    replicas = [session(vm="app01", kind="replica", created="2025-06-05T01:00:00Z")]
    row = only_row(evaluate([], replica_sessions=replicas, now=NOW, expected_vms=["app01"]))
    assert row["reasons"] == ["never_backed_up"]


def test_excluded_expected_vm_is_not_reported(session):
    result = evaluate([session(vm="web01", created="2025-06-05T01:00:00Z")], now=NOW,
                      expected_vms=["tmp-01"], exclude_vms=["tmp-*"])
    assert result["summary"]["vms_total"] == 1


def test_expected_entry_without_name_is_rejected(session):
    with pytest.raises(ComplianceInputError):
        evaluate([session()], now=NOW, expected_vms=[{"backup_server": "vbr01"}])


# --- no data -------------------------------------------------------------------------------------

@pytest.mark.parametrize("backups, replicas", [([], []), (None, None), ([], None)])
def test_no_sessions_at_all_is_a_violation(backups, replicas):
    result = evaluate(backups, replica_sessions=replicas, now=NOW)
    assert result["compliant"] is False
    assert result["status"] == "violation"
    assert result["summary"]["no_data"] is True
    assert [v["code"] for v in result["violations"]] == ["no_data"]
    assert result["violations"][0]["scope"] == "global"
    assert "role scope" in result["violations"][0]["message"]


def test_everything_outside_the_window_is_no_data(session):
    result = evaluate([session(created="2025-05-01T01:00:00Z")], now=NOW)
    assert result["summary"]["no_data"] is True
    assert "window" in result["violations"][0]["message"]


def test_everything_excluded_is_no_data(session):
    result = evaluate([session(created="2025-06-05T01:00:00Z")], now=NOW, exclude_servers=["*"])
    assert result["summary"]["no_data"] is True
    assert "excluded" in result["violations"][0]["message"]


# --- backup servers --------------------------------------------------------------------------------

def test_server_without_recent_sessions_is_silent(session):
    sessions = [session(vm="a", server="vbr01", created="2025-06-05T01:00:00Z"),
                session(vm="b", server="vbr02", created="2025-06-02T01:00:00Z"),
                session(vm="c", server="vbr02", created="2025-06-03T01:00:00Z")]
    result = evaluate(sessions, now=NOW)
    servers = {s["backup_server_name"]: s for s in result["servers"]}
    assert servers["vbr01"]["status"] == "compliant"
    assert servers["vbr02"]["reasons"] == ["server_silent"]
    assert servers["vbr02"]["vms"] == 2 and servers["vbr02"]["vms_violation"] == 2
    assert result["summary"]["servers_silent"] == 1
    silent = [v for v in result["violations"] if v["code"] == "server_silent"]
    assert silent[0]["scope"] == "server" and silent[0]["backup_server_name"] == "vbr02"


def test_known_server_without_any_session_is_silent(session):
    sessions = [session(vm="a", server="vbr01", created="2025-06-05T01:00:00Z")]
    result = evaluate(sessions, now=NOW,
                      known_backup_servers=["urn:veeam:BackupServer:vbr01", "vbr03", "lab-vbr"],
                      exclude_servers=["lab-*"])
    servers = {s["backup_server_name"]: s for s in result["servers"]}
    assert set(servers) == {"vbr01", "vbr03"}
    assert servers["vbr01"]["known"] is True and servers["vbr01"]["status"] == "compliant"
    assert servers["vbr03"]["reasons"] == ["server_silent"] and servers["vbr03"]["sessions"] == 0
    assert result["summary"]["servers_total"] == 2


def test_missing_expected_vm_is_counted_on_its_server(session):
    sessions = [session(vm="a", server="vbr01", created="2025-06-05T01:00:00Z")]
    result = evaluate(sessions, now=NOW, expected_vms=[{"name": "b", "backup_server": "vbr01"}])
    assert result["servers"][0]["vms"] == 2
    assert result["servers"][0]["vms_violation"] == 1


# --- day grid and summary ------------------------------------------------------------------------

def test_daily_cells(session):
    sessions = [session(created="2025-06-01T01:00:00Z"),
                session(created="2025-06-02T01:00:00Z", result="Failed"),
                session(created="2025-06-03T01:00:00Z", result="Failed"),
                session(created="2025-06-03T02:00:00Z"),
                session(created="2025-06-04T01:00:00Z", result="Warning"),
                session(created="2025-06-05T01:00:00Z"),
                session(created="2025-06-05T05:00:00Z", state="InProgress", result=None)]
    result = evaluate(sessions, now=NOW)
    assert result["window"]["days"][0] == "2025-05-29" and result["window"]["days"][-1] == "2025-06-05"
    cells = {c["date"]: c["cell"] for c in only_row(result)["backup"]["daily"]}
    assert cells == {"2025-05-29": "none", "2025-05-30": "none", "2025-05-31": "none",
                     "2025-06-01": "success", "2025-06-02": "failed", "2025-06-03": "recovered",
                     "2025-06-04": "warning", "2025-06-05": "success"}


def test_summary_counts_match_the_rows(session):
    sessions = [session(vm="ok", created="2025-06-05T01:00:00Z"),
                session(vm="warn", created="2025-06-05T01:00:00Z", result="Warning"),
                session(vm="bad", created="2025-06-05T01:00:00Z", result="Failed")]
    result = evaluate(sessions, now=NOW, expected_vms=["ghost"])
    summary = result["summary"]
    assert (summary["vms_total"], summary["vms_compliant"], summary["vms_warning"], summary["vms_violation"]) \
        == (4, 1, 1, 2)
    assert summary["violations_total"] == len(result["violations"]) == 3
    assert summary["warnings_total"] == len(result["warnings"]) == 1
    assert [r["status"] for r in result["vms"]] == ["violation", "violation", "warning", "compliant"]
    assert result["policy"]["expected_vms"] == [{"name": "ghost", "backup_server": None}]
    assert result["policy"]["backup_rpo_hours"] == 24


def test_read_errors_are_read_error_errors_even_with_sessions(session):
    # Issue 14 item 6: a failed read was a no_data *violation*; an outage is not a breach, so it is
    # now a read_error finding with severity error, status error, and still not compliant.
    result = evaluate([session(created="2025-06-05T01:00:00Z")], now=NOW,
                      read_errors=["Read replica task sessions: HTTP 503", ""])
    assert result["summary"]["no_data"] is True
    assert result["compliant"] is False
    assert result["status"] == "error"
    assert result["violations"] == []
    assert [e["code"] for e in result["errors"]] == ["read_error"]
    assert "HTTP 503" in result["errors"][0]["message"]
    assert only_row(result)["status"] == "compliant"


def test_flattened_findings_carry_a_readable_line(session):
    result = evaluate([session(vm="web01", server="vbr01", created="2025-06-05T01:00:00Z", result="Failed")], now=NOW)
    texts = [v["text"] for v in result["violations"]]
    assert texts[1] == "vbr01 / web01: last_backup_failed - last backup ended with Failed"
    assert evaluate([], now=NOW)["violations"][0]["text"].startswith("(all): no_data - ")
