# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The flat finding lists, the row order and the summary counts of an evaluation.

FOR INTERNAL COLLECTION USE ONLY: the public front is module_utils/em_compliance.py; names here may
change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.vocabulary import (
    KIND_BACKUP, KIND_REPLICA, SEVERITY_RANK, STATUS_COMPLIANT, STATUS_ERROR, STATUS_VIOLATION, STATUS_WARNING)


def finding_text(item):
    """One line a person can read in a job log: 'server / vm: code - message'."""
    parts = (item.get("backup_server_name"), item.get("vm_display_name")
             or (("job " + str(item.get("job_name"))) if item.get("scope") == "job" else None))
    where = " / ".join(str(part) for part in parts if part) or "(all)"
    return "%s: %s - %s" % (where, item["code"], item["message"])


def flatten(rows, servers, global_findings, severity, jobs=()):
    """List of findings of one severity with their VM/server/job, for the violations list."""
    return flatten_all(rows, servers, global_findings, jobs, (severity,))[0][severity]


def flatten_all(rows, servers, global_findings, jobs=(), severities=(STATUS_VIOLATION, STATUS_WARNING, STATUS_ERROR),
                on_row=None):
    """({severity: flatten's list} for each of ``severities``, status_of every finding), in one pass over
    the rows (issue 18: they may be em_rows.PackedRows, where each pass decompresses every row; the
    evaluation's result made five). Each list is in flatten's order: global, servers, VMs, jobs.
    ``on_row`` is called with each row on the way (the summary's counts of the rows)."""
    lists = dict((severity, []) for severity in severities)
    worst = [STATUS_COMPLIANT]
    # ``where`` in the order the keys follow a finding's own (the result's JSON is unchanged)
    _file(lists, worst, global_findings, _where("global"))
    for server in servers:
        if server["findings"]:
            _file(lists, worst, server["findings"],
                  _where("server", server=(server["backup_server_name"], server["backup_server_uid"])))
    for row in rows:
        if row["findings"]:
            _file(lists, worst, row["findings"], _where("vm", (row["vm_display_name"], row["vm_uid"]),
                                                        (row["backup_server_name"], row["backup_server_uid"])))
        if on_row is not None:
            on_row(row)
    for job in jobs:
        if job["findings"]:
            _file(lists, worst, job["findings"], _where("job", server=(job["backup_server_name"], None)))
    for items in lists.values():
        for item in items:
            item["text"] = finding_text(item)
    return lists, worst[0]


def _where(scope, vm=(None, None), server=(None, None)):
    return {"scope": scope, "vm_display_name": vm[0], "vm_uid": vm[1], "backup_server_name": server[0],
            "backup_server_uid": server[1]}


def _file(lists, worst, findings, where):
    """Each finding, with ``where`` (its scope and VM/server), to the list of its severity; the worst
    severity as status_of takes it (the first of the highest rank)."""
    for item in findings:
        severity = item["severity"]
        if SEVERITY_RANK[severity] > SEVERITY_RANK[worst[0]]:
            worst[0] = severity
        if severity in lists:
            lists[severity].append(dict(item, **where))


def sort_rows(rows, on_row=None):
    """Violations first, then warnings, then by server and VM name; in place (a list, or em_rows.PackedRows,
    whose ``sort`` is stable as ``list.sort``), returns ``rows``. ``on_row`` is called with each row once, as
    its key is computed (both sorts call the key once a row): servers.ServerStatuses, no pass of its own."""
    found_nul = []

    def key(row):
        if on_row is not None:
            on_row(row)
        return _row_order_text(row, found_nul)
    rows.sort(key=key)
    if found_nul:  # sorted again by the tuples: rows of equal tuples had equal texts, so stable still holds
        rows.sort(key=_row_order)
    return rows


def _row_order(row):
    return (-SEVERITY_RANK[row["status"]], str(row["backup_server_name"] or "").lower(),
            str(row["vm_display_name"] or "").lower(), str(row["vm_uid"] or ""))


def _row_order_text(row, found_nul):
    """_row_order as one string (issue 18: 50,000 tuples of four were ~12 MB while the rows are sorted):
    the severity as one character, then the texts joined with NUL, the least character. Strings compare
    as the tuples do as long as no text holds a NUL (a text that is a prefix of another sorts first both
    ways); with one, ``found_nul`` is told (its text is empty) and sort_rows sorts again by the tuples."""
    rank, server, name, uid = _row_order(row)
    if "\x00" in server or "\x00" in name or "\x00" in uid:
        found_nul.append(True)
        return ""
    return "%s\x00%s\x00%s\x00%s" % (chr(ord("5") + rank), server, name, uid)


def public_policy(policy):
    return {key: (list(value) if isinstance(value, list) else value) for key, value in policy.items()}


class RowCounts(object):
    """summary_counts' counts of the VM rows, taken one row at a time (flatten_all's ``on_row``)."""

    def __init__(self):
        self.total, self.statuses, self.from_history = 0, {}, 0

    def __call__(self, row):
        self.total += 1
        self.statuses[row["status"]] = self.statuses.get(row["status"], 0) + 1
        self.from_history += row.get("in_window") is False


def summary_counts(rows, servers, violations, warnings, counts, ignored, no_data, jobs=(), errors=(), row_counts=None):
    """``counts``: backups, replicas and in_window over every session read; scoped_window and per
    kind (KIND_BACKUP, KIND_REPLICA) over the in-scope sessions of the window (em_compliance).
    ``row_counts``: a RowCounts that was given every row of ``rows`` (else the rows are counted here:
    one pass, as they may be em_rows.PackedRows, a decompression each)."""
    reasons = {}
    for item in list(errors) + violations + warnings:
        reasons[item["code"]] = reasons.get(item["code"], 0) + 1
    read = counts["backups"] + counts["replicas"]
    if row_counts is None:
        row_counts = RowCounts()
        for row in rows:
            row_counts(row)
    statuses, from_history = row_counts.statuses, row_counts.from_history
    return {
        "vms_total": row_counts.total,
        "vms_compliant": statuses.get(STATUS_COMPLIANT, 0),
        "vms_warning": statuses.get(STATUS_WARNING, 0),
        "vms_violation": statuses.get(STATUS_VIOLATION, 0),
        "servers_total": len(servers),
        "servers_silent": sum(1 for server in servers if server["status"] == STATUS_VIOLATION),
        "vms_from_history": from_history,
        "violations_total": len(violations),
        "warnings_total": len(warnings),
        "errors_total": len(errors),
        "reasons": reasons,
        "no_data": no_data,
        "sessions_read": read + ignored,
        "backup_sessions": counts[KIND_BACKUP],
        "replica_sessions": counts[KIND_REPLICA],
        "sessions_outside_window": read - counts["in_window"],
        "sessions_excluded": counts["in_window"] - counts["scoped_window"],
        "sessions_ignored": ignored,
        "jobs_total": len(jobs),
        "jobs_failed": sum(1 for job in jobs if job["failed"]),
        "jobs_retried": sum(1 for job in jobs if job["retries"]),
    }
