# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup and replica compliance evaluation of Veeam EM task sessions.

Everything that decides *whether a VM is protected* lives here as small pure functions, so
every rule can be unit-tested with hand-made sessions and a fixed ``now`` (no clock, no network,
no Ansible needed). It is in module_utils because two callers share it: the
``veeam_em_compliance`` filter (sessions already read by the info modules) and the
``veeam_em_compliance_info`` module, which reads and evaluates in one process so that only the
verdicts, not tens of thousands of sessions, cross into Ansible's result and templating layers.

Input items are the normalised task-session dicts of docs/CONTRACTS.md section 2.
Documentation of the rules is in plugins/filter/veeam_em_compliance.yml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import fnmatch
import re
from datetime import datetime, timedelta, timezone


class ComplianceInputError(ValueError):
    """Raised for invalid evaluation options (the filter turns it into a filter error)."""


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

# The keys of each resource the evaluation reads (``uid`` is always returned). Readers ask EM's
# client for exactly these (option ``fields``); tests/unit/plugins/filter/
# test_compliance_role_contract.py records the keys the evaluation really touches and fails when
# these lists drift from them.
TASK_SESSION_FIELDS = ("name", "vm_display_name", "vm_uid", "job_name", "backup_server_uid",
                       "backup_server_name", "creation_time", "end_time", "state", "result", "reason")
# job_session_uid: the job type of a backup task session is on its job session (classify_backups).
BACKUP_TASK_SESSION_FIELDS = TASK_SESSION_FIELDS + ("restore_point_uid", "job_session_uid")
REPLICA_TASK_SESSION_FIELDS = TASK_SESSION_FIELDS + ("replica_point_uid",)
JOB_SESSION_FIELDS = ("name", "job_uid", "job_id", "job_name", "job_type", "backup_server_name", "creation_time",
                      "end_time", "state", "result", "is_retry")
BACKUP_SERVER_FIELDS = ("name",)

STATUS_COMPLIANT = "compliant"
STATUS_WARNING = "warning"
STATUS_VIOLATION = "violation"
# EM could not be read, or only in part (a failed read, an account that sees part of EM): the
# verdicts cover only what was read, so the run is neither compliant nor a list of breaches.
STATUS_ERROR = "error"

SEVERITY_RANK = {STATUS_COMPLIANT: 0, STATUS_WARNING: 1, STATUS_VIOLATION: 2, STATUS_ERROR: 3}

KIND_BACKUP = "backup"
KIND_REPLICA = "replica"
# Task sessions of backup-copy runs: their own time line, never the backup's (see classify_backups).
KIND_COPY = "copy"
KIND_JOB = "job"

# Job types (on the job session, FACTS 5.4/6) whose task sessions take a new backup of the VM from its
# source [DOC: the JobType enum; INF: which of them read the source]. Every other job type of a backup
# task session (BackupCopy, ImmediateBackupCopy, ImmediateBackupCopyWorker, AgentManagement and any
# type this collection does not know) copies or manages existing points: it goes to the copy time line
# and can neither satisfy the backup RPO nor "recover" a failed backup. A type EM sends that is not in
# this list is put there too, because counting a copy as a fresh backup is a false pass while the reverse
# is a visible alarm. (A session whose job type could not be found at all is another case: see
# classify_backups.)
SOURCE_BACKUP_JOB_TYPES = ("backup", "agentbackup", "nasbackup")

# Reason codes.  Severity is fixed per code except the *_warning codes, whose severity follows
# the accept_warnings policy (see _latest_result_findings).
RPO_EXCEEDED = "rpo_exceeded"
REPLICA_RPO_EXCEEDED = "replica_rpo_exceeded"
LAST_BACKUP_FAILED = "last_backup_failed"
LAST_REPLICA_FAILED = "last_replica_failed"
LAST_BACKUP_WARNING = "last_backup_warning"
LAST_REPLICA_WARNING = "last_replica_warning"
RECOVERED_FAILURE = "recovered_failure"
STUCK_SESSION = "stuck_session"
LONG_RUNNING = "long_running"
NEVER_BACKED_UP = "never_backed_up"
NO_DATA = "no_data"
SERVER_SILENT = "server_silent"
COPY_RPO_EXCEEDED = "copy_rpo_exceeded"
LAST_COPY_FAILED = "last_copy_failed"
LAST_COPY_WARNING = "last_copy_warning"
JOB_FAILED = "job_failed"
UNREADABLE_SESSIONS = "unreadable_sessions"
READ_ERROR = "read_error"
PARTIAL_VIEW = "partial_view"

REASON_CODES = (
    RPO_EXCEEDED, REPLICA_RPO_EXCEEDED, LAST_BACKUP_FAILED, LAST_REPLICA_FAILED,
    LAST_BACKUP_WARNING, LAST_REPLICA_WARNING, RECOVERED_FAILURE, STUCK_SESSION, LONG_RUNNING,
    NEVER_BACKED_UP, NO_DATA, SERVER_SILENT, COPY_RPO_EXCEEDED, LAST_COPY_FAILED, LAST_COPY_WARNING,
    JOB_FAILED, UNREADABLE_SESSIONS, READ_ERROR, PARTIAL_VIEW,
)

# Per kind: (RPO code, open-failure code, open-warning code).
KIND_CODES = {
    KIND_BACKUP: (RPO_EXCEEDED, LAST_BACKUP_FAILED, LAST_BACKUP_WARNING),
    KIND_REPLICA: (REPLICA_RPO_EXCEEDED, LAST_REPLICA_FAILED, LAST_REPLICA_WARNING),
    KIND_COPY: (COPY_RPO_EXCEEDED, LAST_COPY_FAILED, LAST_COPY_WARNING),
}

# Per kind: the policy key of its RPO.
KIND_RPO_OPTIONS = {KIND_BACKUP: "backup_rpo_hours", KIND_REPLICA: "replica_rpo_hours", KIND_COPY: "copy_rpo_hours"}

EXPECTED_VM_MATCHES = ("exact", "fqdn", "short")
FAILED_JOB_SEVERITIES = (STATUS_WARNING, STATUS_VIOLATION)

STATE_COMPLETED = "Completed"
RUNNING_STATES = ("InProgress", "Pending")
RESULT_SUCCESS = "Success"
RESULT_WARNING = "Warning"
RESULT_FAILED = "Failed"

# Day-grid cell values (one per VM, kind and UTC day).
CELL_NONE = "none"
CELL_SUCCESS = "success"
CELL_WARNING = "warning"
CELL_RECOVERED = "recovered"
CELL_FAILED = "failed"
CELL_RUNNING = "running"

DEFAULT_POLICY = {
    "backup_rpo_hours": 24.0,
    "replica_rpo_hours": 24.0,
    "lookback_days": 7.0,
    "recent_hours": 24.0,
    "accept_warnings": True,
    "max_duration_minutes": 480.0,
    "stuck_hours": 12.0,
    "copy_rpo_hours": 0.0,
    "failed_job_severity": STATUS_WARNING,
    "expected_vm_match": "fqdn",
    "include_vms": [],
    "exclude_vms": [],
    "include_jobs": [],
    "exclude_jobs": [],
    "include_servers": [],
    "exclude_servers": [],
    "expected_vms": [],
    "known_backup_servers": [],
    "allow_partial_view": False,
    "read_errors": [],
    "view_limits": [],
}

# Options set by the reader, not by the user: what could not be read, and what the account
# cannot see (veeam_em_compliance_info fills them; the filter takes them from its caller).
INTERNAL_OPTIONS = ("read_errors", "view_limits")

