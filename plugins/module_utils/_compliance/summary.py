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
    KIND_BACKUP, KIND_REPLICA, SEVERITY_RANK, STATUS_COMPLIANT, STATUS_VIOLATION, STATUS_WARNING)


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
    """Violations first, then warnings, then by server and VM name; in place (a list, or em_rows.PackedRows,
    whose ``sort`` is stable as ``list.sort``), returns ``rows``."""
    found_nul = []
    rows.sort(key=lambda row: _row_order_text(row, found_nul))
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


def summary_counts(rows, servers, violations, warnings, counts, ignored, no_data, jobs=(), errors=()):
    """``counts``: backups, replicas and in_window over every session read; scoped_window and per
    kind (KIND_BACKUP, KIND_REPLICA) over the in-scope sessions of the window (em_compliance)."""
    reasons = {}
    for item in list(errors) + violations + warnings:
        reasons[item["code"]] = reasons.get(item["code"], 0) + 1
    read = counts["backups"] + counts["replicas"]
    statuses, from_history = {}, 0  # one pass: the rows may be em_rows.PackedRows (a decompression each)
    for row in rows:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
        from_history += row.get("in_window") is False
    return {
        "vms_total": len(rows),
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
