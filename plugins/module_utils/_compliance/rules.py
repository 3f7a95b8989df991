# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Every compliance finding is produced here: one short function per reason code.

FOR INTERNAL COLLECTION USE ONLY: the public front is module_utils/em_compliance.py; names here may
change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import timedelta

from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.sessions import (
    data_time, format_time, is_finished, is_running, is_success, is_unsuccessful, _NOT_AN_OUTCOME, point_time,
    _readable_time, session_duration_hours, state_says_finished)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.vocabulary import (
    AMBIGUOUS_VM, CLOCK_SKEW, JOB_FAILED, JOB_TYPE_UNKNOWN, KIND_BACKUP, KIND_CODES, KIND_JOB, LONG_RUNNING,
    NEVER_BACKED_UP, NO_DATA, PARTIAL_VIEW, READ_ERROR, RECOVERED_FAILURE, RESULT_FAILED, RESULT_SUCCESS, RESULT_WARNING,
    SCOPE_UNMATCHED, SERVER_SILENT, SEVERITY_RANK, STATUS_COMPLIANT, STATUS_ERROR, STATUS_VIOLATION, STATUS_WARNING,
    STUCK_SESSION, UNREADABLE_SESSIONS)


def finding(code, severity, kind, message, session=None, time=None):
    """One reason for a status, with the session that caused it when there is one."""
    return {
        "code": code,
        "severity": severity,
        "kind": kind,
        "message": message,
        "session_uid": session.get("uid") if session else None,
        "session_name": session.get("name") if session else None,
        "job_name": session.get("job_name") if session else None,
        "time": format_time(time) if time is not None else None,
    }


def last_success(sessions, accept_warnings):
    """The successful session with the newest data (see data_time), or None."""
    successes = [s for s in sessions if is_success(s, accept_warnings)]
    return max(successes, key=lambda s: (data_time(s), point_time(s))) if successes else None


def rpo_exceeded(sessions, kind, rpo_hours, now, accept_warnings, where="in the lookback window"):
    """rpo_exceeded / replica_rpo_exceeded / copy_rpo_exceeded (KIND_CODES): the data of the newest successful point must be at most rpo_hours old.

    The age is counted from data_time (the start of the run, or the restore point's own creation
    time), not from the end: a 28 h run that ended 2 h ago holds data that is 30 h old (issue 22).
    An age exactly equal to the RPO is still inside it (Veeam ONE alarms on 'older than').
    No successful point in the window at all is an RPO violation as well (``where`` says where
    none was found: the history rows pass their own words instead of rewriting this message).
    """
    if not rpo_hours:
        return []
    code = KIND_CODES[kind][0]
    best = last_success(sessions, accept_warnings)
    if best is None:
        return [finding(code, STATUS_VIOLATION, kind,
                        "no successful %s %s (RPO %sh)" % (kind, where, _num(rpo_hours)))]
    age = (now - data_time(best)).total_seconds() / 3600.0
    if age > rpo_hours:
        return [finding(code, STATUS_VIOLATION, kind,
                        "data of the last successful %s is %sh old (RPO %sh)" % (
                            kind, _num(round(age, 2)), _num(rpo_hours)),
                        best, data_time(best))]
    return []


def rpo_exceeded_with_history(findings, kind, rpo_hours, best, age, searched):
    """The window's rpo_exceeded finding of a kind with sessions in the window but no success there,
    told the history: ``best`` is the last success before the window (None: none was found while
    ``searched`` says the history had sessions of the kind) and ``age`` the age of its data.

    The finding names that success and its real age, and goes when it is still inside an RPO longer
    than the window. Returns the findings kept.
    """
    code = KIND_CODES[kind][0]
    kept = []
    for item in findings:
        if item["code"] == code and item["session_uid"] is None:
            if best is None:
                # (not "since when": the reader keeps only the newest history session per result)
                if searched:
                    item["message"] += "; none in the history before the window either"
            elif rpo_hours and age <= rpo_hours:
                continue
            else:
                item["message"] += "; the data of the last successful %s, before the window, is %sh old (%s)" % (
                    kind, _num(age), format_time(data_time(best)))
                item["time"] = format_time(data_time(best))
        kept.append(item)
    return kept


