# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the lookback window from EM and evaluate it in the same process.

Why a reader of its own: the info modules hand every session back to Ansible, and at 5,000 VMs
(~43,000 sessions a week) most of the nightly run went into AnsibleModule's result scrubbing
and ansible-core's templating of that list, not into EM or the evaluation. Here the sessions
stay in this process, are read with only the keys the rules use, and only the verdicts leave.

One logon (or the caller's session), then one query per resource, each walked page by page
(pages in parallel once the page count is known), sorted by creation time ascending so that
sessions created while the walk runs land after the pages already read. A read that fails stops
the reading; what was read is still evaluated, with a ``no_data`` finding that names the error.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import datetime, timezone

from ansible_collections.backupops.veeam_em.plugins.module_utils import (
    em_client, em_compliance, em_compliance_report, em_module, em_query, em_resources)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMError


# The policy options that are one word of a fixed set (validated again by em_compliance.build_policy).
CHOICES = {"failed_job_severity": em_compliance.FAILED_JOB_SEVERITIES,
           "expected_vm_match": em_compliance.EXPECTED_VM_MATCHES}


class Read(object):
    """One query of the window: what it is for, what it asks, and whether the policy wants it."""

    def __init__(self, key, resource, fields, windowed):
        self.key = key
        self.resource = resource.project(fields)
        self.windowed = windowed


def planned_reads(params):
    """The queries the options call for, in the order they are sent."""
    reads = [Read("backup_task_sessions", em_resources.BACKUP_TASK_SESSION,
                  em_compliance.BACKUP_TASK_SESSION_FIELDS, True)]
    if params["check_replicas"]:
        reads.append(Read("replica_task_sessions", em_resources.REPLICA_TASK_SESSION,
                          em_compliance.REPLICA_TASK_SESSION_FIELDS, True))
    if params["known_servers_from_em"]:
        reads.append(Read("backup_servers", em_resources.BACKUP_SERVER, em_compliance.BACKUP_SERVER_FIELDS, False))
    if params["check_jobs"]:
        reads.append(Read("backup_job_sessions", em_resources.BACKUP_JOB_SESSION,
                          em_compliance.JOB_SESSION_FIELDS, True))
        if params["check_replicas"]:
            reads.append(Read("replica_job_sessions", em_resources.REPLICA_JOB_SESSION,
                              em_compliance.JOB_SESSION_FIELDS, True))
    return reads


def evaluation_time(params):
    """``now`` as given, or the current UTC second; and whether it bounds the window above.

    A given ``now`` replays an evaluation, so sessions created after it must not count. The
    current time does not bound it: a backup server whose clock runs ahead of the controller's
    would otherwise have its newest sessions dropped.
    """
    if params.get("now"):
        return params["now"], True
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), False


def window_filters(read, now, start, bounded):
    """The EM filter of one read: the creation-time window, or nothing for the server list."""
    if not read.windowed:
        return None
    params = {"created_after": start, "created_before": now if bounded else None}
    return em_query.build_filter(read.resource, params)


def policy_options(params):
    """The evaluation options of the module's parameters (the keys of DEFAULT_POLICY)."""
    return {key: params[key] for key in em_compliance.DEFAULT_POLICY if key in params and key != "read_errors"}


def run_reads(client, reads, now, start, bounded, page_size, concurrency):
    """Every planned query; returns (items by key, query summaries, error or None).

    The first failure stops the reading (a session that broke, a role without the rights):
    the later reads would fail the same way and only add requests.
    """
    items, queries = {}, {}
    for read in reads:
        resource = read.resource
        sort = em_query.sort_field(resource, resource.default_sort)
        try:
            found, info = client.query(resource, window_filters(read, now, start, bounded), sort, "asc", page_size,
                                       concurrency=concurrency)
        except EMError as error:
            queries[read.key] = {"type": resource.query_type, "failed": True}
            return items, queries, error
        items[read.key] = found
        summary = info.as_dict()
        summary["items"] = len(found)
        queries[read.key] = summary
    return items, queries, None


def known_servers(params, items):
    """Backup servers that must report: the given names plus every server EM knows."""
    names = list(params.get("known_backup_servers") or [])
    for server in items.get("backup_servers", []):
        if server.get("name") and server["name"] not in names:
            names.append(server["name"])
    return names