# How far back EM keeps sessions: collection endpoints return only the last 30 days (FACTS 6;
# whether /api/query is limited too is UNCONFIRMED). The VMs to judge are those of this history,
# not only those of the lookback window: a VM whose backups stopped must not drop out of sight.
HISTORY_DAYS = 30

# The keys the history (the sessions before the window) is read with: identity, scope, the time
# line of successes and the point a finding names; enough for the VM to be judged, not the reason
# texts and sizes the rules of the window read.
HISTORY_FIELDS = ("name", "vm_display_name", "vm_uid", "job_name", "backup_server_uid", "backup_server_name",
                  "creation_time", "end_time", "state", "result")
BACKUP_HISTORY_FIELDS = HISTORY_FIELDS + ("restore_point_uid",)
REPLICA_HISTORY_FIELDS = HISTORY_FIELDS + ("replica_point_uid",)

# ---------------------------------------------------------------------------------------------
# Time handling
# ---------------------------------------------------------------------------------------------

_ISO_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


def parse_time(value):
    """Parse an ISO 8601 time into an aware UTC datetime, or None for empty values.

    EM sends 'Z' strings with 0-7 fractional digits, which ``datetime.fromisoformat`` of
    Python 3.9/3.10 rejects, so this parser is hand-written. Offsets (+02:00, +0200, +02) are
    honoured; a time without any zone is taken as UTC (EM and the modules only produce UTC).
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
    fast = _fast_parse(value)
    if fast is not None:
        return fast
    match = _ISO_RE.match(str(value))
    if not match:
        raise ValueError("not an ISO 8601 time: %r" % (value,))
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    parsed = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                      int(second or 0), micro, tzinfo=timezone.utc)
    return parsed - _zone_offset(zone)


def _fast_parse(value):
    """EM's usual 'YYYY-MM-DDTHH:MM:SS[.ffffff]Z' with the C parser: parse_time runs ~100,000 times a night.

    Only the exact shape is taken (the regex decides everything else, so both accept the same
    strings): 20 characters, or 22-27 with 1-6 fractional digits, 'T' and 'Z' in place.
    """
    if not isinstance(value, str) or not 20 <= len(value) <= 27 or value[10] != "T" or value[-1] != "Z" \
            or (len(value) > 20 and value[19] != "."):
        return None
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _zone_offset(zone):
    """Offset of a '+02:00' style zone designator as a timedelta (zero for Z or none)."""
    if not zone or zone in ("Z", "z"):
        return timedelta(0)
    digits = zone[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4] or 0)
    offset = timedelta(hours=hours, minutes=minutes)
    return -offset if zone[0] == "-" else offset


def format_time(value):
    """Format an aware datetime as the contract's UTC 'Z' string (seconds, optional micros)."""
    if value is None:
        return None
    value = value.astimezone(timezone.utc)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += (".%06d" % value.microsecond).rstrip("0")
    return text + "Z"


def hours_between(earlier, later):
    """Hours from earlier to later, rounded to 2 decimals for readable reports."""
    return round((later - earlier).total_seconds() / 3600.0, 2)


def window_start(now, lookback_days):
    """Start of the lookback window as a 'Z' string: the role's ``created_after`` value."""
    return format_time(_require_now(now) - timedelta(days=_non_negative(lookback_days, "lookback_days")))


def _require_now(now):
    """The evaluation time; required so that a run is reproducible from its inputs."""
    if now is None or now == "":
        raise ComplianceInputError("now is required (an ISO 8601 time such as 2025-06-05T06:00:00Z)")
    try:
        return parse_time(now)
    except ValueError as exc:
        raise ComplianceInputError("now: %s" % exc)


def _non_negative(value, name):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ComplianceInputError("%s must be a number, got %r" % (name, value))
    if number < 0:
        raise ComplianceInputError("%s must not be negative, got %r" % (name, value))
    return int(number) if number.is_integer() else number


# ---------------------------------------------------------------------------------------------
# Scope: include / exclude globs
# ---------------------------------------------------------------------------------------------

def matches_any(value, patterns):
    """True when value matches one of the shell-style globs, ignoring case.

    Case is ignored because VM and server names are typed by people (CMDB, vars files) who do
    not reliably preserve the hypervisor's capitalisation.
    """
    if value is None:
        return False
    text = str(value).lower()
    return any(fnmatch.fnmatchcase(text, str(pattern).lower()) for pattern in patterns)


def in_scope(value, include, exclude):
    """Include wins only when it matches; an empty include list means 'everything'."""
    if include and not matches_any(value, include):
        return False
    return not matches_any(value, exclude)


def session_in_scope(session, policy):
    """Apply the VM, job and backup-server include/exclude globs to one session."""
    return (in_scope(session.get("vm_display_name"), policy["include_vms"], policy["exclude_vms"])
            and in_scope(session.get("job_name"), policy["include_jobs"], policy["exclude_jobs"])
            and in_scope(session.get("backup_server_name"), policy["include_servers"],
                         policy["exclude_servers"]))


# ---------------------------------------------------------------------------------------------
# Session classification
# ---------------------------------------------------------------------------------------------

def is_running(session):
    """InProgress or Pending: not finished, so neither a success nor a failure yet."""
    return session.get("state") in RUNNING_STATES


def is_finished(session):
    """A session counts as finished when EM says Completed or when it has an end time."""
    return not is_running(session) and (session.get("state") == STATE_COMPLETED
                                        or session.get("_end") is not None)


def is_success(session, accept_warnings):
    """Did this session produce a usable restore/replica point under the policy?"""
    if not is_finished(session):
        return False
    result = session.get("result")
    return result == RESULT_SUCCESS or (accept_warnings and result == RESULT_WARNING)


def is_unsuccessful(session, accept_warnings):
    """Finished without a usable point: Failed, an unknown result, or a refused Warning."""
    return is_finished(session) and not is_success(session, accept_warnings)


# Which time each rule uses (the policy docs repeat it):
# * data_time - the moment the VM's data in the point is from: RPO age, last_success_time, which success
#   is the newest. A restore point holds the VM as of its snapshot, which the task takes near its start
#   [INF from how VBR processes a VM: snapshot first, then transfer]; so the task session's
#   CreationTimeUTC [DOC] is the best time EM's task session offers. A restore point's own
#   CreationTimeUTC [DOC: VmRestorePoint, FACTS 5.6; INF: that it is the snapshot time] is preferred
#   when the caller joined it in as ``restore_point_time`` (the module does not read restore points).
# * point_time - when the outcome was known (end, else creation): open failures, recoveries, and
#   whether a finished long run was already seen by an earlier night.
# * _created - when the run started: stuck (running since), window membership (EM filters on
#   CreationTime), day grids (the day a run belongs to), job rows.

def data_time(session):
    """Time of the data a successful session protects: the restore point's own time, else the start."""
    return session.get("_point_created") or session["_created"]


def point_time(session):
    """When the outcome became known: end_time, else creation_time (EM may omit EndTime)."""
    return session["_end"] or session["_created"]


def session_duration_hours(session, now):
    """Duration so far (running) or total (finished), in hours.

    A running session's end time is ignored: EM may send a placeholder (1900-01-01, 0001-01-01; FACTS 6)
    or nothing, and in both cases it has been running from its creation until now.
    """
    end = now if is_running(session) else session["_end"]
    if end is None:
        return None
    return max(0.0, (end - session["_created"]).total_seconds() / 3600.0)


def _readable_time(value):
    """A parsed time, or None when it is empty or cannot be read."""
    try:
        return parse_time(value)
    except (TypeError, ValueError):
        return None


