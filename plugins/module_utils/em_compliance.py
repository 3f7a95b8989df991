# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
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

import pickle
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
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.expected import ScopeHits, names_match

# The work behind the front.
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_files, em_rows
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import fold as _fold
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import rules as _rules
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.expected import apply_expected
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.jobs import (
    job_rows, jobs_in_scope, prepare_job_sessions)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.rows import (
    apply_unreadable, vm_row, window_days)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.servers import (
    join_server_notes, note_server_session, server_rows, ServerStatuses)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.sessions import (
    job_type_index, _require_now)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.summary import (
    flatten_all, public_policy, RowCounts, sort_rows, summary_counts)

__all__ = (
    "BACKUP_HISTORY_FIELDS", "BACKUP_SERVER_FIELDS", "BACKUP_TASK_SESSION_FIELDS", "build_policy", "compact",
    "COMPACT_VM_KEYS", "ComplianceInputError", "COPY_RPO_EXCEEDED", "DEFAULT_POLICY", "digest_history",
    "evaluate", "evaluate_fold", "EXPECTED_VM_MATCHES", "FAILED_JOB_SEVERITIES", "fold_history", "format_time",
    "HISTORY_DAYS", "HISTORY_FIELDS", "INTERNAL_OPTIONS", "JOB_FAILED", "JOB_RUNNING_STATES", "JOB_SESSION_FIELDS",
    "KIND_BACKUP", "KIND_COPY", "KIND_JOB", "KIND_REPLICA", "LAST_BACKUP_FAILED", "LAST_BACKUP_WARNING",
    "LAST_COPY_FAILED", "LAST_COPY_WARNING", "LAST_REPLICA_FAILED", "LAST_REPLICA_WARNING", "LONG_RUNNING",
    "names_match", "NEVER_BACKED_UP", "NO_DATA", "parse_time", "PARTIAL_VIEW", "READ_ERROR", "REASON_CODES",
    "RECOVERED_FAILURE", "REPLICA_HISTORY_FIELDS", "REPLICA_RPO_EXCEEDED", "REPLICA_TASK_SESSION_FIELDS",
    "RESULT_FAILED", "RESULT_SUCCESS", "RESULT_WARNING", "RPO_EXCEEDED", "RUNNING_STATES", "SERVER_SILENT",
    "session_fold", "STATE_COMPLETED", "STATUS_COMPLIANT", "STATUS_ERROR", "STATUS_VIOLATION", "STATUS_WARNING",
    "STUCK_SESSION", "TASK_SESSION_FIELDS", "UNREADABLE_SESSIONS", "window_start")


def evaluate(backup_sessions, replica_sessions=None, now=None, job_sessions=None, **options):
    """Evaluate task sessions against the policy; see veeam_em_compliance.yml for the shape.

    The lists are fed to the same fold as the module's pages (one set of rules, two feeders)."""
    fold = session_fold(now, **options)
    fold.add(backup_sessions, KIND_BACKUP)
    fold.add(replica_sessions, KIND_REPLICA)
    return evaluate_fold(fold, job_sessions)


def session_fold(now, **options):
    """An empty fold for ``now`` and the policy ``options`` (checked here, before any session):
    feed it with ``add(items, kind)`` (the window) and ``add_history(items, kind)`` page by page,
    then call evaluate_fold. The reader (em_compliance_read) folds EM's pages as they arrive."""
    now_time = _require_now(now)
    policy = build_policy(options)
    fold = _fold.SessionFold(policy, now_time - timedelta(days=policy["lookback_days"]))
    fold.now, fold.options = now_time, dict(options)
    return fold


