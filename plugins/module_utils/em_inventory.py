# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The inventory plugin's reading and host building, kept out of the plugin so it is testable.

The reading is the compliance module's (em_compliance_read: the same queries, fields, window and
evaluation); only the error handling differs: an inventory that cannot read EM must not hand out a
partial host list, so any read failure is raised instead of being turned into a ``no_data`` row.
Host building turns each VM row of the evaluation into one host with ``veeam_`` variables.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.backupops.veeam_em.plugins.module_utils import (
    em_client, em_compliance, em_compliance_read, em_errors, em_query)

# Its old home: the class lives in em_errors with every other exception of module_utils.
InventoryReadError = em_errors.InventoryReadError

HOSTNAME_CHOICES = ("vm_name", "vm_name_server")
# A "{" that opens a Jinja2 block: ansible-core before 2.19 templates the text of inventory_hostname
# where a playbook uses it, and VM names are written by whoever may rename a VM (not the Ansible
# operator). The "{" becomes "_"; the VM's own name stays in veeam_vm_name (marked unsafe by the plugin).
TEMPLATE_OPENER_RE = re.compile(r"\{(?=[{%#])")
# Reading options of veeam_em_compliance_info that mean nothing to an inventory (no reports).
NOT_FOR_INVENTORY = ("detail", "result_format", "report_formats", "report_title", "report_dir", "report_basename", "report_history",
                     "report_trend_days", "report_html_max_rows", "report_mode",
                     # the history cache lives in report_dir (issue 18): an inventory reads the whole history
                     "history_cache", "history_cache_overlap_hours", "history_full_read_days",
                     "history_cache_window")


def read_params(options):
    """The compliance reader's parameters: its argspec defaults overlaid with the given options."""
    params = {}
    for key, spec in em_compliance_read.argument_spec().items():
        if key in NOT_FOR_INVENTORY:
            continue
        params[key] = spec.get("default")
        if options.get(key) is not None:
            params[key] = options[key]
    return params


def validate(params):
    """Paging and policy checked before any request (raises EMValidationError / ComplianceInputError)."""
    em_query.check_paging(params)
    em_compliance.build_policy(em_compliance_read.policy_options(params))


def new_client(connection, params, session=None):
    """The EM client of one refresh (``connection``: em_client.ConnectionOptions; ``session``: tests)."""
    return em_client.EMClient(connection, media_type=params["media_type"], session=session)


def read_evaluation(client, params):
    """Log on, read the window, log off; the evaluation.

    Any failed read raises (EMError), after the logoff: the caller must not build hosts from a
    part of the window.
    """
    validate(params)
    now, bounded = em_compliance_read.evaluation_time(params)
    start = em_compliance.window_start(now, params["lookback_days"])
    fold = em_compliance_read.new_fold(params, now)
    with client:
        items, _queries, error = em_compliance_read.run_reads(
            client, em_compliance_read.planned_reads(params), now, start, bounded,
            params["page_size"], params["concurrency"], fold)
        if error is not None:
            raise error
    return em_compliance_read.judge_read(params, fold, items, [])


def global_problems(evaluation):
    """The evaluation's findings that concern no VM: (fatal, warnings) messages.

    ``no_data`` (nothing read, nothing in the window or nothing in scope) is fatal: an empty
    inventory would read as "EM protects nothing". Other global findings (unreadable sessions)
    are warnings: what was readable is judged.
    """
    fatal, warnings = [], []
    for item in evaluation.get("violations", []) + evaluation.get("warnings", []):
        if item.get("scope") != "global":
            continue
        text = "%s: %s" % (item.get("code"), item.get("message"))
        (fatal if item.get("code") == em_compliance.NO_DATA else warnings).append(text)
    return fatal, warnings


def _round(value):
    return round(value, 2) if isinstance(value, float) else value


def _kind_vars(prefix, summary):
    """The latest facts of one kind (backup, replica, copy) as host variables; None when absent."""
    summary = summary or {}
    return {
        "veeam_last_%s_time" % prefix: summary.get("last_session_time"),
        "veeam_last_%s_state" % prefix: summary.get("last_state"),
        "veeam_last_%s_result" % prefix: summary.get("last_result"),
        "veeam_last_%s_success_time" % prefix: summary.get("last_success_time"),
        "veeam_last_%s_success_end_time" % prefix: summary.get("last_success_end_time"),
        "veeam_last_%s_age_hours" % prefix: _round(summary.get("last_success_age_hours")),
        "veeam_%s_sessions" % prefix: summary.get("sessions", 0),
    }