def prepare_sessions(sessions, kind, unreadable=None):
    """Copy the items, parse their times once and set the unusable ones aside.

    Returns (prepared, ignored_count). A session without a readable creation time or without any
    VM identity cannot be placed on the time line or attached to a VM; it is counted as ignored and,
    when ``unreadable`` (a list) is given, appended to it so that the evaluation names it in an
    ``unreadable_sessions`` finding (issue 13: never a silent drop). An end time before the creation
    (a placeholder the parser did not catch) is no end time. Duplicate UIDs (the same session read
    twice across pages) are kept once.
    """
    prepared, ignored, seen = [], 0, set()
    for item in sessions or []:
        uid = item.get("uid") if isinstance(item, dict) else None
        if uid and uid in seen:
            continue
        created = _readable_time(item.get("creation_time")) if isinstance(item, dict) else None
        if created is None or not (item.get("vm_uid") or item.get("vm_display_name")):
            ignored += 1
            if unreadable is not None:
                unreadable.append(dict(item, _kind=kind) if isinstance(item, dict) else {"_kind": kind})
            continue
        if uid:
            seen.add(uid)
        session = dict(item)
        session["_created"] = created
        ended = _readable_time(item.get("end_time"))
        session["_end"] = ended if ended is not None and ended >= created else None
        session["_point_created"] = _readable_time(item.get("restore_point_time") or item.get("replica_point_time"))
        session["_kind"] = kind
        prepared.append(session)
    prepared.sort(key=lambda s: (s["_created"], s.get("uid") or ""))
    return prepared, ignored


def job_type_index(job_sessions):
    """Job types of the job sessions read: by job session UID, and by (server, job name) for task
    sessions whose job session was created before the window (a job's type does not change)."""
    by_uid, by_job = {}, {}
    for item in job_sessions or []:
        if not isinstance(item, dict) or not item.get("job_type"):
            continue
        if item.get("uid"):
            by_uid[str(item["uid"]).lower()] = item["job_type"]
        by_job[(str(item.get("backup_server_name") or "").lower(), str(item.get("job_name") or "").lower())] = \
            item["job_type"]
    return by_uid, by_job


def classify_backups(sessions, index):
    """Give each backup task session the JobType of its job session and move copies to KIND_COPY.

    FACTS 6 [INF from the schema]: a BackupTaskSession has JobSessionUid but no job type, and copy jobs'
    task sessions come from the same query as the backups'. Returns the number of sessions whose
    job type is unknown (no job sessions read, or none of this job): they stay on the backup time
    line as before job types were read, which can count a copy as a backup - the summary's
    ``backup_sessions_job_type_unknown`` says how many (and check_jobs=false makes it all of them).
    """
    by_uid, by_job = index
    unknown = 0
    for session in sessions:
        job_type = by_uid.get(str(session.get("job_session_uid") or "").lower()) or by_job.get(
            (str(session.get("backup_server_name") or "").lower(), str(session.get("job_name") or "").lower()))
        session["_job_type"] = job_type
        if job_type is None:
            unknown += 1
        elif str(job_type).lower() not in SOURCE_BACKUP_JOB_TYPES:
            session["_kind"] = KIND_COPY
    return unknown


# ---------------------------------------------------------------------------------------------
# Grouping per (backup server, VM)
# ---------------------------------------------------------------------------------------------

def server_key(session):
    """Backup servers are told apart by UID, else by name (case-insensitive)."""
    uid = session.get("backup_server_uid")
    if uid:
        return str(uid).lower()
    name = session.get("backup_server_name")
    return "name:" + str(name).lower() if name else "unknown"


def _name_key(name):
    return "name:" + str(name or "").lower()


def vm_key(session, uid_by_name):
    """A VM is its vm_uid; without one (replicas, old EM) the UID of the same-named VM on the
    same server when that name is unambiguous, else its display name."""
    if session.get("vm_uid"):
        return str(session["vm_uid"]).lower()
    uids = uid_by_name.get((server_key(session), str(session.get("vm_display_name") or "").lower()))
    if uids and len(uids) == 1:
        return next(iter(uids))
    return _name_key(session.get("vm_display_name"))


def uids_by_name(sessions):
    """(server key, lower-cased VM name) -> set of VM UIDs seen with that name on that server."""
    table = {}
    for session in sessions:
        if session.get("vm_uid") and session.get("vm_display_name"):
            key = (server_key(session), str(session["vm_display_name"]).lower())
            table.setdefault(key, set()).add(str(session["vm_uid"]).lower())
    return table


def group_sessions(sessions):
    """Group backup and replica sessions per (server key, VM key), oldest first."""
    table = uids_by_name(sessions)
    groups = {}
    for session in sessions:
        groups.setdefault((server_key(session), vm_key(session, table)), []).append(session)
    return groups


# ---------------------------------------------------------------------------------------------
# Rules: each returns a list of findings for one VM and one kind (backup or replica)
# ---------------------------------------------------------------------------------------------

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


def rpo_findings(sessions, kind, rpo_hours, now, accept_warnings, where="in the lookback window"):
    """RPO rule: the data of the newest successful point must be at most rpo_hours old.

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


def latest_result_findings(sessions, kind, accept_warnings):
    """Open failure rule: the newest finished session decides.

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


def recovered_findings(sessions, kind, now, accept_warnings, recent_hours):
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


def stuck_findings(sessions, kind, now, stuck_hours):
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


def long_running_findings(sessions, kind, now, max_duration_minutes, recent_hours, stuck_hours):
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


# ---------------------------------------------------------------------------------------------
# Per-kind summary and day grid
# ---------------------------------------------------------------------------------------------

def day_cell(day_sessions, accept_warnings):
    """Summarise one UTC day of one VM: what a person wants to see in the grid."""
    if not day_sessions:
        return CELL_NONE
    finished = [s for s in day_sessions if is_finished(s)]
    if not finished:
        return CELL_RUNNING
    last = finished[-1]
    had_failure = any(is_unsuccessful(s, accept_warnings) for s in finished)
    if is_success(last, accept_warnings):
        if had_failure:
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
    by_day = {}
    for session in sessions:
        by_day.setdefault(session["_created"].date().isoformat(), []).append(session)
    return [{"date": day, "cell": day_cell(by_day.get(day, []), accept_warnings),
             "sessions": len(by_day.get(day, []))} for day in days]


