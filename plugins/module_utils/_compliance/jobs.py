# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Job rows: a job's chain of runs with retry information and its findings (rules.job_failed ...).

FOR INTERNAL COLLECTION USE ONLY: the public front is module_utils/em_compliance.py; names here may
change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.policy import (
    in_scope)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.rules import (
    job_findings, status_of, unique_codes)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.sessions import (
    format_time, parse_time, _readable_time)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.vocabulary import (
    ComplianceInputError, JOB_FAILED, JOB_RUNNING_STATES, RESULT_FAILED, RESULT_SUCCESS, RESULT_WARNING,
    SEVERITY_RANK)


def jobs_in_scope(jobs, ran, policy):
    """With VM patterns, only the jobs that ran an in-scope VM (the job and server patterns are
    applied by job_rows): a team scoped to its VMs must not see other teams' failed jobs. ``ran``:
    the (lower server name, lower job name) of the in-scope task sessions."""
    if not (policy["include_vms"] or policy["exclude_vms"]):
        return jobs
    return [job for job in jobs
            if (str(job.get("backup_server_name") or "").lower(), str(job.get("job_name") or "").lower()) in ran]


def _job_key(session):
    uid = session.get("job_uid")
    if uid:
        return "uid:" + str(uid).lower()
    return "name:%s|%s" % (str(session.get("backup_server_name") or "").lower(), str(session.get("job_name") or "").lower())


def prepare_job_sessions(job_sessions):
    """Job sessions (veeam_em_*_job_session_info items) with a parsed creation time; the others are
    named by rules.unreadable_job_sessions."""
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
    rows = [job_row(sessions, now, policy) for sessions in groups.values()]
    return sorted(rows, key=lambda row: (-SEVERITY_RANK[row["status"]], str(row["backup_server_name"] or "").lower(),
                                         str(row["job_name"] or "").lower()))


def job_row(sessions, now, policy):
    """The row of one job: its chain of runs (sorted here) and its findings (rules.job_findings)."""
    sessions.sort(key=lambda s: (s["_created"], s.get("uid") or ""))
    last = sessions[-1]
    finished = [s for s in sessions if s.get("state") not in JOB_RUNNING_STATES]
    last_finished = finished[-1] if finished else None
    recovered = bool(last_finished is not None and last_finished.get("is_retry")
                     and last_finished.get("result") in (RESULT_SUCCESS, RESULT_WARNING)
                     and any(s.get("result") == RESULT_FAILED for s in finished[:-1]))
    last_result = last_finished.get("result") if last_finished else None
    findings = job_findings(finished, now, policy)
    return {
        "job_name": last.get("job_name"),
        "job_uid": last.get("job_uid"),
        "job_id": last.get("job_id"),
        "job_type": last.get("job_type"),
        "backup_server_name": last.get("backup_server_name"),
        "status": status_of(findings),
        "sessions": len(sessions),
        "retries": sum(1 for s in sessions if s.get("is_retry")),
        "failed_sessions": sum(1 for s in sessions if s.get("result") == RESULT_FAILED),
        "running": last.get("state") in JOB_RUNNING_STATES,
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
    }