def last_failed(sessions, kind, accept_warnings):
    """last_backup_failed / last_replica_failed / last_copy_failed, and their *_warning twins: the
    newest finished session decides.

    A failure followed by a later success (a retry or the next run) is not open any more; a
    failure that is the newest finished session is, even inside the RPO, because the next
    point is already missing. With warnings not accepted a Warning is an open failure too;
    with warnings accepted the newest Warning is reported as a warning.
    """
    finished = [s for s in sessions if is_finished(s)]
    if not finished:
        return []
    latest = max(finished, key=lambda s: (s["_created"], point_time(s)))
    failed_code, warning_code = KIND_CODES[kind][1:]
    result = latest.get("result")
    reason = (latest.get("reason") or "").strip()
    detail = (": " + reason) if reason else ""
    if not state_says_finished(latest):
        # (sessions.state_says_finished) whatever its result says, it is not a point the rules can count
        return [finding(failed_code, STATUS_VIOLATION, kind,
                        "last %s ended with %s in state %r, not Completed%s" % (
                            kind, result or "no result", latest.get("state"), detail),
                        latest, point_time(latest))]
    if result == RESULT_WARNING:
        severity = STATUS_WARNING if accept_warnings else STATUS_VIOLATION
        suffix = "" if accept_warnings else " (warnings are not accepted)"
        return [finding(warning_code, severity, kind,
                        "last %s ended with Warning%s%s" % (kind, suffix, detail), latest, point_time(latest))]
    if result != RESULT_SUCCESS:
        return [finding(failed_code, STATUS_VIOLATION, kind,
                        "last %s ended with %s%s" % (kind, result or "no result", detail),
                        latest, point_time(latest))]
    return []


def recovered_failure(sessions, kind, now, accept_warnings, recent_hours):
    """Failures of the recent period that a later success made good (retry or next run).

    Reported as warnings so that the morning reader sees what went wrong overnight, but not as
    violations: the data is there. Only failures that ended (point_time) within recent_hours are
    listed, so a failure is reported on the nightly run after it ended, whenever it started, and not
    for the whole lookback window.
    """
    horizon = now - timedelta(hours=recent_hours)
    findings = []
    for index, session in enumerate(sessions):
        if point_time(session) < horizon or not is_unsuccessful(session, accept_warnings):
            continue
        later = [s for s in sessions[index + 1:] if is_success(s, accept_warnings)]
        if later:
            fixer = later[0]
            findings.append(finding(
                RECOVERED_FAILURE, STATUS_WARNING, kind,
                "%s %s ended with %s, recovered by %s at %s" % (
                    kind, session.get("name") or session.get("uid"), session.get("result") or "no result",
                    fixer.get("name") or fixer.get("uid"), format_time(point_time(fixer))),
                session, point_time(session)))
    return findings


def stuck_session(sessions, kind, now, stuck_hours):
    """A session InProgress/Pending for longer than stuck_hours blocks the next run."""
    findings = []
    for session in sessions:
        if not is_running(session):
            continue
        age = (now - session["_created"]).total_seconds() / 3600.0
        if age > stuck_hours:
            findings.append(finding(
                STUCK_SESSION, STATUS_VIOLATION, kind,
                "%s session %s is %s for %sh (limit %sh)" % (
                    kind, session.get("name") or session.get("uid"), session.get("state"),
                    _num(round(age, 2)), _num(stuck_hours)),
                session, session["_created"]))
    return findings