def kind_summary(sessions, now, rpo_hours, accept_warnings, days):
    """Counts and latest facts of one kind for one VM (None when it has no such sessions)."""
    if not sessions:
        return None
    best = last_success(sessions, accept_warnings)
    latest = sessions[-1]
    return {
        "sessions": len(sessions),
        "succeeded": sum(1 for s in sessions if s.get("result") == RESULT_SUCCESS and is_finished(s)),
        "warnings": sum(1 for s in sessions if s.get("result") == RESULT_WARNING and is_finished(s)),
        "failed": sum(1 for s in sessions
                      if is_finished(s) and s.get("result") not in (RESULT_SUCCESS, RESULT_WARNING)),
        "running": sum(1 for s in sessions if is_running(s)),
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


def evaluate_kind(sessions, kind, now, policy, rpo_hours):
    """All per-VM rules of one kind, in report order."""
    accept = policy["accept_warnings"]
    return (rpo_findings(sessions, kind, rpo_hours, now, accept)
            + latest_result_findings(sessions, kind, accept)
            + stuck_findings(sessions, kind, now, policy["stuck_hours"])
            + long_running_findings(sessions, kind, now, policy["max_duration_minutes"],
                                    policy["recent_hours"], policy["stuck_hours"])
            + recovered_findings(sessions, kind, now, accept, policy["recent_hours"]))


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


# ---------------------------------------------------------------------------------------------
# Expected VMs and backup servers
# ---------------------------------------------------------------------------------------------

def normalise_expected(entries):
    """CMDB entries are names or {'name', 'backup_server'} dicts; return dicts."""
    result = []
    for entry in entries or []:
        if isinstance(entry, dict):
            name = entry.get("name") or entry.get("vm") or entry.get("vm_display_name")
            server = entry.get("backup_server") or entry.get("backup_server_name")
        else:
            name, server = entry, None
        if name is None or str(name).strip() == "":
            raise ComplianceInputError("expected_vms entry without a name: %r" % (entry,))
        result.append({"name": str(name), "backup_server": str(server) if server else None})
    return result


def server_matches(row_or_session, wanted):
    """A backup server given by a person matches by name or UID, ignoring case."""
    wanted = str(wanted).lower()
    return wanted in (str(row_or_session.get("backup_server_name") or "").lower(),
                      str(row_or_session.get("backup_server_uid") or "").lower())


def _dns_labels(name):
    """The DNS labels of a name that looks like a host name with a domain, else None.

    Dotted numbers (an IP address used as a VM name) are not DNS names: '10.0.0.5' is not '10'.
    """
    labels = name.split(".")
    if len(labels) < 2 or not all(labels) or all(label.isdigit() for label in labels):
        return None
    return labels


def _short_name(name):
    labels = _dns_labels(name)
    return labels[0] if labels else name


def names_match(vm_name, wanted, mode):
    """Does an EM VM name stand for a CMDB name under expected_vm_match (case is always ignored)?

    * ``exact`` - the whole names are equal.
    * ``fqdn`` (default) - equal, or one is a bare host name and the other an FQDN whose first DNS
      label is that name (``sql-prod-026`` = ``sql-prod-026.corp.example.com``). Two FQDNs must be
      equal, so ``db01.dmz.example.com`` never stands for ``db01.corp.example.com``: no false alarm for
      the usual short-vs-FQDN naming, no false pass between domains.
    * ``short`` - the first DNS labels are equal, whatever the domains (CMDBs and hypervisors that use
      different domains for the same hosts; two hosts of the same short name then stand for each other).
    """
    vm_name, wanted = str(vm_name or "").strip().lower(), str(wanted or "").strip().lower()
    if vm_name == wanted:
        return True
    if mode == "exact":
        return False
    if mode == "fqdn" and _dns_labels(vm_name) and _dns_labels(wanted):
        return False
    return _short_name(vm_name) == _short_name(wanted)


def expected_matches(row, expected, mode="fqdn"):
    """Does a VM row satisfy a CMDB entry (same name, and same server when one is given)?"""
    if not names_match(row.get("vm_display_name"), expected["name"], mode):
        return False
    return expected["backup_server"] is None or server_matches(row, expected["backup_server"])


def near_misses(name, rows):
    """Up to three VM names of the rows close to a CMDB name (difflib), for a 'did you mean'."""
    names = sorted(set(str(row["vm_display_name"]) for row in rows if row.get("vm_display_name")))
    by_lower = {}
    for candidate in names:
        by_lower.setdefault(candidate.lower(), candidate)
        by_lower.setdefault(_short_name(candidate.lower()), candidate)
    wanted = str(name).lower()
    close = difflib.get_close_matches(wanted, list(by_lower), n=6, cutoff=0.8)
    close += difflib.get_close_matches(_short_name(wanted), list(by_lower), n=6, cutoff=0.8)
    result = []
    for key in close:
        if by_lower[key] not in result:
            result.append(by_lower[key])
    return result[:3]


# ---------------------------------------------------------------------------------------------
# Building the result
# ---------------------------------------------------------------------------------------------

def build_row(group, now, policy, days):
    """One VM on one backup server: its facts, findings and status."""
    backups = [s for s in group if s["_kind"] == KIND_BACKUP]
    copies = [s for s in group if s["_kind"] == KIND_COPY]
    replicas = [s for s in group if s["_kind"] == KIND_REPLICA]
    newest = group[-1]
    named = [s for s in group if s.get("vm_uid")]
    findings = []
    if backups or copies:  # a VM that is copied owes a backup of its own (issue 14: a copy is not one)
        findings += evaluate_kind(backups, KIND_BACKUP, now, policy, policy["backup_rpo_hours"])
    if copies:
        findings += evaluate_kind(copies, KIND_COPY, now, policy, policy["copy_rpo_hours"])
    if replicas:
        findings += evaluate_kind(replicas, KIND_REPLICA, now, policy, policy["replica_rpo_hours"])
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
        "status": status_of(findings),
        "reasons": unique_codes(findings),
        "findings": findings,
        "backup": kind_summary(backups, now, policy["backup_rpo_hours"], policy["accept_warnings"], days),
        "replica": kind_summary(replicas, now, policy["replica_rpo_hours"], policy["accept_warnings"], days),
        "copy": kind_summary(copies, now, policy["copy_rpo_hours"], policy["accept_warnings"], days),
    }


def require_backup(row, policy):
    """An expected VM that was only replicated still owes a backup: add never_backed_up."""
    if row["backup"] is None:
        row["findings"].insert(0, finding(
            NEVER_BACKED_UP, STATUS_VIOLATION, KIND_BACKUP,
            "expected VM has no backup session in the %s-day window" % _num(policy["lookback_days"])))
        row["status"] = status_of(row["findings"])
        row["reasons"] = unique_codes(row["findings"])


def missing_row(expected, policy, candidates=()):
    """Row for a CMDB VM that no session mentions at all; names close to it are suggested."""
    hint = ""
    if candidates:
        hint = "; did you mean %s? (expected_vm_match=%s)" % (
            " or ".join('"%s"' % name for name in candidates), policy["expected_vm_match"])
    item = finding(NEVER_BACKED_UP, STATUS_VIOLATION, KIND_BACKUP,
                   "expected VM has no backup or replica session in the %s-day window%s%s" % (
                       _num(policy["lookback_days"]),
                       (" on backup server %s" % expected["backup_server"]) if expected["backup_server"] else "",
                       hint))
    return {
        "vm_display_name": expected["name"],
        "vm_uid": None,
        "backup_server_name": expected["backup_server"],
        "backup_server_uid": None,
        "jobs": [],
        "expected": True,
        "status": STATUS_VIOLATION,
        "reasons": [NEVER_BACKED_UP],
        "findings": [item],
        "backup": None,
        "replica": None,
        "copy": None,
    }


def apply_expected(rows, expected_entries, policy):
    """Mark expected rows and add rows for expected VMs never seen. Excluded VMs stay out."""
    seen = list(rows)  # the VMs EM reported: the candidates of a 'did you mean'
    for expected in expected_entries:
        if not in_scope(expected["name"], policy["include_vms"], policy["exclude_vms"]):
            continue
        if expected["backup_server"] and not in_scope(expected["backup_server"], policy["include_servers"],
                                                      policy["exclude_servers"]):
            continue
        matching = [row for row in rows if expected_matches(row, expected, policy["expected_vm_match"])]
        if not matching:
            rows.append(missing_row(expected, policy, near_misses(expected["name"], seen)))
            continue
        for row in matching:
            row["expected"] = True
            require_backup(row, policy)


def _unreadable_label(session):
    return "%s (creation_time %r)" % (session.get("uid") or "(no uid)", session.get("creation_time"))


def _row_key(row):
    return (server_key(row), str(row["vm_uid"]).lower() if row.get("vm_uid") else _name_key(row.get("vm_display_name")))


