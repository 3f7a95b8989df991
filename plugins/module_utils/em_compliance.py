# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup and replica compliance evaluation of Veeam EM task sessions: the public front.

Everything that decides *whether a VM is protected* is small pure functions, so every rule can be
unit-tested with hand-made sessions and a fixed ``now`` (no clock, no network, no Ansible needed).
It is in module_utils because two callers share it: the ``veeam_em_compliance`` filter (sessions
already read by the info modules) and the ``veeam_em_compliance_info`` module, which reads and
evaluates in one process so that only the verdicts, not tens of thousands of sessions, cross into
Ansible's result and templating layers.

This file is the only door: ``evaluate``, ``compact``, ``window_start``, the field lists, the
policy defaults, the reason codes and ``ComplianceInputError``. The work is done in the private
package ``_compliance`` (the shape of amazon.aws module_utils/autoscaling.py over _autoscaling/):
vocabulary, policy, sessions, rules (every finding), rows, expected, jobs, servers, summary.
docs/CONTRACTS.md "Where does X live" maps each rule to its function.

Input items are the normalised task-session dicts of docs/CONTRACTS.md section 2.
Documentation of the rules is in plugins/filter/veeam_em_compliance.yml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import timedelta

# The names other files import from here (plugins, extensions, tools, tests) are re-exported.
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.vocabulary import (
    BACKUP_HISTORY_FIELDS, BACKUP_SERVER_FIELDS, BACKUP_TASK_SESSION_FIELDS, COMPACT_VM_KEYS,
    ComplianceInputError, COPY_RPO_EXCEEDED, EXPECTED_VM_MATCHES, FAILED_JOB_SEVERITIES, HISTORY_DAYS,
    HISTORY_FIELDS, JOB_FAILED, JOB_RUNNING_STATES, JOB_SESSION_FIELDS, KIND_BACKUP, KIND_COPY, KIND_JOB,
    KIND_REPLICA, LAST_BACKUP_FAILED, LAST_BACKUP_WARNING, LAST_COPY_FAILED, LAST_COPY_WARNING,
    LAST_REPLICA_FAILED, LAST_REPLICA_WARNING, LONG_RUNNING, NEVER_BACKED_UP, NO_DATA, PARTIAL_VIEW,
    READ_ERROR, REASON_CODES, RECOVERED_FAILURE, REPLICA_HISTORY_FIELDS, REPLICA_RPO_EXCEEDED,
    REPLICA_TASK_SESSION_FIELDS, RESULT_FAILED, RESULT_SUCCESS, RESULT_WARNING, RPO_EXCEEDED, RUNNING_STATES,
    SERVER_SILENT, STATE_COMPLETED, STATUS_COMPLIANT, STATUS_ERROR, STATUS_VIOLATION, STATUS_WARNING,
    STUCK_SESSION, TASK_SESSION_FIELDS, UNREADABLE_SESSIONS)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.policy import (
    DEFAULT_POLICY, INTERNAL_OPTIONS, build_policy)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.sessions import (
    digest_history, fold_history, format_time, parse_time, window_start)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.expected import names_match

# The work behind the front.
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import rules as _rules
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.expected import apply_expected
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.jobs import (
    job_rows, jobs_in_scope, prepare_job_sessions)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.policy import in_scope, session_in_scope
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.rows import (
    apply_unreadable, vm_rows, window_days)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.rules import status_of
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.servers import server_rows
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.sessions import (
    classify_backups, job_type_index, prepare_sessions, _require_now)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.summary import (
    flatten, public_policy, sort_rows, summary_counts)

__all__ = (
    "BACKUP_HISTORY_FIELDS", "BACKUP_SERVER_FIELDS", "BACKUP_TASK_SESSION_FIELDS", "build_policy", "compact",
    "COMPACT_VM_KEYS", "ComplianceInputError", "COPY_RPO_EXCEEDED", "DEFAULT_POLICY", "digest_history",
    "evaluate", "EXPECTED_VM_MATCHES", "FAILED_JOB_SEVERITIES", "fold_history", "format_time", "HISTORY_DAYS",
    "HISTORY_FIELDS", "INTERNAL_OPTIONS", "JOB_FAILED", "JOB_RUNNING_STATES", "JOB_SESSION_FIELDS",
    "KIND_BACKUP", "KIND_COPY", "KIND_JOB", "KIND_REPLICA", "LAST_BACKUP_FAILED", "LAST_BACKUP_WARNING",
    "LAST_COPY_FAILED", "LAST_COPY_WARNING", "LAST_REPLICA_FAILED", "LAST_REPLICA_WARNING", "LONG_RUNNING",
    "names_match", "NEVER_BACKED_UP", "NO_DATA", "parse_time", "PARTIAL_VIEW", "READ_ERROR", "REASON_CODES",
    "RECOVERED_FAILURE", "REPLICA_HISTORY_FIELDS", "REPLICA_RPO_EXCEEDED", "REPLICA_TASK_SESSION_FIELDS",
    "RESULT_FAILED", "RESULT_SUCCESS", "RESULT_WARNING", "RPO_EXCEEDED", "RUNNING_STATES", "SERVER_SILENT",
    "STATE_COMPLETED", "STATUS_COMPLIANT", "STATUS_ERROR", "STATUS_VIOLATION", "STATUS_WARNING",
    "STUCK_SESSION", "TASK_SESSION_FIELDS", "UNREADABLE_SESSIONS", "window_start")


