# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""VM rows: the per-kind summary, the day grid, the rows of the window and of the history, unreadable sessions.

FOR INTERNAL COLLECTION USE ONLY: the public front is module_utils/em_compliance.py; names here may
change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import timedelta

from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.policy import (
    session_in_scope)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.rules import (
    evaluate_kind, last_success, _num, rpo_exceeded, rpo_exceeded_with_history, status_of, stuck_session,
    unique_codes, unreadable_sessions, unreadable_vm_sessions, without_future_successes)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.sessions import (
    data_time, format_time, hours_between, is_finished, is_success, state_says_finished,
    _name_key, server_key, vm_key)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.vocabulary import (
    CELL_FAILED, CELL_NONE, CELL_RECOVERED, CELL_RUNNING, CELL_SUCCESS, CELL_WARNING, KIND_BACKUP, KIND_CODES,
    KIND_COPY, KIND_REPLICA, KIND_RPO_OPTIONS, RESULT_SUCCESS, RESULT_WARNING, RPO_EXCEEDED, STATUS_COMPLIANT)


def day_cell(day_sessions, accept_warnings):
    """Summarise one UTC day of one VM: what a person wants to see in the grid."""
    if not day_sessions:
        return CELL_NONE
    finished = [s for s in day_sessions if is_finished(s)]
    if not finished:
        return CELL_RUNNING
    # of finished sessions, is_unsuccessful is "not is_success": each is asked once
    succeeded = [is_success(s, accept_warnings) for s in finished]
    last = finished[-1]
    if succeeded[-1]:
        if not all(succeeded):
            return CELL_RECOVERED
        return CELL_WARNING if any(s.get("result") == RESULT_WARNING for s in finished) else CELL_SUCCESS
    if last.get("result") == RESULT_WARNING:
        return CELL_WARNING
    return CELL_FAILED


def window_days(start, now):
    """UTC dates from the window start to now, inclusive, as YYYY-MM-DD strings."""
    days, day = [], start.date()
    while day <= now.date():
        days.append(day.isoformat())
        day += timedelta(days=1)
    return days


def daily_cells(sessions, days, accept_warnings):
    """One grid cell per window day: {'date', 'cell', 'sessions'}."""
    by_date = {}
    for session in sessions:  # grouped by date, each date written once (not once a session)
        by_date.setdefault(session["_created"].date(), []).append(session)
    by_day = dict((date.isoformat(), day_sessions) for date, day_sessions in by_date.items())
    cells = []
    for day in days:
        day_sessions = by_day.get(day, ())
        cells.append({"date": day, "cell": day_cell(day_sessions, accept_warnings), "sessions": len(day_sessions)})
    return cells


def kind_summary(sessions, now, rpo_hours, accept_warnings, days):
    """Counts and latest facts of one kind for one VM (None when it has no such sessions)."""
    if not sessions:
        return None
    # the success the rules count: one dated ahead of now (a wrong clock, clock_skew) is not shown as the last
    best = last_success(without_future_successes(sessions, now, accept_warnings)[0], accept_warnings)
    latest = sessions[-1]
    outcomes = _outcomes(sessions)
    return {
        "sessions": len(sessions),
        "succeeded": outcomes[RESULT_SUCCESS],
        "warnings": outcomes[RESULT_WARNING],
        "failed": outcomes[None],
        "running": outcomes["running"],
        "rpo_hours": rpo_hours or None,
        "last_success_time": format_time(data_time(best)) if best else None,
        "last_success_age_hours": max(0.0, hours_between(data_time(best), now)) if best else None,
        "last_success_end_time": format_time(best["_end"]) if best else None,
        "last_restore_point_uid": (best.get("restore_point_uid") or best.get("replica_point_uid")) if best else None,
        "last_session_time": format_time(latest["_created"]),
        "last_state": latest.get("state"),
        "last_result": latest.get("result"),
        "daily": daily_cells(sessions, days, accept_warnings),
    }


def _outcomes(sessions):
    """kind_summary's counts in one pass: the finished sessions by result (Success, Warning, None for any
    other result), and the running ones. A Success or Warning whose state does not say finished (Stopped with
    an end: is_success refuses it, and last_failed names the VM) counts as failed, as the rules count it - a
    row said "succeeded 1, failed 0" on a VM in violation for it. A session neither finished nor running (a
    Success or Warning without an end in a state EM does not document: sessions.is_finished) counts as running,
    as the day grid shows it: the counts add up to ``sessions``, none left out unsaid."""
    counts = {RESULT_SUCCESS: 0, RESULT_WARNING: 0, None: 0, "running": 0}
    for session in sessions:
        if is_finished(session):
            result = session.get("result")
            if result in (RESULT_SUCCESS, RESULT_WARNING) and not state_says_finished(session):
                result = None
            counts[result if result in (RESULT_SUCCESS, RESULT_WARNING) else None] += 1
        else:
            counts["running"] += 1
    return counts