def apply_unreadable(rows, unreadable, scoped, policy):
    """Name the task sessions that could not be placed on a time line (issue 13: never a silent drop).

    Returns the global findings. A session with a VM identity but no readable creation time is a
    finding on that VM's row: a warning when other sessions of the VM were read (the unreadable one
    may be newer than them), a violation on a row of its own when it is all that was read of the VM.
    Sessions without any VM identity cannot be attached: one global violation with their count and
    the first UID. Include/exclude patterns apply (they use names, not times).
    """
    global_findings = []
    anonymous = [s for s in unreadable if not (s.get("vm_uid") or s.get("vm_display_name"))]
    if anonymous:
        global_findings.append(finding(
            UNREADABLE_SESSIONS, STATUS_VIOLATION, None,
            "%d task session(s) without a readable VM identity could not be judged; first: %s" % (
                len(anonymous), _unreadable_label(anonymous[0]))))
    table = uids_by_name(scoped)
    by_vm = {}
    for session in unreadable:
        if not (session.get("vm_uid") or session.get("vm_display_name")) or not session_in_scope(session, policy):
            continue
        by_vm.setdefault((server_key(session), vm_key(session, table)), []).append(session)
    row_by_key = dict((_row_key(row), row) for row in rows)
    for key, sessions in by_vm.items():
        row = row_by_key.get(key)
        text = "%d task session(s) of this VM have no readable creation time; first: %s" % (
            len(sessions), _unreadable_label(sessions[0]))
        if row is None:
            row = unreadable_row(sessions[0])
            rows.append(row)
            text += "; nothing else of this VM was read"
        severity = STATUS_WARNING if row["backup"] or row["replica"] or row["copy"] else STATUS_VIOLATION
        row["findings"].append(finding(UNREADABLE_SESSIONS, severity, sessions[0]["_kind"], text, sessions[0]))
        row["status"] = status_of(row["findings"])
        row["reasons"] = unique_codes(row["findings"])
    return global_findings


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


# ---------------------------------------------------------------------------------------------
# History: the sessions EM keeps from before the window
# ---------------------------------------------------------------------------------------------

def digest_history(sessions):
    """The sessions of the history that can change a verdict: per VM, job and result the newest.

    The history only decides which VMs must be judged and when each last succeeded: the newest
    session of every (backup server, VM, job, result) answers both, whatever the accept_warnings
    policy and the include/exclude patterns, for a few items per VM instead of a month of
    sessions (116,000 at 5,000 VMs). Items without a parseable creation time are dropped here and
    counted by prepare_sessions of the window as usual.
    """
    newest = {}
    fold_history(newest, sessions)
    return [item for _created, item in newest.values()]


def fold_history(newest, sessions):
    """Fold sessions into ``newest`` ({key: (creation time, item)}), the digest_history of every
    session folded so far. The reader folds page by page, so a month of sessions is never held."""
    for item in sessions or []:
        if not isinstance(item, dict):
            continue
        try:
            created = parse_time(item.get("creation_time"))
        except ValueError:
            continue
        if created is None:
            continue
        key = (server_key(item), str(item.get("vm_uid") or "").lower(), str(item.get("vm_display_name") or "").lower(),
               str(item.get("job_name") or "").lower(), item.get("result"), is_running(item))
        if key not in newest or created > newest[key][0]:
            newest[key] = (created, item)


def stale_kind(sessions, kind, now, policy, days):
    """(findings, summary) of one kind a VM has only in the history: its RPO with the real age.

    The RPO rule runs on the history, so the age is real (the last success 175 h ago, not
    "nothing in the window"); the counts and the day grid of the summary are of the window (empty).
    """
    rpo_hours = policy[KIND_RPO_OPTIONS[kind]]
    findings = rpo_findings(sessions, kind, rpo_hours, now, policy["accept_warnings"],
                            where="in the history EM keeps")
    for item in findings:
        item["message"] = "no %s session in the %s-day window, the last one was created %s; %s" % (
            kind, _num(policy["lookback_days"]), format_time(sessions[-1]["_created"]), item["message"])
    summary = kind_summary(sessions, now, rpo_hours, policy["accept_warnings"], days)
    summary.update(sessions=0, succeeded=0, warnings=0, failed=0, running=0)
    return findings, summary


def history_row(group, now, policy, days):
    """A VM EM remembers from before the window but with no session in it: its backups stopped."""
    newest = group[-1]
    named = [s for s in group if s.get("vm_uid")]
    jobs = []
    for session in group:
        if session.get("job_name") and session["job_name"] not in jobs:
            jobs.append(session["job_name"])
    row = {
        "vm_display_name": newest.get("vm_display_name"),
        "vm_uid": named[-1].get("vm_uid") if named else None,
        "backup_server_name": newest.get("backup_server_name"),
        "backup_server_uid": newest.get("backup_server_uid"),
        "jobs": jobs,
        "expected": False,
        "in_window": False,
        "findings": [],
        "backup": None,
        "replica": None,
        "copy": None,
    }
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
        row["findings"] = rpo_findings([], KIND_BACKUP, policy["backup_rpo_hours"], now, policy["accept_warnings"],
                                       where="in the window nor in the history EM keeps") + row["findings"]
    row["status"] = status_of(row["findings"])
    row["reasons"] = unique_codes(row["findings"])


def vm_rows(scoped, start, now, policy, days):
    """One row per VM of the in-scope sessions: the rules of the window when it has sessions in
    the window, else the history row (history and window are grouped together so that a VM keeps
    its key)."""
    rows = []
    for group in group_sessions(scoped).values():
        in_window = [s for s in group if s["_created"] >= start]
        if not in_window:
            rows.append(history_row(group, now, policy, days))
            continue
        row = build_row(in_window, now, policy, days)
        row.setdefault("in_window", True)
        if len(in_window) < len(group):
            history = [s for s in group if s["_created"] < start]
            add_history_successes(row, history, now, policy)
            add_stale_kinds(row, history, now, policy, days)
        rows.append(row)
    return rows


def add_history_successes(row, history, now, policy):
    """A kind with sessions in the window but no success there (a chronic failure): its last
    success and real age come from the history. The RPO finding then names them; it goes when
    that success is still inside an RPO longer than the window."""
    for kind in (KIND_BACKUP, KIND_COPY, KIND_REPLICA):
        code, rpo_hours = KIND_CODES[kind][0], policy[KIND_RPO_OPTIONS[kind]]
        summary = row[kind]
        if summary is None or summary["last_success_time"] is not None:
            continue
        earlier = [s for s in history if s["_kind"] == kind]
        best = last_success(earlier, policy["accept_warnings"])
        if best is None:
            # (not "since when": the reader keeps only the newest history session per result)
            for item in row["findings"] if earlier else []:
                if item["code"] == code and item["session_uid"] is None:
                    item["message"] += "; none in the history before the window either"
            continue
        # The age of the data, from the start of the run, as rpo_findings counts it (issue 22).
        age = max(0.0, hours_between(data_time(best), now))
        summary.update(last_success_time=format_time(data_time(best)), last_success_age_hours=age,
                       last_success_end_time=format_time(best["_end"]),
                       last_restore_point_uid=best.get("restore_point_uid") or best.get("replica_point_uid"))
        kept = []
        for item in row["findings"]:
            if item["code"] == code and item["session_uid"] is None:
                if rpo_hours and age <= rpo_hours:
                    continue
                item["message"] += "; the data of the last successful %s, before the window, is %sh old (%s)" % (
                    kind, _num(age), format_time(data_time(best)))
                item["time"] = format_time(data_time(best))
            kept.append(item)
        row["findings"] = kept
    row["status"] = status_of(row["findings"])
    row["reasons"] = unique_codes(row["findings"])