def host_vars(row, evaluation):
    """The ``veeam_`` variables of one VM row of the evaluation."""
    backup = row.get("backup") or {}
    replica = row.get("replica") or {}
    result = {
        "veeam_vm_name": row.get("vm_display_name"),
        "veeam_vm_uid": row.get("vm_uid"),
        "veeam_backup_server": row.get("backup_server_name"),
        "veeam_backup_server_uid": row.get("backup_server_uid"),
        "veeam_jobs": list(row.get("jobs") or []),
        "veeam_expected": bool(row.get("expected")),
        "veeam_status": row.get("status"),
        "veeam_reasons": list(row.get("reasons") or []),
        "veeam_findings": [dict((key, item.get(key)) for key in ("code", "severity", "kind", "message", "time"))
                           for item in row.get("findings") or []],
        "veeam_last_restore_point_uid": backup.get("last_restore_point_uid"),
        "veeam_last_replica_point_uid": replica.get("last_restore_point_uid"),
        "veeam_replica_state": _replica_state(row.get("replica")),
        "veeam_evaluated_at": evaluation.get("generated_at"),
    }
    result.update(_kind_vars("backup", row.get("backup")))
    result.update(_kind_vars("replica", row.get("replica")))
    result.update(_kind_vars("copy", row.get("copy")))
    return result


def _replica_state(summary):
    """``none`` (not replicated), ``running``, or the newest replica session's result in lower case."""
    if not summary:
        return "none"
    if summary.get("running") and summary.get("last_state") in em_compliance.RUNNING_STATES:
        return "running"
    return str(summary.get("last_result") or summary.get("last_state") or "unknown").lower()


def _name_key(name):
    return str(name or "").lower()


def hostnames(rows, choice="vm_name"):
    """One distinct inventory name per row, in row order.

    ``vm_name``: the VM name; a name held by more than one row (names compared ignoring case: the
    same VM protected by two backup servers, or two VMs named alike) becomes ``name@server`` for
    every row that holds it. ``vm_name_server``: always ``name@server``. A name that is still not
    unique (two VMs of one name on one server) gets ``#<vm_uid>`` (or ``#<n>``) appended. No name
    opens a template: ``{{``, ``{%`` and ``{#`` become ``_{``, ``_%``, ``_#`` (TEMPLATE_OPENER_RE).
    """
    if choice not in HOSTNAME_CHOICES:
        raise em_compliance.ComplianceInputError("option hostnames: %r is not one of %s"
                                                 % (choice, ", ".join(HOSTNAME_CHOICES)))
    counts = {}
    for row in rows:
        counts[_name_key(row.get("vm_display_name"))] = counts.get(_name_key(row.get("vm_display_name")), 0) + 1
    names = []
    for row in rows:
        name = str(row.get("vm_display_name") or row.get("vm_uid") or "unnamed")
        server = row.get("backup_server_name") or row.get("backup_server_uid")
        if server and (choice == "vm_name_server" or counts[_name_key(row.get("vm_display_name"))] > 1):
            name = "%s@%s" % (name, server)
        names.append(name)
    return _unique(names, rows)


def _inert(name):
    """``name`` without a template opener (the same length: appending keeps names distinct)."""
    return TEMPLATE_OPENER_RE.sub("_", name)


def _unique(names, rows):
    """Distinct names, made inert after every suffix (a trailing "{" and "#<uid>" would open a comment)."""
    names = [_inert(name) for name in names]
    taken, counts = set(), {}
    for name in names:
        counts[_name_key(name)] = counts.get(_name_key(name), 0) + 1
    result = []
    for index, (name, row) in enumerate(zip(names, rows)):
        if counts[_name_key(name)] > 1:
            name = _inert("%s#%s" % (name, row.get("vm_uid") or index + 1))
        while _name_key(name) in taken:
            name = _inert("%s#%d" % (name, index + 1))
        taken.add(_name_key(name))
        result.append(name)
    return result


def hosts(evaluation, choice="vm_name"):
    """(hostname, variables) for every VM row of the evaluation, in its order (worst first)."""
    rows = evaluation.get("vms", [])
    return [(name, host_vars(row, evaluation)) for name, row in zip(hostnames(rows, choice), rows)]


def server_vars(evaluation):
    """Backup server name -> group variables (status and reasons of the server rules)."""
    result = {}
    for server in evaluation.get("servers", []):
        if server.get("backup_server_name"):
            result[server["backup_server_name"]] = {
                "veeam_server_status": server.get("status"),
                "veeam_server_reasons": list(server.get("reasons") or []),
                "veeam_server_last_session_time": server.get("last_session_time"),
            }
    return result
