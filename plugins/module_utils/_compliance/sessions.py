# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Task sessions: times (em_time's parser), outcome, identity keys, job types and the history digest.

The sessions are prepared, deduplicated, typed and grouped per VM by fold.py (issue 18).

FOR INTERNAL COLLECTION USE ONLY: the public front is module_utils/em_compliance.py; names here may
change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import timedelta

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_time
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.policy import (
    _non_negative)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.vocabulary import (
    ComplianceInputError, RESULT_SUCCESS, RESULT_WARNING, RUNNING_STATES, SOURCE_BACKUP_JOB_TYPES, STATE_COMPLETED)


# The one ISO 8601 grammar, fast path included, is em_time's (issue 16).
parse_time = em_time.parse_iso
format_time = em_time.format_z


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
        moment = parse_time(now)
    except ValueError as exc:
        raise ComplianceInputError("now: %s" % exc)
    # the window and the history reach back up to HISTORY_DAYS + lookback_days, the day grid a day ahead: at the
    # calendar's edge (year 1 or 9999) they overflowed into a traceback, after reading EM (found by attack)
    if not _EARLIEST_NOW <= moment.year <= _LATEST_NOW:
        raise ComplianceInputError("option now: %r is outside the years %d to %d an evaluation can hold"
                                   % (now, _EARLIEST_NOW, _LATEST_NOW))
    return moment


_EARLIEST_NOW, _LATEST_NOW = 1971, 9998


def is_running(session):
    """InProgress or Pending: not finished, so neither a success nor a failure yet."""
    return session.get("state") in RUNNING_STATES


# Results that finish no session without Completed or an end time (is_finished): none yet (a running session's),
# a success (no evidence there: state_says_finished), a warning (a success under accept_warnings: it needs the end).
_NOT_AN_OUTCOME = (None, "", "None", RESULT_SUCCESS, RESULT_WARNING)


def is_finished(session):
    """A session counts as finished when EM says Completed or when it has an end time - or, in a state that is
    not running, when its result is a failure (Failed, a word EM's docs do not list). FACTS 5.2 lists
    InProgress, Pending and Completed only, and EM writes a placeholder end time (read as none) on sessions it
    has not ended: a Failed task session in a state such as "Stopped" or
    "Postprocessing", or with no State, without an end, was neither finished nor running, so no rule saw its
    failure and the older success decided (a false compliant; found by attack, session 15). A Success there
    stays no evidence (state_says_finished), and a Warning still needs its end (accept_warnings makes it a
    success, which such a session is not shown to be)."""
    state = session.get("state")  # (is_running inlined: the rules ask this ~10 times a session, issue 18)
    if state in RUNNING_STATES:
        return False
    if state == STATE_COMPLETED or session.get("_end") is not None:
        return True
    return session.get("result") not in _NOT_AN_OUTCOME


def state_says_finished(session):
    """EM says Completed, or says nothing (an answer without State: the end time decides, is_finished).

    FACTS 5.2 [DOC]: a task session is InProgress, Pending or Completed. Any other State (a value of a
    later EM, a job session's state, another spelling the reader did not map) is no evidence that the
    run finished, so its Success is no evidence of a point (is_success); it still counts as finished
    when it has an end time, so that a failure in it stays a failure (rules.last_failed names it)."""
    state = session.get("state")
    return state is None or state == "" or state == STATE_COMPLETED


def is_success(session, accept_warnings):
    """Did this session produce a usable restore/replica point under the policy?"""
    # is_finished and state_says_finished, inlined (the rules' most asked test, issue 18): a state that says
    # finished (Completed, or none) is not a running one, so finished is Completed, or none with an end time.
    state = session.get("state")
    if not (state == STATE_COMPLETED or ((state is None or state == "") and session.get("_end") is not None)):
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


def readable_end(item, created):
    """An item's end time as the rules take it: None when it cannot be read or is before the creation
    (em_parse already sets placeholder times to None; FACTS 6)."""
    ended = _readable_time(item.get("end_time"))
    return ended if ended is not None and ended >= created else None


def job_unsettled(item, created):
    """A job session EM may still change: not Stopped, or Stopped without an end (readable_end). The history
    cache's job part covers nothing from the oldest such window job session on (em_compliance_read.JobPages)."""
    return item.get("state") != "Stopped" or readable_end(item, created) is None


_JOB_SESSION_URN = "urn:veeam:BackupJobSession:"


def job_session_key(uid):
    """A compact key of a backup job session UID, for the sets of UIDs held at 50,000 VMs (~23,000): the 16
    bytes of its GUID (any case), or the UID in lower case when it is not ``urn:veeam:BackupJobSession:<GUID>``."""
    text = str(uid or "")
    if len(text) == 63 and text[:27].lower() == "urn:veeam:backupjobsession:":
        try:
            return bytes.fromhex(text[27:].replace("-", ""))
        except ValueError:
            pass
    return text.lower()