def long_running(sessions, kind, now, max_duration_minutes, recent_hours, stuck_hours):
    """Sessions of the lookback window that ran (or still run) longer than the maximum duration.

    A warning: the point may exist, but the backup window is overrun. The rule's horizon is the
    whole window, not recent_hours (issue 22: a 28 h run lasted 6 h the night it was running and
    was created outside recent_hours the next night, so a creation-time horizon never saw it):
    * a running session counts with its duration so far, every night it is over the limit (it is
      still overrunning); once past stuck_hours it is reported as stuck instead;
    * a finished session is reported by the night that first sees it finished, i.e. when it ended
      within recent_hours, whenever it started. With recent_hours set to the interval between
      runs each long run is reported once after it ends (and maybe while it ran), never every
      night for the rest of the window.
    """
    if not max_duration_minutes:
        return []
    horizon = now - timedelta(hours=recent_hours)
    findings = []
    for session in sessions:
        duration = session_duration_hours(session, now)
        recent = is_running(session) or (session["_end"] is not None and session["_end"] >= horizon)
        stuck = is_running(session) and duration is not None and duration > stuck_hours
        if duration is None or not recent or stuck or duration * 60.0 <= max_duration_minutes:
            continue
        findings.append(finding(
            LONG_RUNNING, STATUS_WARNING, kind,
            "%s session %s %s %s min (limit %s min)" % (
                kind, session.get("name") or session.get("uid"),
                "has been running for" if is_running(session) else "ran for",
                _num(round(duration * 60.0, 1)), _num(max_duration_minutes)),
            session, session["_created"]))
    return findings


def _num(value):
    """Print 24.0 as 24 and 1.5 as 1.5 in messages."""
    return ("%g" % value) if isinstance(value, float) else str(value)


def evaluate_kind(sessions, kind, now, policy, rpo_hours):
    """All per-VM rules of one kind, in report order; a success dated after ``now`` is not evidence
    (clock_skew), so the rules judge the VM on the others."""
    accept = policy["accept_warnings"]
    sessions, future = without_future_successes(sessions, now, accept)
    return (rpo_exceeded(sessions, kind, rpo_hours, now, accept)
            + last_failed(sessions, kind, accept)
            + stuck_session(sessions, kind, now, policy["stuck_hours"])
            + long_running(sessions, kind, now, policy["max_duration_minutes"],
                           policy["recent_hours"], policy["stuck_hours"])
            + recovered_failure(sessions, kind, now, accept, policy["recent_hours"])
            + clock_skew(future, kind, now)
            + ambiguous_vm(sessions, kind, accept))


def ambiguous_vm(sessions, kind, accept_warnings):
    """ambiguous_vm: task sessions without a VmUid that share a job session are two VMs of one name.

    FACTS 5.2: VmUid is documented from EM 13; without it a VM is keyed by (backup server, name), so two
    VMs of one name are one row, and when one failed while the other succeeded in the same run the rules
    above may have judged the success (the newest session decides). One job session processes a VM once
    [INF: retries are job sessions of their own, FACTS 5.4 IsRetry]. A violation when the outcomes
    within one job session differ (the failure may be hidden), else a warning (the row stands for both)."""
    by_run = {}
    for session in sessions:
        if not session.get("vm_uid") and session.get("job_session_uid"):
            by_run.setdefault(str(session["job_session_uid"]).lower(), []).append(session)
    twins = [run for run in by_run.values() if len(set(s.get("uid") for s in run)) > 1]
    if not twins:
        return []
    split = [run for run in twins if len(set(is_success(s, accept_warnings) for s in run)) > 1]
    run = (split or twins)[-1]
    first = next((s for s in run if not is_success(s, accept_warnings)), run[0])
    outcomes = ", ".join(sorted(set(str(s.get("result") or "no result") for s in run)))
    return [finding(AMBIGUOUS_VM, STATUS_VIOLATION if split else STATUS_WARNING, kind,
                    "%d %s task sessions of VMs named %s ran in one job session (%s) with %s outcomes (%s): EM "
                    "sends no VmUid (before EM 13), so VMs of one name on one backup server are one row and one's "
                    "failure can hide behind another's success" % (
                        len(run), kind, run[0].get("vm_display_name"), run[0].get("job_session_uid"),
                        "different" if split else "the same", outcomes),
                    first, first["_created"])]


