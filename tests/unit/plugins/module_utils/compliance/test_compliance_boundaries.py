"""Every compliance rule at its exact boundary, through the public ``evaluate()`` API.

Each rule is checked three ways: exactly at the limit, one second past it, and (where the
rule's documentation says which side the limit belongs to) that the limit itself is on the
documented side. A ``>`` turned into ``>=`` (or the reverse) in em_compliance.py fails here.

The RPO cases use sessions whose creation and end time are equal, so they hold whether the
RPO age is measured from the point's end time or from its creation time.
"""
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate

NOW = "2025-06-05T06:00:00Z"
NOW_TIME = datetime(2025, 6, 5, 6, 0, 0, tzinfo=timezone.utc)


def ago(hours=0.0, seconds=0):
    """NOW minus the given hours and seconds, as an EM-style UTC 'Z' string."""
    moment = NOW_TIME - timedelta(hours=hours, seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def fresh_success(session, vm="vm01"):
    """A success one hour ago, so that only the rule under test can speak."""
    return session(vm=vm, created=ago(hours=1), end=ago(hours=1))


def only_row(result):
    assert len(result["vms"]) == 1, result["vms"]
    return result["vms"][0]


# --- RPO: an age exactly equal to rpo_hours is still inside it ----------------------------------

@pytest.mark.parametrize("rpo", [24.0, 6.0])
def test_rpo_exactly_at_the_limit_is_compliant(session, rpo):
    point = session(created=ago(hours=rpo), end=ago(hours=rpo))
    row = only_row(evaluate([point], now=NOW, backup_rpo_hours=rpo))
    assert (row["status"], row["reasons"]) == ("compliant", [])


@pytest.mark.parametrize("rpo", [24.0, 6.0])
def test_rpo_one_second_past_the_limit_violates(session, rpo):
    point = session(created=ago(hours=rpo, seconds=1), end=ago(hours=rpo, seconds=1))
    row = only_row(evaluate([point], now=NOW, backup_rpo_hours=rpo))
    assert (row["status"], row["reasons"]) == ("violation", ["rpo_exceeded"])


def test_replica_rpo_boundary(session):
    exact = session(kind="replica", created=ago(hours=24), end=ago(hours=24))
    late = session(kind="replica", created=ago(hours=24, seconds=1), end=ago(hours=24, seconds=1))
    assert only_row(evaluate([], [exact], now=NOW))["reasons"] == []
    assert only_row(evaluate([], [late], now=NOW))["reasons"] == ["replica_rpo_exceeded"]


# --- stuck: running for MORE than stuck_hours ----------------------------------------------------

def test_running_exactly_stuck_hours_is_not_stuck(session):
    # 12 h is over max_duration (8 h), so it is long_running (a warning) but not yet stuck.
    running = session(created=ago(hours=12), state="InProgress", result=None)
    row = only_row(evaluate([fresh_success(session), running], now=NOW))
    assert row["reasons"] == ["long_running"]
    assert row["status"] == "warning"


def test_running_one_second_past_stuck_hours_is_stuck(session):
    running = session(created=ago(hours=12, seconds=1), state="InProgress", result=None)
    row = only_row(evaluate([fresh_success(session), running], now=NOW))
    assert row["reasons"] == ["stuck_session"]  # and no longer long_running: the same session
    assert row["status"] == "violation"


def test_stuck_boundary_follows_the_option(session):
    at = session(created=ago(hours=2), state="Pending", result=None)
    past = session(vm="vm02", created=ago(hours=2, seconds=1), state="Pending", result=None)
    result = evaluate([fresh_success(session), fresh_success(session, "vm02"), at, past], now=NOW,
                      stuck_hours=2, max_duration_minutes=0)
    reasons = {row["vm_display_name"]: row["reasons"] for row in result["vms"]}
    assert reasons == {"vm01": [], "vm02": ["stuck_session"]}


# --- long_running: duration MORE than max_duration_minutes --------------------------------------

def test_running_exactly_max_duration_is_fine_one_second_more_is_long(session):
    at = session(created=ago(hours=8), state="InProgress", result=None)
    past = session(vm="vm02", created=ago(hours=8, seconds=1), state="InProgress", result=None)
    result = evaluate([fresh_success(session), fresh_success(session, "vm02"), at, past], now=NOW)
    reasons = {row["vm_display_name"]: row["reasons"] for row in result["vms"]}
    assert reasons == {"vm01": [], "vm02": ["long_running"]}


def test_finished_exactly_max_duration_is_fine_one_second_more_is_long(session):
    at = session(created=ago(hours=10), end=ago(hours=2))
    past = session(vm="vm02", created=ago(hours=10), end=ago(hours=2, seconds=-1))
    result = evaluate([at, past], now=NOW, max_duration_minutes=480)
    reasons = {row["vm_display_name"]: row["reasons"] for row in result["vms"]}
    assert reasons == {"vm01": [], "vm02": ["long_running"]}


# --- recent_hours: created AT the horizon counts as recent; one second before does not ------------

def test_recovered_failure_exactly_at_the_recent_horizon_is_reported(session):
    sessions = [session(created=ago(hours=24), end=ago(hours=24), result="Failed"),
                fresh_success(session)]
    assert only_row(evaluate(sessions, now=NOW))["reasons"] == ["recovered_failure"]


def test_recovered_failure_one_second_before_the_recent_horizon_is_not(session):
    sessions = [session(created=ago(hours=24, seconds=1), end=ago(hours=24, seconds=1), result="Failed"),
                fresh_success(session)]
    row = only_row(evaluate(sessions, now=NOW))
    assert (row["status"], row["reasons"]) == ("compliant", [])


def test_long_finished_session_at_the_recent_horizon_is_reported_before_it_is_not(session):
    # 9 h long sessions (over the 8 h maximum) that ENDED at / just before now - recent_hours: the
    # horizon of a finished long run is its end (issue 22: a run is reported the night that first
    # sees it finished, whenever it started).
    at = session(created=ago(hours=33), end=ago(hours=24))
    before = session(vm="vm02", created=ago(hours=33, seconds=1), end=ago(hours=24, seconds=1))
    result = evaluate([at, before, fresh_success(session), fresh_success(session, "vm02")], now=NOW)
    reasons = {row["vm_display_name"]: row["reasons"] for row in result["vms"]}
    assert reasons == {"vm01": ["long_running"], "vm02": []}


# --- lookback window: created AT now - lookback_days is inside; one second earlier is outside -----

def test_session_exactly_at_the_window_start_is_inside(session):
    at = session(created=ago(hours=7 * 24), end=ago(hours=7 * 24))
    result = evaluate([at], now=NOW, lookback_days=7, backup_rpo_hours=0)
    assert result["window"]["start"] == ago(hours=7 * 24)
    assert [(row["vm_display_name"], row["in_window"]) for row in result["vms"]] == [("vm01", True)]
    assert result["summary"]["sessions_outside_window"] == 0


def test_session_one_second_before_the_window_start_is_outside(session):
    # Outside the window means history (issue 14): the VM is still judged, on a row of its own
    # (in_window false) with the real age of its last success, not dropped.
    before = session(created=ago(hours=7 * 24, seconds=1), end=ago(hours=7 * 24, seconds=1))
    inside = session(vm="vm02", created=ago(hours=1), end=ago(hours=1))
    result = evaluate([before, inside], now=NOW, lookback_days=7)
    rows = {row["vm_display_name"]: row for row in result["vms"]}
    assert (rows["vm01"]["in_window"], rows["vm01"]["reasons"]) == (False, ["rpo_exceeded"])
    assert rows["vm01"]["backup"]["last_success_age_hours"] == 168.0
    assert (rows["vm02"]["in_window"], rows["vm02"]["reasons"]) == (True, [])
    assert result["summary"]["sessions_outside_window"] == 1
    assert result["summary"]["vms_from_history"] == 1


# --- server_silent: the newest sign of life OLDER than the backup RPO ---------------------------

def test_server_last_seen_exactly_backup_rpo_ago_is_not_silent(session):
    """The docs: silent when the newest start or end of a session is *older than* the backup RPO."""
    last = session(created=ago(hours=24, seconds=600), end=ago(hours=24))
    servers = evaluate([last], now=NOW, backup_rpo_hours=24)["servers"]
    assert [(s["backup_server_name"], s["reasons"]) for s in servers] == [("vbr01.example.com", [])]


def test_server_last_seen_one_second_past_the_backup_rpo_is_silent(session):
    last = session(created=ago(hours=24, seconds=601), end=ago(hours=24, seconds=1))
    servers = evaluate([last], now=NOW, backup_rpo_hours=24)["servers"]
    assert [(s["backup_server_name"], s["reasons"]) for s in servers] == [("vbr01.example.com", ["server_silent"])]