def scope_filtered(policy):
    """Whether the VM or job patterns narrow the scope below whole backup servers."""
    return bool(policy["include_vms"] or policy["exclude_vms"] or policy["include_jobs"] or policy["exclude_jobs"])


def jobs_in_scope(jobs, scoped, policy):
    """With VM patterns, only the jobs that ran an in-scope VM (the job and server patterns are
    applied by job_rows): a team scoped to its VMs must not see other teams' failed jobs."""
    if not (policy["include_vms"] or policy["exclude_vms"]):
        return jobs
    ran = set((str(s.get("backup_server_name") or "").lower(), str(s.get("job_name") or "").lower())
              for s in scoped)
    return [job for job in jobs
            if (str(job.get("backup_server_name") or "").lower(), str(job.get("job_name") or "").lower()) in ran]


def server_rows(sessions, vm_rows, now, policy, activity=None, start=None):
    """Per backup server: activity, VM status counts and the server_silent rule.

    ``sessions`` are the in-scope sessions (window and history): a server is a row when it ran
    an in-scope session, or, when no VM or job pattern narrows the scope, when it is known
    (known_backup_servers, or every server EM knows). A team scoped to one VM is not told that
    the other servers are silent. ``sessions`` counts the in-scope sessions of the window.

    A server is silent when its latest sign of life - the newest end (else start) of a session
    of any VM and job (``activity``: the sessions in the server scope, window and history; a 28 h
    run that ended an hour ago is a sign of life, issue 22) - is older than the backup RPO (or recent_hours when
    the backup RPO is off), or when it is known but EM has no session of it at all: EM probably
    lost that server, and every VM on it is stale. One VM that stopped is that VM's finding,
    not the server's. The rule needs no configuration, so a server that drops out is caught on
    the first night even without a list.
    """
    silent_hours = policy["backup_rpo_hours"] or policy["recent_hours"]
    horizon = now - timedelta(hours=silent_hours)
    servers = {}
    for session in sessions:
        entry = servers.setdefault(server_key(session), _server_entry(session.get("backup_server_name"),
                                                                      session.get("backup_server_uid"), False))
        if start is None or session["_created"] >= start:
            entry["sessions"] += 1
        entry["backup_server_name"] = session.get("backup_server_name") or entry["backup_server_name"]
    for known in policy["known_backup_servers"]:
        if not in_scope(known, policy["include_servers"], policy["exclude_servers"]):
            continue
        hits = [entry for entry in servers.values() if server_matches(entry, known)]
        for entry in hits:
            entry["known"] = True
        if not hits and not scope_filtered(policy):
            servers["known:" + str(known).lower()] = _server_entry(str(known), None, True)
    for session in sessions if activity is None else activity:
        seen = point_time(session)  # a finished session's end is the server's latest sign of life (issue 22)
        for key in (server_key(session), "known:" + str(session.get("backup_server_name") or "").lower()):
            entry = servers.get(key)
            if entry is not None and (entry["_last"] is None or seen > entry["_last"]):
                entry["_last"] = seen
    result = []
    for key in sorted(servers, key=lambda k: str(servers[k]["backup_server_name"] or k).lower()):
        entry = servers[key]
        findings = []
        if entry["_last"] is None:
            findings.append(finding(SERVER_SILENT, STATUS_VIOLATION, None,
                                    "known backup server has no session in the %s-day window nor in the "
                                    "history before it" % _num(policy["lookback_days"])))
        elif entry["_last"] < horizon:
            findings.append(finding(SERVER_SILENT, STATUS_VIOLATION, None,
                                    "no session since %s (more than %sh ago)" % (
                                        format_time(entry["_last"]), _num(silent_hours)), time=entry["_last"]))
        rows_here = [row for row in vm_rows if _row_on_server(row, key, entry)]
        result.append({
            "backup_server_name": entry["backup_server_name"],
            "backup_server_uid": entry["backup_server_uid"],
            "known": entry["known"],
            "sessions": entry["sessions"],
            "last_session_time": format_time(entry["_last"]),
            "vms": len(rows_here),
            "vms_compliant": sum(1 for row in rows_here if row["status"] == STATUS_COMPLIANT),
            "vms_warning": sum(1 for row in rows_here if row["status"] == STATUS_WARNING),
            "vms_violation": sum(1 for row in rows_here if row["status"] == STATUS_VIOLATION),
            "status": status_of(findings),
            "reasons": unique_codes(findings),
            "findings": findings,
        })
    return result


def _server_entry(name, uid, known):
    return {"backup_server_name": name, "backup_server_uid": uid, "sessions": 0, "last_session_time": None,
            "_last": None, "known": known}


def _row_on_server(row, key, entry):
    if row["backup_server_uid"] or row["backup_server_name"]:
        return server_key(row) == key or (row["backup_server_uid"] is None and row["backup_server_name"] is not None
                                          and server_matches(entry, row["backup_server_name"]))
    return False


def no_data_finding(total_read, in_window, in_scope_count, lookback_days):
    """'Nothing to evaluate' is a violation: an empty answer must never read as compliant."""
    if in_scope_count:
        return None
    if total_read == 0:
        why = ("EM returned no task sessions for the %s-day window (check the account's EM role "
               "scope, the server/port and the window)" % _num(lookback_days))
    elif in_window == 0:
        why = "none of the %d task sessions read falls into the %s-day window" % (total_read, _num(lookback_days))
    else:
        why = "all %d task sessions of the window were excluded by the include/exclude patterns" % in_window
    return finding(NO_DATA, STATUS_VIOLATION, None, why)


def read_error_findings(errors):
    """A failed read means the data is incomplete: each error is a read_error with severity error
    (not a violation: an outage is not a breach), so the reports written after a failed read say
    that EM could not be read instead of looking like a quiet night or a list of bad VMs."""
    return [finding(READ_ERROR, STATUS_ERROR, None, "Enterprise Manager could not be read: %s" % error)
            for error in errors if error]


def partial_view_findings(limits, allow):
    """What the account cannot see (view_limits, from the reader's probe) as partial_view findings.

    Severity error - the verdicts cover only part of EM, so the run is not compliant - unless the
    user said a partial view is expected (allow_partial_view), then a warning that still names it.
    """
    severity = STATUS_WARNING if allow else STATUS_ERROR
    suffix = " (allowed: allow_partial_view is true)" if allow else \
        " (set allow_partial_view when a partial view is intended)"
    return [finding(PARTIAL_VIEW, severity, None, "%s%s" % (limit, suffix)) for limit in limits if limit]


def finding_text(item):
    """One line a person can read in a job log: 'server / vm: code - message'."""
    parts = (item.get("backup_server_name"), item.get("vm_display_name")
             or (("job " + str(item.get("job_name"))) if item.get("scope") == "job" else None))
    where = " / ".join(str(part) for part in parts if part) or "(all)"
    return "%s: %s - %s" % (where, item["code"], item["message"])


def flatten(rows, servers, global_findings, severity, jobs=()):
    """List of findings of one severity with their VM/server/job, for the violations list."""
    items = _flatten(rows, servers, global_findings, severity)
    for job in jobs:
        for item in job["findings"]:
            if item["severity"] == severity:
                items.append(dict(item, scope="job", vm_display_name=None, vm_uid=None,
                                  backup_server_name=job["backup_server_name"], backup_server_uid=None))
    for item in items:
        item["text"] = finding_text(item)
    return items