def evaluate_fold(fold, job_sessions=None, packed=False, jobs_complete=False, job_types=None, job_types_by_uid=None,
                  walk_beside=False, warn=None, **late_options):
    """The verdicts of the sessions folded; ``late_options`` are the policy options known only after
    reading (known_backup_servers from EM, read_errors, view_limits).

    ``packed``: the VM rows (``vms``) are an em_rows.PackedRows, not a list (issue 18: the module's
    50,000 full rows, held compressed while it writes the reports from them); the same rows in the
    same order, read as a sequence. Callers that hand the result to Ansible keep the list.

    ``jobs_complete``: ``job_sessions`` are every job session EM has from the history start on (the
    module's read, em_compliance_read.window_filters): a backup task session whose job is not among them
    at all is then judged as a copy, never as a backup (fold.kind_of, job_type_unknown). Job sessions a
    caller of the filter passes may be a selection, so there an unknown job still counts as a backup.
    ``job_types``: {(lower server name, lower job name): job type} of job sessions read before the window
    and not passed in ``job_sessions`` (em_compliance_read.JobPages keeps no more of them); ``job_types_by_uid``:
    {lower job session UID: job type} of those before the window that window task sessions name (JobPages.by_uid,
    also read by UID: em_compliance_read.read_named_job_sessions).
    ``walk_beside``: half of the VMs walked by a child process (_walk_vms); ``warn``: called with the text of a
    child that did not answer (the module's warning: the verdicts are the same, only later)."""
    policy = build_policy(dict(fold.options, **late_options)) if late_options else fold.policy
    now_time, start = fold.now, fold.start
    days = window_days(start, now_time)
    prepared_jobs = prepare_job_sessions(job_sessions)
    fold.settle()
    index = job_type_index(job_sessions)
    for key, job_type in (job_types or {}).items():  # a type of the window's own sessions wins
        if index[1].get(key) is None:
            index[1][key] = job_type
    for uid, job_type in (job_types_by_uid or {}).items():
        index[0].setdefault(uid, job_type)
    walked = _walk_vms(fold, index, jobs_complete, start, now_time, policy, days,
                       em_rows.PackedRows() if packed else [], beside=walk_beside and not packed, warn=warn)
    rows = walked["rows"]
    unreadable_findings = apply_unreadable(rows, fold.unreadable, fold.uids, policy)
    apply_expected(rows, policy["expected_vms"], policy)
    statuses = ServerStatuses(walked["servers"], policy)  # taken as the rows are sorted (one pass less)
    hits = ScopeHits(policy)
    rows = sort_rows(rows, on_row=lambda row: (statuses(row), hits(row)))
    servers = server_rows(walked["servers"], fold.last_seen, rows, now_time, policy, fold.ahead_seen, statuses)
    counts = walked["counts"]
    jobs = jobs_in_scope(job_rows(prepared_jobs, start, policy, now_time), walked["ran"], policy)
    global_findings, no_data = _global_findings(counts, fold.ignored, policy, job_sessions, unreadable_findings,
                                                _rules.scope_unmatched(hits.unmatched(servers, jobs, lambda: (
                                                    _fold.record_view(record) for record in fold.excluded_records()))))
    return _result(counts, fold.ignored, policy, now_time, start, days, rows, servers, jobs, global_findings, no_data)


# From how many VMs (the fold's groups) the module's walk is split between it and a child process (_walk_vms).
# Measured (issue 18, session 12, module_phases.py at 5,000 VMs): the walk is ~1.7 s of the evaluation's ~2.1 s of
# CPU, one core, while the other holds only the history cache's writer (HistoryCache.save, ~1 s); a fork and the
# rows sent back cost a few hundredths of a second, worth it from about a thousand VMs. Never with rows packed
# (from 20,000 VMs): the child's copy of the fold's pages would break the 300 MB target.
WALK_BESIDE_FROM_VMS = 1000