# ---- sessions dated in the future (FACTS 6: a session's times are its backup server's) ------------
# [INF] EM shows each backup server's session times as that server recorded them; a server (or EM, or
# the controller that supplies ``now``) whose clock is wrong dates its sessions ahead. A success dated
# after ``now`` has a negative age: it satisfied the RPO until the clock reached it (a clock set a year
# ahead: a year without a finding), and as the newest run it hid the real failures before it. The
# module reads EM for minutes after it takes ``now`` and NTP keeps clocks within seconds, so an hour
# separates a late read from a wrong clock.
CLOCK_SKEW_TOLERANCE = timedelta(hours=1)


def dated_ahead(session, now):
    """The time of the session's data (data_time: its start, or its restore point's time) when it is
    more than the tolerance after ``now``, else None. The end is not looked at: the RPO counts from
    the data, and an end placeholder must not make a good run look skewed."""
    moment = data_time(session)
    return moment if moment > now + CLOCK_SKEW_TOLERANCE else None


def without_future_successes(sessions, now, accept_warnings, succeeded=is_success):
    """(the sessions the rules may trust, the successes dated ahead of ``now``).

    Only successes are set aside: they are evidence of protection, which a wrong clock must not
    give; a failure, a Warning that is not accepted or a running session dated ahead is still what
    it is (the newest failure stays open). ``succeeded``: the rule's own test of success (a job
    session's is job_succeeded)."""
    trusted, future = [], []
    for session in sessions:
        ahead = succeeded(session, accept_warnings) and dated_ahead(session, now) is not None
        (future if ahead else trusted).append(session)
    return trusted, future


def clock_skew(future, kind, now):
    """clock_skew (warning): the successes of a kind dated ahead of ``now``, not counted by the rules
    (without them the VM may be rpo_exceeded or last_*_failed: that is the verdict)."""
    if not future:
        return []
    first = min(future, key=lambda s: (dated_ahead(s, now), s.get("uid") or ""))
    ahead = dated_ahead(first, now)
    return [finding(CLOCK_SKEW, STATUS_WARNING, kind,
                    "%d successful %s session(s) dated more than %sh after the evaluation time %s are not counted "
                    "(a clock - the backup server's, EM's or this controller's - is wrong); first: %s at %s, %sh ahead"
                    % (len(future), kind, _num(CLOCK_SKEW_TOLERANCE.total_seconds() / 3600.0),
                       format_time(now), first.get("name") or first.get("uid"), format_time(ahead),
                       _num(round((ahead - now).total_seconds() / 3600.0, 2))),
                    first, ahead)]


def status_of(findings):
    """The worst severity among the findings; compliant when there are none."""
    worst = STATUS_COMPLIANT
    for item in findings:
        if SEVERITY_RANK[item["severity"]] > SEVERITY_RANK[worst]:
            worst = item["severity"]
    return worst


def unique_codes(findings):
    """Reason codes in first-seen order, without repeats."""
    codes = []
    for item in findings:
        if item["code"] not in codes:
            codes.append(item["code"])
    return codes


def never_backed_up(policy, missing=None, candidates=()):
    """An expected VM (expected_vms) without a backup of its own.

    ``missing`` is None for a VM that EM shows only replicated (the rule of require_backup); for a
    CMDB entry that no session mentions at all it is that entry, and ``candidates`` are the VM names
    close to it (a "did you mean").
    """
    if missing is None:
        return [finding(NEVER_BACKED_UP, STATUS_VIOLATION, KIND_BACKUP,
                        "expected VM has no backup session in the %s-day window" % _num(policy["lookback_days"]))]
    hint = ""
    if candidates:
        hint = "; did you mean %s? (expected_vm_match=%s)" % (
            " or ".join('"%s"' % name for name in candidates), policy["expected_vm_match"])
    return [finding(NEVER_BACKED_UP, STATUS_VIOLATION, KIND_BACKUP,
                    "expected VM has no backup or replica session in the %s-day window%s%s" % (
                        _num(policy["lookback_days"]),
                        (" on backup server %s" % missing["backup_server"]) if missing["backup_server"] else "",
                        hint))]