def _flatten(rows, servers, global_findings, severity):
    items = []
    for item in global_findings:
        if item["severity"] == severity:
            items.append(dict(item, scope="global", vm_display_name=None, vm_uid=None,
                              backup_server_name=None, backup_server_uid=None))
    for server in servers:
        for item in server["findings"]:
            if item["severity"] == severity:
                items.append(dict(item, scope="server", vm_display_name=None, vm_uid=None,
                                  backup_server_name=server["backup_server_name"],
                                  backup_server_uid=server["backup_server_uid"]))
    for row in rows:
        for item in row["findings"]:
            if item["severity"] == severity:
                items.append(dict(item, scope="vm", vm_display_name=row["vm_display_name"], vm_uid=row["vm_uid"],
                                  backup_server_name=row["backup_server_name"],
                                  backup_server_uid=row["backup_server_uid"]))
    return items


def sort_rows(rows):
    """Violations first, then warnings, then by server and VM name."""
    return sorted(rows, key=lambda row: (-SEVERITY_RANK[row["status"]],
                                         str(row["backup_server_name"] or "").lower(),
                                         str(row["vm_display_name"] or "").lower(),
                                         str(row["vm_uid"] or "")))


def build_policy(overrides):
    """Merge the caller's options over the defaults and validate them."""
    policy = dict(DEFAULT_POLICY)
    for key, value in overrides.items():
        if key not in DEFAULT_POLICY:
            raise ComplianceInputError("unknown option %r (known: %s)" % (key, ", ".join(sorted(DEFAULT_POLICY))))
        if value is not None:
            policy[key] = value
    for key in ("backup_rpo_hours", "replica_rpo_hours", "lookback_days", "recent_hours",
                "max_duration_minutes", "stuck_hours", "copy_rpo_hours"):
        policy[key] = _non_negative(policy[key], key)
    policy["failed_job_severity"] = _choice(policy["failed_job_severity"], "failed_job_severity",
                                            FAILED_JOB_SEVERITIES)
    policy["expected_vm_match"] = _choice(policy["expected_vm_match"], "expected_vm_match", EXPECTED_VM_MATCHES)
    policy["accept_warnings"] = _as_bool(policy["accept_warnings"], "accept_warnings")
    policy["allow_partial_view"] = _as_bool(policy["allow_partial_view"], "allow_partial_view")
    for key in ("include_vms", "exclude_vms", "include_jobs", "exclude_jobs", "include_servers",
                "exclude_servers", "known_backup_servers", "read_errors", "view_limits"):
        policy[key] = _as_list(policy[key], key)
    policy["expected_vms"] = normalise_expected(_as_list(policy["expected_vms"], "expected_vms"))
    return policy


def _choice(value, name, choices):
    text = str(value).strip().lower()
    if text not in choices:
        raise ComplianceInputError("%s must be one of %s, got %r" % (name, ", ".join(choices), value))
    return text


def _as_bool(value, name):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ComplianceInputError("%s must be a boolean, got %r" % (name, value))


def _as_list(value, name):
    if value is None or value == "":
        return []
    if isinstance(value, (str, dict)):
        return [value]
    try:
        return list(value)
    except TypeError:
        raise ComplianceInputError("%s must be a list, got %r" % (name, value))


# ---------------------------------------------------------------------------------------------
# Jobs (job sessions): informational rows with retry information
# ---------------------------------------------------------------------------------------------

JOB_RUNNING_STATES = ("Starting", "Stopping", "Working", "Pausing", "Resuming")


def _job_key(session):
    uid = session.get("job_uid")
    if uid:
        return "uid:" + str(uid).lower()
    return "name:%s|%s" % (str(session.get("backup_server_name") or "").lower(), str(session.get("job_name") or "").lower())


def unreadable_job_sessions_finding(job_sessions):
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


def prepare_job_sessions(job_sessions):
    """Job sessions (veeam_em_*_job_session_info items) with a parsed creation time; the others are
    named by unreadable_job_sessions_finding."""
    if job_sessions is None:
        return []
    if not isinstance(job_sessions, (list, tuple)):
        raise ComplianceInputError("job_sessions must be a list of job sessions")
    prepared = []
    for session in job_sessions:
        if not isinstance(session, dict):
            continue
        try:
            created = parse_time(session.get("creation_time"))
        except (ValueError, ComplianceInputError):
            continue
        if created is None:
            continue
        item = dict(session)
        item["_created"] = created
        item["_end"] = _readable_time(session.get("end_time"))
        prepared.append(item)
    return prepared


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
    if not finished:
        return []
    accept = policy["accept_warnings"]
    last = finished[-1]
    result = last.get("result")
    if result == RESULT_FAILED or result not in (RESULT_SUCCESS, RESULT_WARNING) \
            or (result == RESULT_WARNING and not accept):
        suffix = " (warnings are not accepted)" if result == RESULT_WARNING else ""
        return [finding(JOB_FAILED, policy["failed_job_severity"], KIND_JOB,
                        "last run of job %s ended with %s%s" % (last.get("job_name"), result or "no result", suffix),
                        last, last.get("_end") or last["_created"])]
    horizon = now - timedelta(hours=policy["recent_hours"])
    findings = []
    for index, session in enumerate(finished[:-1]):
        failed = session.get("result") == RESULT_FAILED or (session.get("result") == RESULT_WARNING and not accept)
        ended = session.get("_end") or session["_created"]
        if failed and ended >= horizon:
            # The newest finished run succeeded (else job_failed above), so a fixer exists.
            fixer = next(s for s in finished[index + 1:] if s.get("result") == RESULT_SUCCESS
                         or (accept and s.get("result") == RESULT_WARNING))
            findings.append(finding(
                RECOVERED_FAILURE, STATUS_WARNING, KIND_JOB,
                "job session %s ended with %s, recovered by %s%s" % (
                    session.get("name") or session.get("uid"), session.get("result"),
                    "retry " if fixer.get("is_retry") else "", fixer.get("name") or fixer.get("uid")),
                session, ended))
    return findings


def job_rows(job_sessions, start, policy, now):
    """One row per job with sessions in the window: last run, retries, failed runs, findings.

    A job's chain of runs is its sessions in time order; retries are the sessions EM marks
    ``is_retry``. ``recovered_by_retry`` means the last run is a retry that succeeded after a failed
    run. ``failed`` means the newest finished run failed (what the remediation retries). The
    status is the worst severity of the row's findings (job_findings), which are part of the verdict.
    """
    groups = {}
    for session in job_sessions:
        if session["_created"] < start:
            continue
        if not in_scope(session.get("job_name"), policy["include_jobs"], policy["exclude_jobs"]):
            continue
        if not in_scope(session.get("backup_server_name"), policy["include_servers"], policy["exclude_servers"]):
            continue
        groups.setdefault(_job_key(session), []).append(session)
    rows = []
    for sessions in groups.values():
        sessions.sort(key=lambda s: (s["_created"], s.get("uid") or ""))
        last = sessions[-1]
        finished = [s for s in sessions if s.get("state") not in JOB_RUNNING_STATES]
        last_finished = finished[-1] if finished else None
        running = last.get("state") in JOB_RUNNING_STATES
        retries = [s for s in sessions if s.get("is_retry")]
        failed = [s for s in sessions if s.get("result") == RESULT_FAILED]
        recovered = bool(last_finished is not None and last_finished.get("is_retry")
                         and last_finished.get("result") in (RESULT_SUCCESS, RESULT_WARNING)
                         and any(s.get("result") == RESULT_FAILED for s in finished[:-1]))
        last_result = last_finished.get("result") if last_finished else None
        findings = job_findings(finished, now, policy)
        status = status_of(findings)
        rows.append({
            "job_name": last.get("job_name"),
            "job_uid": last.get("job_uid"),
            "job_id": last.get("job_id"),
            "job_type": last.get("job_type"),
            "backup_server_name": last.get("backup_server_name"),
            "status": status,
            "sessions": len(sessions),
            "retries": len(retries),
            "failed_sessions": len(failed),
            "running": running,
            "last_session_time": format_time(last["_created"]),
            "last_result": last_result,
            "last_end_time": last_finished.get("end_time") if last_finished else None,
            "last_is_retry": bool(last_finished.get("is_retry")) if last_finished else False,
            "recovered_by_retry": recovered,
            # What the retry remediation picks: the newest finished run failed (not a refused Warning,
            # which veeam_em_job would not retry).
            "failed": any(f["code"] == JOB_FAILED for f in findings) and last_result != RESULT_WARNING,
            "reasons": unique_codes(findings),
            "findings": findings,
        })
    return sorted(rows, key=lambda row: (-SEVERITY_RANK[row["status"]], str(row["backup_server_name"] or "").lower(),
                                         str(row["job_name"] or "").lower()))