def _walk_vms(fold, index, jobs_complete, start, now_time, policy, days, rows, beside=False, warn=None):
    """One VM at a time: its sessions as dicts (typed by their job), its row (appended to ``rows``),
    then they go.

    Also what the servers, jobs and counts need of the in-scope sessions.

    ``beside``: from WALK_BESIDE_FROM_VMS VMs the later half of the VMs (in walk order) is walked by a child
    process (em_files.Beside: Python work, which a thread would do in turn under the GIL) while this one walks
    the first; its rows, servers, jobs and counts come back pickled and are joined after this half's, as one walk
    gives them (join_server_notes; counts added, lists in order). A child that fails or ends without an answer
    changes nothing but the time: this process walks that half itself (its groups are let go only once the
    child answered), and ``warn`` is told why (a child the system killed - out of memory in a container with a
    memory limit - is said, not hidden)."""
    walk = _new_walk(index, jobs_complete, start)
    counts = walk["counts"]
    _count(counts, fold.excluded_records(), index, start)   # the summary's sessions_*: in scope or not
    cells, times = {}, (start, now_time, policy, days)
    plan = fold.walk_plan()
    child, later = None, plan[len(plan) // 2:]
    if beside and len(plan) >= WALK_BESIDE_FROM_VMS:
        child = em_files.Beside.start(
            lambda: _walked_beside(fold, later, _new_walk(index, jobs_complete, start), times), "evaluating")
    _walk_part(fold, plan if child is None else plan[:len(plan) // 2], walk, rows, cells, times)
    if child is not None:
        answer, why = child.wait()   # no answer: this half is walked here (see the docstring)
        if answer is None:
            if warn is not None:
                warn("the evaluation's second process did not answer (%s): the module walked its %d of the %d VMs "
                     "itself, the verdicts are the same" % (why, len(later), len(plan)))
            _walk_part(fold, later, walk, rows, cells, times)
        else:
            fold.drop(later)
            _join_walk(walk, rows, cells, pickle.loads(answer))
    return {"rows": rows, "servers": walk["servers"], "ran": walk["ran"], "counts": counts}


def _new_walk(index, jobs_complete, start):
    walk = {"servers": {}, "ran": set(), "index": index, "start": start, "by_index": index if jobs_complete else None,
            "typed_jobs_read": jobs_complete and bool(index[0] or index[1])}
    walk["counts"] = {"backups": 0, "replicas": 0, "in_window": 0, "job_type_unknown": 0, "scoped_window": 0,
                      KIND_BACKUP: 0, KIND_REPLICA: 0, KIND_COPY: 0, "job_unseen": [], "job_untyped": []}
    return walk


def _walk_part(fold, plan, walk, rows, cells, times):
    """The VMs of ``plan`` (SessionFold.walk_plan) walked: their rows appended to ``rows``, noted in ``walk``."""
    start, now_time, policy, days = times
    for _key, records in fold.vm_groups(plan):
        group = [_walked_session(record, walk) for record in records]
        rows.append(_share_cells(vm_row(group, start, now_time, policy, days), cells))


def _walked_beside(fold, plan, walk, times):
    """In the child process of _walk_vms: its part of the VMs walked into a fresh ``walk``; the answer pickled."""
    rows = []
    _walk_part(fold, plan, walk, rows, {}, times)
    return pickle.dumps((rows, walk["servers"], walk["ran"], walk["counts"]), pickle.HIGHEST_PROTOCOL)


def _join_walk(walk, rows, cells, answer):
    """The child's part of the walk (_walked_beside) after this process's, as one walk gives them."""
    more_rows, servers, ran, counts = answer
    for row in more_rows:
        rows.append(_share_cells(row, cells))
    join_server_notes(walk["servers"], servers)
    walk["ran"] |= ran
    for key, value in counts.items():
        walk["counts"][key] += value   # numbers added, lists in walk order


def _walked_session(record, walk):
    """The session dict of one in-scope record (typed by its job), counted (_count's counts with the
    job type found once) and noted for its server and job."""
    counts, start = walk["counts"], walk["start"]
    backup = _fold.base_kind(record) == KIND_BACKUP
    job_type = _fold.job_type_of(record, walk["index"]) if backup else None
    created = _fold.created(record)
    counts["backups" if backup else "replicas"] += 1
    if created >= start:
        counts["in_window"] += 1
        counts["scoped_window"] += 1
        if backup and job_type is None:
            counts["job_type_unknown"] += 1
    kind = _fold.kind_of(record, job_type, walk["by_index"])
    session = _fold.as_session(record, kind)
    if backup:
        session["_job_type"] = job_type
        if job_type is None and kind == KIND_COPY:  # its job not read at all: not a backup (kind_of)
            counts["job_unseen"].append(session.get("uid") or session.get("name"))
        elif job_type is None and walk["typed_jobs_read"]:  # its job read, without a JobType: counted as a backup
            counts["job_untyped"].append(session.get("job_name") or session.get("uid") or session.get("name"))
    if created >= start:
        counts[kind] += 1
    note_server_session(walk["servers"], session, _fold.sort_key(record), start)
    walk["ran"].add((str(session.get("backup_server_name") or "").lower(), str(session.get("job_name") or "").lower()))
    return session


def _share_cells(row, cells):
    """One dict for each distinct day-grid cell ({date, cell, sessions}) of the evaluation: at 50,000
    VMs the grids were ~400,000 small dicts with a few dozen distinct values. Nothing changes a
    cell once made (the rows are read by the reports and the JSON encoder only)."""
    for kind in (KIND_BACKUP, KIND_REPLICA, KIND_COPY):
        summary = row.get(kind)
        if summary and summary.get("daily"):
            summary["daily"] = [cells.setdefault((cell["date"], cell["cell"], cell["sessions"]), cell)
                                for cell in summary["daily"]]
    return row


def _count(counts, records, index, start):
    for record in records:
        backup = _fold.base_kind(record) == KIND_BACKUP
        counts["backups" if backup else "replicas"] += 1
        if _fold.created(record) >= start:
            counts["in_window"] += 1
            if backup and _fold.job_type_of(record, index) is None:
                counts["job_type_unknown"] += 1


def _global_findings(counts, ignored, policy, job_sessions, unreadable_findings, scope_findings=()):
    """(findings that belong to no VM, server or job; whether the run had no data to judge)."""
    found = _rules.read_error(policy["read_errors"])
    found += _rules.partial_view(policy["view_limits"], policy["allow_partial_view"])
    # After a failed read "EM returned nothing" is not news: the read_error says why.
    missing = [] if policy["read_errors"] else _rules.no_data(
        counts["backups"] + counts["replicas"] + ignored, counts["in_window"], counts["scoped_window"],
        policy["lookback_days"])
    found += missing
    found += _rules.job_type_unknown(counts["job_unseen"], counts["job_untyped"])
    no_data = bool(missing) or any(item["code"] == READ_ERROR for item in found)
    # Named, not counted only (issue 13); they are not "no data": what was readable is judged.
    found += unreadable_findings + _rules.unreadable_job_sessions(job_sessions)
    if not no_data:  # a pattern that selects nothing after a failed or empty read is no news: that finding says why
        found += list(scope_findings)
    return found, no_data


def _result(counts, ignored, policy, now_time, start, days, rows, servers, jobs, global_findings, no_data):
    # one pass over the rows (a PackedRows decompresses each row every pass)
    row_counts = RowCounts()
    lists, overall = flatten_all(rows, servers, global_findings, jobs, on_row=row_counts)
    violations, warnings, errors = lists[STATUS_VIOLATION], lists[STATUS_WARNING], lists[STATUS_ERROR]
    return {
        "status": overall,
        # Only a run that read EM in full and found no violation is compliant: an error (EM not
        # read, or read in part) is not a pass.
        "compliant": overall in (STATUS_COMPLIANT, STATUS_WARNING),
        "generated_at": format_time(now_time),
        "window": {"start": format_time(start), "end": format_time(now_time),
                   "lookback_days": policy["lookback_days"], "days": days},
        "policy": public_policy(policy),
        "summary": dict(summary_counts(rows, servers, violations, warnings, counts, ignored, no_data, jobs, errors,
                                       row_counts),
                        copy_sessions=counts[KIND_COPY],
                        backup_sessions_job_type_unknown=counts["job_type_unknown"]),
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