def build_row(group, now, policy, days):
    """One VM on one backup server: its facts, findings and status."""
    backups = [s for s in group if s["_kind"] == KIND_BACKUP]
    copies = [s for s in group if s["_kind"] == KIND_COPY]
    replicas = [s for s in group if s["_kind"] == KIND_REPLICA]
    findings = []
    if backups or copies:  # a VM that is copied owes a backup of its own (issue 14: a copy is not one)
        findings += evaluate_kind(backups, KIND_BACKUP, now, policy, policy["backup_rpo_hours"])
    if copies:
        findings += evaluate_kind(copies, KIND_COPY, now, policy, policy["copy_rpo_hours"])
    if replicas:
        findings += evaluate_kind(replicas, KIND_REPLICA, now, policy, policy["replica_rpo_hours"])
    row = _identity(group)
    row.update(
        status=status_of(findings),
        reasons=unique_codes(findings),
        findings=findings,
        backup=kind_summary(backups, now, policy["backup_rpo_hours"], policy["accept_warnings"], days),
        replica=kind_summary(replicas, now, policy["replica_rpo_hours"], policy["accept_warnings"], days),
        copy=kind_summary(copies, now, policy["copy_rpo_hours"], policy["accept_warnings"], days),
    )
    return row


def _identity(group):
    """The VM of a group of sessions (oldest first): names from the newest, UID from the newest
    that has one, its jobs in the order they first ran; not an expected-only row."""
    newest = group[-1]
    named = [s for s in group if s.get("vm_uid")]
    jobs = []
    for session in group:
        if session.get("job_name") and session["job_name"] not in jobs:
            jobs.append(session["job_name"])
    return {
        "vm_display_name": newest.get("vm_display_name"),
        "vm_uid": named[-1].get("vm_uid") if named else None,
        "backup_server_name": newest.get("backup_server_name"),
        "backup_server_uid": newest.get("backup_server_uid"),
        "jobs": jobs,
        "expected": False,
    }


def _row_key(row):
    return (server_key(row), str(row["vm_uid"]).lower() if row.get("vm_uid") else _name_key(row.get("vm_display_name")))


def apply_unreadable(rows, unreadable, table, policy):
    """Name the task sessions that could not be placed on a time line (issue 13: never a silent drop).

    Returns the global findings. A session with a VM identity but no readable creation time is a
    finding on that VM's row: a warning when other sessions of the VM were read (the unreadable one
    may be newer than them), a violation on a row of its own when it is all that was read of the VM.
    Sessions without any VM identity cannot be attached: one global violation with their count and
    the first UID. Include/exclude patterns apply (they use names, not times). ``table`` is
    (server key, lower VM name) -> VM UIDs of the in-scope sessions (fold.SessionFold.uids).
    """
    anonymous = [s for s in unreadable if not (s.get("vm_uid") or s.get("vm_display_name"))]
    by_vm = {}
    for session in unreadable:
        if not (session.get("vm_uid") or session.get("vm_display_name")) or not session_in_scope(session, policy):
            continue
        by_vm.setdefault((server_key(session), vm_key(session, table)), []).append(session)
    # Positions, not rows: ``rows`` may be em_rows.PackedRows (a changed row is written back).
    index_by_key = dict((_row_key(row), index) for index, row in enumerate(rows)) if by_vm else {}
    for key, sessions in by_vm.items():
        index = index_by_key.get(key)
        alone = index is None
        row = unreadable_row(sessions[0]) if alone else rows[index]
        row["findings"] += unreadable_vm_sessions(sessions, row, alone)
        row["status"] = status_of(row["findings"])
        row["reasons"] = unique_codes(row["findings"])
        if alone:
            rows.append(row)
        else:
            rows[index] = row
    return unreadable_sessions(anonymous)


def unreadable_row(session):
    """Row of a VM known only from sessions whose times could not be read."""
    return {
        "vm_display_name": session.get("vm_display_name"),
        "vm_uid": session.get("vm_uid"),
        "backup_server_name": session.get("backup_server_name"),
        "backup_server_uid": session.get("backup_server_uid"),
        "jobs": [session["job_name"]] if session.get("job_name") else [],
        "expected": False,
        "status": STATUS_COMPLIANT,
        "reasons": [],
        "findings": [],
        "backup": None,
        "replica": None,
        "copy": None,
    }