def named_vm_missing(policy, candidates=()):
    """A VM named (without glob characters) in include_vms that no session of EM's answer mentions.

    FACTS 6: a VM whose backups stopped leaves EM's answer after the 30 days EM keeps sessions; a
    literal name in the scope is the user's statement that the VM is judged, so its absence is said
    (never_backed_up), never a quiet pass of the VMs that are left."""
    hint = ""
    if candidates:
        hint = "; did you mean %s? (expected_vm_match=%s)" % (
            " or ".join('"%s"' % name for name in candidates), policy["expected_vm_match"])
    return [finding(NEVER_BACKED_UP, STATUS_VIOLATION, KIND_BACKUP,
                    "VM named in include_vms has no backup or replica session in the run's scope (EM's answer "
                    "under the include/exclude patterns: the %s-day window, and the history before it when read)%s"
                    % (_num(policy["lookback_days"]), hint))]


def server_silent(last, now, policy, ahead=None):
    """A backup server whose latest sign of life (``last``: the newest end, else start, of any of its
    sessions, window and history, not dated ahead of ``now``) is older than the backup RPO
    (recent_hours when that is off), or that is known but has no session at all (``last`` None): EM
    probably lost it (see server_rows). ``ahead``: its newest session dated more than the clock-skew
    tolerance after ``now`` (a wrong clock): a clock_skew warning, and no sign of life - one stray
    session dated ahead must not hide that the server went silent."""
    silent_hours = policy["backup_rpo_hours"] or policy["recent_hours"]
    horizon = now - timedelta(hours=silent_hours)
    found = []
    if ahead is not None:
        found.append(finding(CLOCK_SKEW, STATUS_WARNING, None,
                             "a session of this backup server is dated %s, %sh after the evaluation time: a clock "
                             "(the server's, EM's or this controller's) is wrong; it is not taken as a sign of life"
                             % (format_time(ahead), _num(round((ahead - now).total_seconds() / 3600.0, 2))),
                             time=ahead))
    if last is None:
        where = "in the %s-day window nor in the history before it" % _num(policy["lookback_days"])
        return found + [finding(SERVER_SILENT, STATUS_VIOLATION, None, (
            "known backup server has no session %s" % where) if ahead is None else (
            "backup server has no session dated up to the evaluation time %s" % where))]
    if last < horizon:
        found.append(finding(SERVER_SILENT, STATUS_VIOLATION, None, "no session since %s (more than %sh ago)" % (
            format_time(last), _num(silent_hours)), time=last))
    return found


def no_data(total_read, in_window, in_scope_count, lookback_days):
    """'Nothing to evaluate' is a violation: an empty answer must never read as compliant."""
    if in_scope_count:
        return []
    if total_read == 0:
        why = ("EM returned no task sessions for the %s-day window (check the account's EM role "
               "scope, the server/port and the window)" % _num(lookback_days))
    elif in_window == 0:
        why = "none of the %d task sessions read falls into the %s-day window" % (total_read, _num(lookback_days))
    else:
        why = "all %d task sessions of the window were excluded by the include/exclude patterns" % in_window
    return [finding(NO_DATA, STATUS_VIOLATION, None, why)]


def read_error(errors):
    """A failed read means the data is incomplete: each error is a read_error with severity error
    (not a violation: an outage is not a breach), so the reports written after a failed read say
    that EM could not be read instead of looking like a quiet night or a list of bad VMs."""
    return [finding(READ_ERROR, STATUS_ERROR, None, "Enterprise Manager could not be read: %s" % error)
            for error in errors if error]


def partial_view(limits, allow):
    """What the account cannot see (view_limits, from the reader's probe) as partial_view findings.

    Severity error - the verdicts cover only part of EM, so the run is not compliant - unless the
    user said a partial view is expected (allow_partial_view), then a warning that still names it.
    """
    severity = STATUS_WARNING if allow else STATUS_ERROR
    suffix = " (allowed: allow_partial_view is true)" if allow else \
        " (set allow_partial_view when a partial view is intended)"
    return [finding(PARTIAL_VIEW, severity, None, "%s%s" % (limit, suffix)) for limit in limits if limit]


