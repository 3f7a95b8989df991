"""Attack: a session that started before the lookback window and still runs is never stuck.

The history (sessions before the window, FACTS 6: a VM whose backups stopped must not drop out) is
read and folded, running sessions included (fold_history keys on ``is_running``), but the rows run
only the RPO rule on it (rows.vm_row, history_row, add_stale_kinds): stuck_session sees the window's
sessions only. A run hung for 30 h under a 1-day window (or for 8 days under the default 7-day
window) blocks its job, yet the VM below - protected by another job within its 48 h RPO - is
compliant. With a 7-day window the same sessions are a stuck_session violation.

The fix belongs in rows.py (the lead's file): run rules.stuck_session (and long_running's running
part) over the running sessions of the history too. xfail(strict) until then.
"""
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate
from unit.plugins.module_utils.compliance.conftest import build_session as session

NOW = "2025-06-05T06:00:00Z"


def sessions():
    return [session(vm="db01", created="2025-06-03T14:00:00Z"),                      # success 40 h ago
            session(vm="db01", created="2025-06-04T00:00:00Z", state="InProgress"),  # running for 30 h
            session(vm="db01", job="Other", created="2025-06-05T01:00:00Z")]         # another job, last night


def test_with_the_run_inside_the_window_it_is_stuck():
    result = evaluate(sessions(), now=NOW, lookback_days=7, backup_rpo_hours=48)
    assert result["vms"][0]["reasons"] == ["stuck_session"] and result["compliant"] is False


def test_a_run_that_started_before_the_window_and_still_runs_is_stuck():
    result = evaluate(sessions(), now=NOW, lookback_days=1, backup_rpo_hours=48)
    assert result["vms"][0]["reasons"] == ["stuck_session"] and result["compliant"] is False


def test_a_history_session_without_a_readable_creation_time_is_named_not_dropped():
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import (
        KIND_BACKUP, evaluate_fold, session_fold)
    fold = session_fold(NOW)
    fold.add([session(vm="db01", created="2025-06-05T01:00:00Z")], KIND_BACKUP)
    # the only session EM still has of db02, from before the window, with a time that cannot be read
    fold.add_history([session(vm="db02", created="2025-05-20T01:00:00Z", creation_time="/Date(1747702800000)/")],
                     KIND_BACKUP)
    result = evaluate_fold(fold)
    assert "db02" in [row["vm_display_name"] for row in result["vms"]]
    assert result["compliant"] is False
