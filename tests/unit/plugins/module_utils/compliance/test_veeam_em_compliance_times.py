"""Which time each rule uses (issue 22) and sessions whose times cannot be read (issue 13).

* RPO age is the age of the data: from the session's creation (or a restore point's own time), not its end.
* long_running looks at the whole window: a finished run is reported the night after it ended, whenever
  it started; running sessions count with their duration so far, placeholder end times or not.
* recovered_failure follows the end of the failed run too.
* A session without a readable creation time or VM identity is a named finding, never only a counter.
"""
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate

NOW = "2025-06-05T06:00:00Z"
NOW_TIME = datetime(2025, 6, 5, 6, 0, tzinfo=timezone.utc)


def at(hours_before_now):
    return (NOW_TIME - timedelta(hours=hours_before_now)).strftime("%Y-%m-%dT%H:%M:%SZ")


def row_for(result, vm):
    rows = [r for r in result["vms"] if r["vm_display_name"] == vm]
    assert len(rows) == 1, rows
    return rows[0]


# --- the age of a backup is the age of its data ---------------------------------------------------

def test_a_28_hour_run_that_ended_2_hours_ago_holds_30_hour_old_data(session):
    bigfs = session(vm="bigfs01", created=at(30), end=at(2))
    row = row_for(evaluate([bigfs], now=NOW), "bigfs01")
    assert row["status"] == "violation"
    assert "rpo_exceeded" in row["reasons"]
    assert row["backup"]["last_success_time"] == at(30)
    assert row["backup"]["last_success_age_hours"] == 30.0
    assert row["backup"]["last_success_end_time"] == at(2)
    rpo = [f for f in row["findings"] if f["code"] == "rpo_exceeded"][0]
    assert rpo["time"] == at(30) and "30h old" in rpo["message"]


def test_a_restore_point_time_joined_in_is_preferred_over_the_session_start(session):
    # The session started 30 h ago, but the restore point's own creation time says 20 h: the data is 20 h old.
    item = session(vm="bigfs01", created=at(30), end=at(2), restore_point_time=at(20))
    row = row_for(evaluate([item], now=NOW), "bigfs01")
    assert row["backup"]["last_success_time"] == at(20)
    assert row["backup"]["last_success_age_hours"] == 20.0
    assert "rpo_exceeded" not in row["reasons"]


def test_the_newest_data_wins_not_the_newest_end(session):
    # A long run that started first but ended last holds older data than a short run after it.
    long_run = session(vm="vm01", created=at(30), end=at(1))
    short_run = session(vm="vm01", created=at(20), end=at(19))
    row = row_for(evaluate([long_run, short_run], now=NOW), "vm01")
    assert row["backup"]["last_success_time"] == at(20)
    assert row["backup"]["last_success_age_hours"] == 20.0


# --- long runs are reported the first night that sees them pass ----------------------------------

def test_the_28_hour_run_is_long_running_the_next_night(session):
    # Created 30 h ago (outside recent_hours=24), ended 2 h ago: the night after it ended sees it.
    bigfs = session(vm="bigfs01", created=at(30), end=at(2))
    row = row_for(evaluate([bigfs], now=NOW), "bigfs01")
    long_run = [f for f in row["findings"] if f["code"] == "long_running"]
    assert len(long_run) == 1
    assert "ran for 1680 min (limit 480 min)" in long_run[0]["message"]


def test_a_long_run_that_ended_before_the_last_night_is_not_repeated(session):
    # Ended 26 h ago: the nightly run 24 h ago already reported it; not every night for the whole window.
    old = session(vm="vm01", created=at(60), end=at(26))
    fresh = session(vm="vm01", created=at(5))
    row = row_for(evaluate([old, fresh], now=NOW), "vm01")
    assert "long_running" not in row["reasons"]


def test_the_same_run_while_it_was_running_6_hours_was_under_the_limit(session):
    running = session(vm="bigfs01", created=at(6), state="InProgress", result=None)
    row = row_for(evaluate([running], now=NOW), "bigfs01")
    assert "long_running" not in row["reasons"]


@pytest.mark.parametrize("end", [None, "1900-01-01T00:00:00Z", "0001-01-01T00:00:00"])
def test_a_running_session_without_a_real_end_time_is_long_running(session, end):
    running = session(vm="vm01", created=at(10), end=end, state="InProgress", result=None)
    row = row_for(evaluate([running], now=NOW), "vm01")
    long_run = [f for f in row["findings"] if f["code"] == "long_running"]
    assert len(long_run) == 1
    assert "has been running for 600 min (limit 480 min)" in long_run[0]["message"]
    assert row["reasons"] == ["rpo_exceeded", "long_running"]  # no finished success in the window


def test_a_finished_session_with_a_placeholder_end_has_no_duration(session):
    # An end before the creation is no end (FACTS 6); the run's length is unknown, not 0 and not negative.
    item = session(vm="vm01", created=at(10), end="1900-01-01T00:00:00Z")
    row = row_for(evaluate([item], now=NOW), "vm01")
    assert row["status"] == "compliant"
    assert row["backup"]["last_success_end_time"] is None


# --- recovered failures follow the end of the failure ---------------------------------------------