def job_type_unknown(unseen, untyped=()):
    """job_type_unknown (warning), up to two findings. ``unseen``: backup task sessions whose job session is not
    among the job sessions read, nor any session of their job (fold.kind_of) - the job sessions are read as far
    back as the task sessions, so their job has run longer than that (a backup copy or mirroring job keeps its
    session open [INF]): they are judged as copies, never as backups. ``untyped``: backup task sessions whose job
    was read but whose job sessions carry no JobType (an EM that leaves it out; FACTS 5.4 documents it): they are
    counted as backups, as without job sessions, and a copy job among them would stand for a backup - said, with
    the first job's name, so that a person can check it. Their UIDs (or names), and job names."""
    found = []
    if unseen:
        found.append(finding(JOB_TYPE_UNKNOWN, STATUS_WARNING, KIND_BACKUP,
                             "%d backup task session(s) belong to no job session read (their job type is unknown): "
                             "judged as copies, never as backups; first: %s" % (len(unseen), unseen[0] or "(no uid)")))
    if untyped:
        jobs = sorted(set(str(name) for name in untyped if name))
        found.append(finding(JOB_TYPE_UNKNOWN, STATUS_WARNING, KIND_BACKUP,
                             "%d backup task session(s) belong to %d job(s) whose job sessions carry no JobType: "
                             "counted as backups - a backup copy job among them would count as a backup; first job: "
                             "%s" % (len(untyped), len(jobs), jobs[0] if jobs else "(no name)")))
    return found


def scope_unmatched(unmatched):
    """scope_unmatched (warning): ``unmatched`` are (option, pattern) of include patterns that select no VM, backup
    server or job of the evaluation. A VM named without a glob character gets a row of its own instead
    (named_vm_missing); a glob is no statement that a VM exists, so its emptiness is a warning that names it."""
    things = {"include_vms": "VM", "include_servers": "backup server", "include_jobs": "job"}
    return [finding(SCOPE_UNMATCHED, STATUS_WARNING, None,
                    '%s pattern "%s" selects no %s of EM\'s answer: nothing under it was judged (a typo, or %ss with '
                    "no session left in EM, which keeps sessions 30 days)" % (option, pattern, things[option],
                                                                              things[option]))
            for option, pattern in unmatched]


def unreadable_job_sessions(job_sessions):
    """Job sessions without a readable creation time cannot be placed in a job's chain of runs: a
    warning naming their count and the first UID, never a silent drop (such a run may be a failure)."""
    bad = [item for item in job_sessions or [] if not (isinstance(item, dict) and _readable_time(
        item.get("creation_time")) is not None)]
    if not bad:
        return []
    first = next((item.get("uid") for item in bad if isinstance(item, dict) and item.get("uid")), None)
    return [finding(UNREADABLE_SESSIONS, STATUS_WARNING, KIND_JOB,
                    "%d job session(s) without a readable creation time were not judged; first: %s" % (
                        len(bad), first or "(no uid)"))]


def job_findings(finished, now, policy):
    """The verdict's part of a job's runs (issue 22: a failed job session is never silent).

    * ``job_failed`` (severity ``failed_job_severity``, warning by default): the job's newest
      finished session failed, or ended with Warning while warnings are not accepted, and no later
      run or retry of the same job has succeeded yet. A job session can fail after all its task
      sessions succeeded (a merge, synthetic full or transform step), so the VM rows may not show it.
    * ``recovered_failure`` (warning): a failed run that ended within recent_hours and a later run
      or retry of the same job succeeded, like the VM rule of that name.
    A job that failed days ago and succeeded since has no finding, nor has a newest run that ended
    with Warning while warnings are accepted (the VMs' Warning results are findings per VM; the
    job's own Warning then means "usable points", as accept_warnings says). Informational only, with the
    reason: ``running`` (a run in progress has no outcome yet; stuck and long task sessions are
    judged per VM) and the retry counts (a retry that succeeded is either recovered_failure or
    old news).
    """
    finished, future = without_future_successes(finished, now, policy["accept_warnings"], job_succeeded)
    skew = clock_skew(future, KIND_JOB, now)
    if not finished:
        return skew
    return (job_failed(finished, policy) or job_recovered_failure(finished, now, policy)) + skew