def evaluate(backup_sessions, replica_sessions=None, now=None, job_sessions=None, **options):
    """Evaluate task sessions against the policy; see veeam_em_compliance.yml for the shape."""
    now_time = _require_now(now)
    policy = build_policy(options)
    start = now_time - timedelta(days=policy["lookback_days"])
    days = window_days(start, now_time)
    read = _prepare(backup_sessions, replica_sessions, job_sessions, policy, start)

    rows = vm_rows(read["scoped"], start, now_time, policy, days)
    unreadable_findings = apply_unreadable(rows, read["unreadable"], read["scoped"], policy)
    apply_expected(rows, policy["expected_vms"], policy)
    rows = sort_rows(rows)
    servers = server_rows(read["scoped"], rows, now_time, policy, activity=read["activity"], start=start)
    global_findings, no_data = _global_findings(read, policy, job_sessions, unreadable_findings)
    jobs = jobs_in_scope(job_rows(read["jobs"], start, policy, now_time), read["scoped"], policy)
    return _result(read, policy, now_time, start, days, rows, servers, jobs, global_findings, no_data)


def _prepare(backup_sessions, replica_sessions, job_sessions, policy, start):
    """The sessions read, prepared and cut by what the evaluation does with each set."""
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
    return {"backups": backups, "replicas": replicas, "ignored": ignored_backups + ignored_replicas,
            "unreadable": unreadable, "jobs": prepared_jobs, "read": read, "in_window": in_window,
            "activity": activity, "scoped": scoped,
            "scoped_window": [s for s in scoped if s["_created"] >= start]}


def _global_findings(read, policy, job_sessions, unreadable_findings):
    """(findings that belong to no VM, server or job; whether the run had no data to judge)."""
    found = _rules.read_error(policy["read_errors"])
    found += _rules.partial_view(policy["view_limits"], policy["allow_partial_view"])
    # After a failed read "EM returned nothing" is not news: the read_error says why.
    missing = [] if policy["read_errors"] else _rules.no_data(
        len(read["read"]) + read["ignored"], len(read["in_window"]), len(read["scoped_window"]),
        policy["lookback_days"])
    found += missing
    no_data = bool(missing) or any(item["code"] == READ_ERROR for item in found)
    # Named, not counted only (issue 13); they are not "no data": what was readable is judged.
    found += unreadable_findings + _rules.unreadable_job_sessions(job_sessions)
    return found, no_data


def _result(read, policy, now_time, start, days, rows, servers, jobs, global_findings, no_data):
    violations = flatten(rows, servers, global_findings, STATUS_VIOLATION, jobs)
    warnings = flatten(rows, servers, global_findings, STATUS_WARNING, jobs)
    errors = flatten(rows, servers, global_findings, STATUS_ERROR, jobs)
    overall = status_of(global_findings + [f for s in servers for f in s["findings"]]
                        + [f for r in rows for f in r["findings"]] + [f for j in jobs for f in j["findings"]])
    backups, scoped_window = read["backups"], read["scoped_window"]
    return {
        "status": overall,
        # Only a run that read EM in full and found no violation is compliant: an error (EM not
        # read, or read in part) is not a pass.
        "compliant": overall in (STATUS_COMPLIANT, STATUS_WARNING),
        "generated_at": format_time(now_time),
        "window": {"start": format_time(start), "end": format_time(now_time),
                   "lookback_days": policy["lookback_days"], "days": days},
        "policy": public_policy(policy),
        "summary": dict(summary_counts(rows, servers, violations, warnings, backups, read["replicas"],
                                       read["in_window"], scoped_window, read["ignored"], no_data, jobs, errors),
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


def compact(result):
    """The evaluation with one small row per VM, for callers that keep it in Ansible variables.

    At 5,000 VMs the full rows are ~7 MB and ~600,000 values, and ansible-core's result and
    templating layers cost about a second per megabyte of them; compact rows are ~6%% of that.
    """
    slim = dict(result)
    slim["vms"] = [dict((key, row.get(key)) for key in COMPACT_VM_KEYS) for row in result["vms"]]
    return slim