def evaluate(backup_sessions, replica_sessions=None, now=None, job_sessions=None, **options):
    """Evaluate task sessions against the policy; see veeam_em_compliance.yml for the shape."""
    now_time = _require_now(now)
    policy = build_policy(options)
    start = now_time - timedelta(days=policy["lookback_days"])
    days = window_days(start, now_time)

    unreadable = []
    backups, ignored_backups = prepare_sessions(backup_sessions, KIND_BACKUP, unreadable)
    replicas, ignored_replicas = prepare_sessions(replica_sessions, KIND_REPLICA, unreadable)
    prepared_jobs = prepare_job_sessions(job_sessions)
    # History sessions (before the window) take the type of their job too: by (server, job name) from
    # the window's job sessions, as a job's type does not change. A history session of a job that did
    # not run in the window has no known type and stays a backup, like any unknown type (see
    # classify_backups); the summary's backup_sessions_job_type_unknown counts the window's only.
    classify_backups(backups, job_type_index(job_sessions))
    read = backups + replicas
    in_window = [s for s in read if s["_created"] >= start]
    # Sessions before the window are the history: every VM in it is judged too (history_row).
    activity = sorted((s for s in read if in_scope(s.get("backup_server_name"), policy["include_servers"],
                                                   policy["exclude_servers"])),
                      key=lambda s: (s["_created"], s.get("uid") or ""))
    scoped = [s for s in activity if session_in_scope(s, policy)]
    scoped_window = [s for s in scoped if s["_created"] >= start]

    rows = vm_rows(scoped, start, now_time, policy, days)
    unreadable_findings = apply_unreadable(rows, unreadable, scoped, policy)
    apply_expected(rows, policy["expected_vms"], policy)
    rows = sort_rows(rows)
    servers = server_rows(scoped, rows, now_time, policy, activity=activity, start=start)

    global_findings = read_error_findings(policy["read_errors"])
    global_findings += partial_view_findings(policy["view_limits"], policy["allow_partial_view"])
    # After a failed read "EM returned nothing" is not news: the read_error says why.
    missing = None if policy["read_errors"] else no_data_finding(
        len(read) + ignored_backups + ignored_replicas, len(in_window), len(scoped_window), policy["lookback_days"])
    if missing:
        global_findings.append(missing)
    no_data = bool(missing) or any(item["code"] == READ_ERROR for item in global_findings)
    # Named, not counted only (issue 13); they are not "no data": what was readable is judged.
    global_findings += unreadable_findings + unreadable_job_sessions_finding(job_sessions)

    jobs = jobs_in_scope(job_rows(prepared_jobs, start, policy, now_time), scoped, policy)
    violations = flatten(rows, servers, global_findings, STATUS_VIOLATION, jobs)
    warnings = flatten(rows, servers, global_findings, STATUS_WARNING, jobs)
    errors = flatten(rows, servers, global_findings, STATUS_ERROR, jobs)
    overall = status_of(global_findings + [f for s in servers for f in s["findings"]]
                        + [f for r in rows for f in r["findings"]] + [f for j in jobs for f in j["findings"]])
    return {
        "status": overall,
        # Only a run that read EM in full and found no violation is compliant: an error (EM not
        # read, or read in part) is not a pass.
        "compliant": overall in (STATUS_COMPLIANT, STATUS_WARNING),
        "generated_at": format_time(now_time),
        "window": {"start": format_time(start), "end": format_time(now_time),
                   "lookback_days": policy["lookback_days"], "days": days},
        "policy": _public_policy(policy),
        "summary": dict(_summary(rows, servers, violations, warnings, backups, replicas, in_window, scoped_window,
                                 ignored_backups + ignored_replicas, no_data, jobs, errors),
                        copy_sessions=sum(1 for s in scoped_window if s["_kind"] == KIND_COPY),
                        backup_sessions_job_type_unknown=sum(
                            1 for s in backups if s["_created"] >= start and s.get("_job_type") is None)),
        "vms": rows,
        "servers": servers,
        "jobs": jobs,
        "violations": violations,
        "warnings": warnings,
        "errors": errors,
    }


def _public_policy(policy):
    return {key: (list(value) if isinstance(value, list) else value) for key, value in policy.items()}


def _summary(rows, servers, violations, warnings, backups, replicas, in_window, scoped, ignored, no_data, jobs=(),
             errors=()):
    reasons = {}
    for item in list(errors) + violations + warnings:
        reasons[item["code"]] = reasons.get(item["code"], 0) + 1
    return {
        "vms_total": len(rows),
        "vms_compliant": sum(1 for row in rows if row["status"] == STATUS_COMPLIANT),
        "vms_warning": sum(1 for row in rows if row["status"] == STATUS_WARNING),
        "vms_violation": sum(1 for row in rows if row["status"] == STATUS_VIOLATION),
        "servers_total": len(servers),
        "servers_silent": sum(1 for server in servers if server["status"] == STATUS_VIOLATION),
        "vms_from_history": sum(1 for row in rows if row.get("in_window") is False),
        "violations_total": len(violations),
        "warnings_total": len(warnings),
        "errors_total": len(errors),
        "reasons": reasons,
        "no_data": no_data,
        "sessions_read": len(backups) + len(replicas) + ignored,
        "backup_sessions": sum(1 for s in scoped if s["_kind"] == KIND_BACKUP),
        "replica_sessions": sum(1 for s in scoped if s["_kind"] == KIND_REPLICA),
        "sessions_outside_window": len(backups) + len(replicas) - len(in_window),
        "sessions_excluded": len(in_window) - len(scoped),
        "sessions_ignored": ignored,
        "jobs_total": len(jobs),
        "jobs_failed": sum(1 for job in jobs if job["failed"]),
        "jobs_retried": sum(1 for job in jobs if job["retries"]),
    }


# The keys a compact VM row keeps: who it is and the verdict. Everything else (findings with
# messages, per-kind detail, the day grid) stays in the full evaluation and its JSON report.
COMPACT_VM_KEYS = ("vm_display_name", "vm_uid", "backup_server_name", "backup_server_uid", "status", "reasons")


def compact(result):
    """The evaluation with one small row per VM, for callers that keep it in Ansible variables.

    At 5,000 VMs the full rows are ~7 MB and ~600,000 values, and ansible-core's result and
    templating layers cost about a second per megabyte of them; compact rows are ~6%% of that.
    """
    slim = dict(result)
    slim["vms"] = [dict((key, row.get(key)) for key in COMPACT_VM_KEYS) for row in result["vms"]]
    return slim