def job_session_uid(key):
    """The UID of a job_session_key (EM's own spelling: urn:veeam:BackupJobSession:<lower-case GUID>)."""
    if isinstance(key, bytes):
        text = key.hex()
        return "%s%s-%s-%s-%s-%s" % (_JOB_SESSION_URN, text[:8], text[8:12], text[12:16], text[16:20], text[20:])
    return key


def job_type_index(job_sessions):
    """Job types of the job sessions read: by job session UID, and by (server, job name) for task
    sessions whose job session was not read (a job's type does not change). A job session without a
    JobType is indexed too, with None: it was read, its type is unknown (fold.kind_of tells the two apart)."""
    by_uid, by_job, typed_at = {}, {}, {}
    for item in job_sessions or []:
        if not isinstance(item, dict):
            continue
        if item.get("uid"):
            by_uid[str(item["uid"]).lower()] = item.get("job_type") or None
        note_job_type(by_job, item, typed_at)
    return by_uid, by_job


def job_key(item):
    """(lower server name, lower job name): how a job is told apart when its session is not read."""
    return str(item.get("backup_server_name") or "").lower(), str(item.get("job_name") or "").lower()


def note_job_type(by_job, item, typed_at):
    """File a job session's type under its job_key: the type of the job's newest typed session (type_wins), as
    em_compliance_read.JobPages types the jobs before the window - not the last in the list, which is the order
    the pages arrived in (a job created again under its name with another type). A known type is not replaced by
    a missing one. ``typed_at``: {job_key: creation time of the session whose type is filed}."""
    note_type(by_job, typed_at, job_key(item), item.get("job_type") or None, readable_creation_time(item))


def note_type(by_job, typed_at, key, job_type, created):
    """File ``job_type`` of a session created at ``created`` under ``key`` when it names the job's type
    (type_wins over the one filed); None only marks the job as read while no type is known."""
    if job_type is None:
        by_job.setdefault(key, None)
    elif key not in typed_at or type_wins(job_type, created, by_job[key], typed_at[key]):
        by_job[key], typed_at[key] = job_type, created


def type_wins(job_type, created, kept_type, kept_created):
    """Whether a session's JobType ``job_type`` created at ``created`` names its job's type over the one kept
    (``kept_type`` of a session created at ``kept_created``): the newer session's (a time that cannot be read,
    None, is older than any), and at equal times the type that is not a source backup's (then the greater
    name): sessions of one instant arrive in any order, and a copy's success must never stand for a backup."""
    def rank(kind, moment):  # (False, None) before any readable time; two Nones compare equal, never as times
        return (moment is not None, moment, not is_source_backup_type(kind), str(kind))
    return rank(job_type, created) > rank(kept_type, kept_created)


def is_source_backup_type(job_type):
    """A JobType whose task sessions make backups (not a copy: BackupSync, BackupCopy, ImmediateBackupCopy...)."""
    return str(job_type).lower() in SOURCE_BACKUP_JOB_TYPES


def server_key(session):
    """Backup servers are told apart by UID, else by name (case-insensitive)."""
    return server_key_of(session.get("backup_server_uid"), session.get("backup_server_name"))


def server_key_of(uid, name):
    """server_key of a session whose backup server UID and name are ``uid`` and ``name`` (the fold's records)."""
    if uid:
        return str(uid).lower()
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


def digest_history(sessions):
    """The sessions of the history that can change a verdict: per VM, job and result the newest.

    The history only decides which VMs must be judged and when each last succeeded: the newest
    session of every (backup server, VM, job, result) answers both, whatever the accept_warnings
    policy and the include/exclude patterns, for a few items per VM instead of a month of
    sessions (116,000 at 5,000 VMs). Items without a parseable creation time are dropped here and
    counted by the fold of the window as usual (fold.SessionFold.add_history keeps the same rule).
    """
    newest = {}
    fold_history(newest, sessions)
    return [item for _created, item in newest.values()]


def readable_creation_time(item):
    """A history item's creation time, or None when the item is not a dict or its time cannot be read
    (such items are left out of the history digest: the window read reports unreadable items)."""
    if not isinstance(item, dict):
        return None
    try:
        return parse_time(item.get("creation_time"))
    except ValueError:
        return None


def fold_history(newest, sessions):
    """Fold sessions into ``newest`` ({key: (creation time, item)}), the digest_history of every
    session folded so far. The reader folds page by page, so a month of sessions is never held."""
    for item in sessions or []:
        created = readable_creation_time(item)
        if created is None:
            continue
        key = (server_key(item), str(item.get("vm_uid") or "").lower(), str(item.get("vm_display_name") or "").lower(),
               str(item.get("job_name") or "").lower(), item.get("result"), is_running(item))
        if key not in newest or created > newest[key][0]:
            newest[key] = (created, item)