# FACTS 5.4 [DOC]: a job session is Starting, Stopping, Working, Pausing, Resuming or Stopped; the
# running ones are left out before these rules (jobs.job_row). Any other State is no evidence that the
# run finished, like a task session's (sessions.state_says_finished): its Success is not a success.
JOB_STATE_STOPPED = "Stopped"


def job_succeeded(session, accept_warnings):
    """A finished job session's run succeeded (Success, or Warning while warnings are accepted), in
    State Stopped or with no State at all."""
    if session.get("state") not in (None, "", JOB_STATE_STOPPED):
        return False
    return session.get("result") == RESULT_SUCCESS or (accept_warnings and session.get("result") == RESULT_WARNING)


def job_failed(finished, policy):
    """job_failed: the newest finished run of the job failed (or a refused Warning, or a Success in a
    State EM does not document); see job_findings."""
    accept = policy["accept_warnings"]
    last = finished[-1]
    result = last.get("result")
    if not job_succeeded(last, accept):
        suffix = " (warnings are not accepted)" if result == RESULT_WARNING and not accept else ""
        if last.get("state") not in (None, "", JOB_STATE_STOPPED):
            suffix += " in state %r, not Stopped" % last.get("state")
        return [finding(JOB_FAILED, policy["failed_job_severity"], KIND_JOB,
                        "last run of job %s ended with %s%s" % (last.get("job_name"), result or "no result", suffix),
                        last, last.get("_end") or last["_created"])]
    return []


def job_recovered_failure(finished, now, policy):
    """recovered_failure of a job: runs that failed within recent_hours, made good by a later run or
    retry. Called when the newest finished run succeeded (else job_failed), so a fixer exists."""
    accept = policy["accept_warnings"]
    horizon = now - timedelta(hours=policy["recent_hours"])
    findings = []
    for index, session in enumerate(finished[:-1]):
        failed = session.get("result") == RESULT_FAILED or (session.get("result") == RESULT_WARNING and not accept)
        ended = session.get("_end") or session["_created"]
        if failed and ended >= horizon:
            fixer = next(s for s in finished[index + 1:] if job_succeeded(s, accept))
            findings.append(finding(
                RECOVERED_FAILURE, STATUS_WARNING, KIND_JOB,
                "job session %s ended with %s, recovered by %s%s" % (
                    session.get("name") or session.get("uid"), session.get("result"),
                    "retry " if fixer.get("is_retry") else "", fixer.get("name") or fixer.get("uid")),
                session, ended))
    return findings


def unreadable_sessions(anonymous):
    """unreadable_sessions, global: task sessions without a readable time nor any VM identity cannot
    be attached to a VM; one violation with their count and the first UID (issue 13)."""
    if not anonymous:
        return []
    return [finding(UNREADABLE_SESSIONS, STATUS_VIOLATION, None,
                    "%d task session(s) without a readable VM identity could not be judged; first: %s" % (
                        len(anonymous), unreadable_label(anonymous[0])))]


def unreadable_vm_sessions(sessions, row, alone):
    """unreadable_sessions of one VM: a violation when they are all that was read of it (``alone``: the
    row was made for them), or when one of them failed; else a warning (other sessions of the VM were read,
    and the unreadable one may be newer than them). A failure whose time cannot be read may be the VM's
    newest run: as a warning beside an older success the run was compliant (found by attack, session 16)."""
    failed = [session for session in sessions if session.get("result") not in _NOT_AN_OUTCOME]
    first = (failed or sessions)[0]
    text = "%d task session(s) of this VM have no readable creation time; first: %s" % (
        len(sessions), unreadable_label(first))
    if alone:
        text += "; nothing else of this VM was read"
    elif failed:
        text += "; it ended %s and may be the newest run of this VM" % first.get("result")
    read = row["backup"] or row["replica"] or row["copy"]
    severity = STATUS_WARNING if read and not failed else STATUS_VIOLATION
    return [finding(UNREADABLE_SESSIONS, severity, first["_kind"], text, first)]


def unreadable_label(session):
    return "%s (creation_time %r)" % (session.get("uid") or "(no uid)", session.get("creation_time"))