def stale_kind(sessions, kind, now, policy, days):
    """(findings, summary) of one kind a VM has only in the history: its RPO with the real age.

    The RPO rule runs on the history, so the age is real (the last success 175 h ago, not
    "nothing in the window"); the counts and the day grid of the summary are of the window (empty).
    """
    rpo_hours = policy[KIND_RPO_OPTIONS[kind]]
    findings = rpo_exceeded(sessions, kind, rpo_hours, now, policy["accept_warnings"],
                            where="in the history EM keeps")
    for item in findings:
        item["message"] = "no %s session in the %s-day window, the last one was created %s; %s" % (
            kind, _num(policy["lookback_days"]), format_time(sessions[-1]["_created"]), item["message"])
    summary = kind_summary(sessions, now, rpo_hours, policy["accept_warnings"], days)
    summary.update(sessions=0, succeeded=0, warnings=0, failed=0, running=0)
    return findings, summary


def history_row(group, now, policy, days):
    """A VM EM remembers from before the window but with no session in it: its backups stopped."""
    row = _identity(group)
    row.update(in_window=False, findings=[], backup=None, replica=None, copy=None)
    add_stale_kinds(row, group, now, policy, days)
    return row


def add_stale_kinds(row, history, now, policy, days):
    """Judge the kinds the row has in the history but not in the window (backups that stopped
    while replicas go on count as stopped backups).

    A VM that is copied owes a backup of its own (build_row): when its copies go on in the window
    but its backups are only in the history, build_row's "no successful backup in the lookback
    window" gives way to the history's RPO finding with the real age (one RPO finding per kind);
    when it has no backup in the window nor in the history, that finding stays. A VM with copies
    only in the history and no backup anywhere gets the same finding here.
    """
    for kind in (KIND_BACKUP, KIND_COPY, KIND_REPLICA):
        sessions = [s for s in history if s["_kind"] == kind]
        if row[kind] is None and sessions:
            findings, row[kind] = stale_kind(sessions, kind, now, policy, days)
            rpo_code = KIND_CODES[kind][0]
            row["findings"] = findings + [item for item in row["findings"]
                                          if not (item["code"] == rpo_code and item["session_uid"] is None)]
    if row["backup"] is None and row["copy"] is not None and not any(
            item["code"] == RPO_EXCEEDED for item in row["findings"]):
        row["findings"] = rpo_exceeded([], KIND_BACKUP, policy["backup_rpo_hours"], now, policy["accept_warnings"],
                                       where="in the window nor in the history EM keeps") + row["findings"]
    row["status"] = status_of(row["findings"])
    row["reasons"] = unique_codes(row["findings"])


def vm_row(group, start, now, policy, days):
    """The row of one VM from its in-scope sessions (window and history, oldest first): the rules of
    the window when it has sessions in the window, else the history row (history and window come
    together so that a VM keeps its key). The fold (fold.SessionFold.vm_groups) hands the groups."""
    in_window = [s for s in group if s["_created"] >= start]
    if not in_window:
        row = history_row(group, now, policy, days)
        add_history_stuck(row, group, now, policy)
        return row
    row = build_row(in_window, now, policy, days)
    row.setdefault("in_window", True)
    if len(in_window) < len(group):
        history = [s for s in group if s["_created"] < start]
        add_history_successes(row, history, now, policy)
        add_stale_kinds(row, history, now, policy, days)
        add_history_stuck(row, history, now, policy)
    return row


def add_history_stuck(row, history, now, policy):
    """A session running since before the window (kept by the fold as the newest running one of its job)
    is stuck_session as it would be inside the window: leaving the window must not end the finding while
    EM still shows it running (it blocks the job's next runs)."""
    found = []
    for kind in (KIND_BACKUP, KIND_COPY, KIND_REPLICA):
        found += stuck_session([s for s in history if s["_kind"] == kind], kind, now, policy["stuck_hours"])
    if found:
        row["findings"] = row["findings"] + found
        row["status"] = status_of(row["findings"])
        row["reasons"] = unique_codes(row["findings"])


def add_history_successes(row, history, now, policy):
    """A kind with sessions in the window but no success there (a chronic failure): its last
    success and real age come from the history, and rules.rpo_exceeded_with_history decides what
    becomes of the window's RPO finding."""
    for kind in (KIND_BACKUP, KIND_COPY, KIND_REPLICA):
        summary = row[kind]
        if summary is None or summary["last_success_time"] is not None:
            continue
        earlier = [s for s in history if s["_kind"] == kind]
        best = last_success(earlier, policy["accept_warnings"])
        age = None
        if best is not None:
            # The age of the data, from the start of the run, as rpo_exceeded counts it (issue 22).
            age = max(0.0, hours_between(data_time(best), now))
            summary.update(last_success_time=format_time(data_time(best)), last_success_age_hours=age,
                           last_success_end_time=format_time(best["_end"]),
                           last_restore_point_uid=best.get("restore_point_uid") or best.get("replica_point_uid"))
        row["findings"] = rpo_exceeded_with_history(row["findings"], kind, policy[KIND_RPO_OPTIONS[kind]],
                                                    best, age, bool(earlier))
    row["status"] = status_of(row["findings"])
    row["reasons"] = unique_codes(row["findings"])