def test_a_failure_that_ended_last_night_is_recovered_whenever_it_started(session):
    failed = session(vm="vm01", created=at(30), end=at(20), result="Failed")
    fixed = session(vm="vm01", created=at(19))
    row = row_for(evaluate([failed, fixed], now=NOW, max_duration_minutes=0), "vm01")
    assert row["reasons"] == ["recovered_failure"]
    older = session(vm="vm02", created=at(40), end=at(30), result="Failed")
    fixed2 = session(vm="vm02", created=at(19))
    assert row_for(evaluate([older, fixed2], now=NOW, max_duration_minutes=0), "vm02")["reasons"] == []


# --- unreadable sessions are named ---------------------------------------------------------------

def test_a_vm_whose_only_sessions_have_unreadable_times_is_a_violation(session):
    # Issue 13 input 3, at the evaluation: the times came under another spelling and were not read.
    failing = []
    for hours in (5, 3):
        item = session(vm="vm-failing", created=at(hours), result="Failed")
        item["CreationTimeUtc"] = item.pop("creation_time")
        item["EndTimeUtc"] = item.pop("end_time")
        failing.append(item)
    ok = session(vm="vm-ok", created=at(4))
    result = evaluate(failing + [ok], now=NOW)
    assert result["status"] == "violation" and result["compliant"] is False
    row = row_for(result, "vm-failing")
    assert row["status"] == "violation" and row["reasons"] == ["unreadable_sessions"]
    assert "2 task session(s) of this VM have no readable creation time" in row["findings"][0]["message"]
    assert failing[0]["uid"] in row["findings"][0]["message"]
    assert row_for(result, "vm-ok")["status"] == "compliant"
    assert result["summary"]["sessions_ignored"] == 2
    assert [v["code"] for v in result["violations"]] == ["unreadable_sessions"]


@pytest.mark.parametrize("result", ["Success", "Warning", None])
def test_an_unreadable_session_next_to_readable_ones_is_a_warning(session, result):
    good = session(vm="vm01", created=at(4))
    bad = session(vm="vm01", created="garbage", end=None, result=result)
    row = row_for(evaluate([good, bad], now=NOW), "vm01")
    assert row["status"] == "warning" and row["reasons"] == ["unreadable_sessions"]


@pytest.mark.parametrize("result", ["Failed", "Error"])
def test_an_unreadable_failure_next_to_an_older_success_is_a_violation(session, result):
    """Found by attack (session 16): a Failed session whose time cannot be read may be the VM's newest run; as a
    warning beside a success 4 h old the run was compliant. It is named first, its result said."""
    good = session(vm="vm01", created=at(4))
    other = session(vm="vm01", created="also garbage", end=None, result="Success")
    bad = session(vm="vm01", created="garbage", end=None, result=result)
    result_ = evaluate([good, other, bad], now=NOW)
    row = row_for(result_, "vm01")
    assert (row["status"], row["reasons"], result_["compliant"]) == ("violation", ["unreadable_sessions"], False)
    assert bad["uid"] in row["findings"][0]["message"]
    assert row["findings"][0]["message"].endswith("; it ended %s and may be the newest run of this VM" % result)


def test_sessions_without_vm_identity_are_one_global_violation(session):
    good = session(vm="vm01", created=at(4))
    anonymous = [session(vm=None, created=at(3), result="Failed"), session(vm=None, created=at(2))]
    result = evaluate([good] + anonymous + [None], now=NOW)
    assert result["status"] == "violation"
    found = [v for v in result["violations"] if v["code"] == "unreadable_sessions"]
    assert len(found) == 1 and found[0]["scope"] == "global"
    assert found[0]["message"].startswith("3 task session(s) without a readable VM identity")
    assert anonymous[0]["uid"] in found[0]["message"]
    assert row_for(result, "vm01")["status"] == "compliant"


def test_excluded_vms_unreadable_sessions_stay_out(session):
    good = session(vm="vm01", created=at(4))
    bad = session(vm="lab01", created="garbage", end=None, result="Failed")
    result = evaluate([good, bad], now=NOW, exclude_vms=["lab*"])
    assert result["status"] == "compliant" and [r["vm_display_name"] for r in result["vms"]] == ["vm01"]


def test_unreadable_sessions_are_not_no_data(session):
    good = session(vm="vm01", created=at(4))
    result = evaluate([good, session(vm=None, created=at(3))], now=NOW)
    assert result["summary"]["no_data"] is False
    assert [v["code"] for v in result["violations"]] == ["unreadable_sessions"]


def test_job_sessions_without_a_readable_creation_time_are_named(session):
    bad = {"uid": "urn:veeam:BackupJobSession:bad1", "job_name": "Nightly", "creation_time": "garbage",
           "result": "Failed", "state": "Stopped"}
    result = evaluate([session(vm="vm01", created=at(4))], now=NOW, job_sessions=[bad, None])
    found = [w for w in result["warnings"] if w["code"] == "unreadable_sessions"]
    assert len(found) == 1 and found[0]["scope"] == "global"
    assert found[0]["message"] == ("2 job session(s) without a readable creation time were not judged; "
                                   "first: urn:veeam:BackupJobSession:bad1")
    assert result["status"] == "warning" and result["summary"]["no_data"] is False
