# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Info modules of job sessions: the job sessions, and optionally their task sessions, no N+1.

EM offers ``GET /backupSessions/{id}/taskSessions`` per job session; reading it for every job
session is one request per session (the "6-7 hours on 1000 VMs" pattern of em-api-facts.md 6).
Instead the task sessions of many job sessions are read with the query service:

    GET /api/query?type=BackupTaskSession&format=Entities&sortAsc=CreationTime&pageSize=...
        &filter=CreationTime>="<earliest job session start - 1 min>";
                (JobSessionUid=="urn:...:<a>",JobSessionUid=="urn:...:<b>",...)

one query (walked page by page) per batch of ``TASK_SESSION_BATCH`` job sessions, then grouped
client-side by ``job_session_uid``. The batch bounds the URL length (each OR clause is ~100
characters once percent-encoded: 40 of them stay under 4 KB, below every common URL limit).
The ``CreationTime`` lower bound is redundant for correctness (a task session never starts
before its job session) but lets EM use its time index instead of scanning every task session.
A "same window" filter was rejected: a task session may start after the job session window
ends, and a window returns task sessions of job sessions that were not asked for.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_filter_expr, em_module, em_parse

TASK_SESSION_BATCH = 40
START_MARGIN = datetime.timedelta(minutes=1)


def _batches(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _before(moment):
    """``moment`` less START_MARGIN; a creation time EM gives within a minute of year 1 stays as it is
    (the subtraction overflowed: a traceback instead of the task sessions)."""
    try:
        return moment - START_MARGIN
    except OverflowError:
        return moment


def task_session_filter(job_sessions, task_resource):
    """The filter expression for the task sessions of ``job_sessions`` (one batch)."""
    job_kind = task_resource.field("job_session_uid").uid_kind
    uids = [em_filter_expr.canonical_uid(session["uid"], job_kind, "include_task_sessions")
            for session in job_sessions if session.get("uid")]
    clauses = []
    starts = [session.get("creation_time") for session in job_sessions]
    if uids and all(starts):
        earliest = min(em_filter_expr.parse_datetime(start, "include_task_sessions") for start in starts)
        clauses.append(em_filter_expr.comparison("CreationTime", ">=",
                                                 em_filter_expr.format_filter_datetime(_before(earliest)),
                                                 "include_task_sessions"))
    clauses.append(em_filter_expr.any_of("JobSessionUid", uids, "include_task_sessions"))
    return em_filter_expr.all_of(clauses)


def attach_task_sessions(client, job_sessions, task_resource, page_size, concurrency,
                         batch_size=TASK_SESSION_BATCH):
    """Set ``task_sessions`` (a list, oldest first) on every job session; returns the query summary."""
    grouped = {}
    summary = {"type": task_resource.query_type, "batches": 0, "pages": 0, "requests": 0}
    with_uid = [session for session in job_sessions if session.get("uid")]
    for batch in _batches(with_uid, batch_size):
        filter_expr = task_session_filter(batch, task_resource)
        items, info = client.query(task_resource, filter_expr, "CreationTime", "asc", page_size,
                                   concurrency=concurrency)
        summary["batches"] += 1
        summary["pages"] += info.pages
        summary["requests"] += info.requests
        for item in items:
            grouped.setdefault(item.get("job_session_uid"), []).append(item)
    for session in job_sessions:
        session["task_sessions"] = grouped.get(session.get("uid"), [])
    return summary


def warn_incomplete(client, items, resource):
    """Items without UID or creation time are kept, and said (the client's warnings reach the module)."""
    warning = em_parse.incomplete_items_warning(items, resource)
    if warning:
        client.warnings.append(warning)


def run_job_session_info_module(resource, task_resource):
    """A job-session info module: the shared info runner plus ``include_task_sessions``."""

    def attach(client, items, params):
        task_query = None
        if params["include_task_sessions"]:
            task_query = attach_task_sessions(client, items, task_resource, params["page_size"],
                                              params["concurrency"])
            warn_incomplete(client, [task for item in items for task in item["task_sessions"]], task_resource)
        else:
            for item in items:
                item["task_sessions"] = None
        return {"task_session_query": task_query}

    em_module.run_resource_info_module(
        resource, extra_options={"include_task_sessions": dict(type="bool", default=False)}, after_read=attach)