def evaluate(params, now, items, read_errors):
    """The compliance verdicts of what was read (the same rules as the filter)."""
    options = policy_options(params)
    options["known_backup_servers"] = known_servers(params, items)
    options["read_errors"] = read_errors
    job_sessions = items.get("backup_job_sessions", []) + items.get("replica_job_sessions", [])
    return em_compliance.evaluate(items.get("backup_task_sessions", []),
                                  replica_sessions=items.get("replica_task_sessions", []), now=now,
                                  job_sessions=job_sessions, **options)


def argument_spec():
    """The policy options (doc fragment compliance_policy) plus reading options; connection is added by em_module."""
    spec = dict(
        now=dict(type="str"),
        check_replicas=dict(type="bool", default=True),
        check_jobs=dict(type="bool", default=True),
        known_servers_from_em=dict(type="bool", default=True),
        page_size=dict(type="int", default=em_query.DEFAULT_PAGE_SIZE),
        concurrency=dict(type="int", default=em_query.DEFAULT_CONCURRENCY),
        media_type=dict(type="str", default=em_query.DEFAULT_MEDIA_TYPE, choices=["json", "xml"]),
        detail=dict(type="str", default="full", choices=["full", "compact"]),
        report_formats=dict(type="list", elements="str", default=[], choices=sorted(em_compliance_report.RENDERERS)),
        report_title=dict(type="str", default="Veeam backup compliance"),
    )
    for key, default in em_compliance.DEFAULT_POLICY.items():
        if key == "read_errors":
            continue
        if isinstance(default, bool):
            spec[key] = dict(type="bool", default=default)
        elif isinstance(default, float):
            spec[key] = dict(type="float", default=default)
        elif key in CHOICES:
            spec[key] = dict(type="str", default=default, choices=list(CHOICES[key]))
        else:
            spec[key] = dict(type="list", elements="raw" if key == "expected_vms" else "str", default=[])
    return spec


def _prepare(module):
    """The policy, paging and ``now``, checked before any request; a bad value fails the module outright."""
    params = module.params
    em_query.check_paging(params)
    now, bounded = evaluation_time(params)
    em_compliance.build_policy(policy_options(params))
    start = em_compliance.window_start(now, params["lookback_days"])
    return now, bounded, start


def _read(module, now, bounded, start):
    """Log on, read, log off; returns (client or None, items, queries, error).

    Connection options that cannot work (no credentials, a malformed session id) are an error of
    the read, like a refused logon: nothing is sent, and the verdicts say ``no_data`` with the
    reason, so that the role's reports name it.
    """
    params = module.params
    items, queries, error, client = {}, {}, None, None
    try:
        client = em_client.EMClient(em_module.connection_options(module), media_type=params["media_type"])
        with client:
            items, queries, error = run_reads(client, planned_reads(params), now, start, bounded,
                                              params["page_size"], params["concurrency"])
    except EMError as failure:
        error = error or failure
    return client, items, queries, error


def run_compliance_info_module():
    """The whole of veeam_em_compliance_info: validate, read, evaluate, return only the verdicts."""
    module = em_module.create_module(argument_spec())
    try:
        now, bounded, start = _prepare(module)
    except (EMError, em_compliance.ComplianceInputError) as error:
        em_module.fail(module, error)
        return
    client, items, queries, error = _read(module, now, bounded, start)
    read_errors = [em_module.error_message(module, error, client)] if error else []
    result = outputs(module.params, evaluate(module.params, now, items, read_errors))
    result.update(queries=queries, requests=client.requests_sent if client else 0)
    if error:
        em_module.fail(module, error, client, **result)
        return
    em_module.warn_client(module, client)
    module.exit_json(changed=False, **result)


def outputs(params, compliance):
    """``compliance`` (full or compact) and ``reports`` (the asked documents, rendered from the full one)."""
    reports = em_compliance_report.render(compliance, params["report_formats"], title=params["report_title"])
    if params["detail"] == "compact":
        compliance = em_compliance.compact(compliance)
    return dict(compliance=compliance, reports=reports)
