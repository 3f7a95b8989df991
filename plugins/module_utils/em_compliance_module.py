# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The body of the veeam_em_compliance_info module: check the options, read EM into the session
fold (em_compliance_read), judge, write or render the reports, free memory, answer.

Split from em_compliance_read (issue 16: one home for each concern): that file reads EM and is
shared with the inventory plugin, the event source and the benchmark; this one is the module's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gc
from datetime import datetime, timezone

from ansible_collections.backupops.veeam_em.plugins.module_utils import (
    em_client, em_compliance, em_compliance_report, em_connection, em_module, em_query, em_secrets, em_time)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance_read import (
    argument_spec, evaluation_time, history_plan, judge_read, new_fold, planned_reads, run_reads, view_limits)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMError
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import history_cache


# From how many VMs (the fold's groups: one per backup server and VM) the full rows are held compressed. Measured
# (tests/performance/module_phases.py, session 10): at 50,000 VMs x 30 days the rows as dicts raised the module's
# peak from 295 to 349 MB (~1.1 KB a row, past the 300 MB target); at 5,000 VMs compressing them cost ~0.45 s of
# the evaluation and reports (pickle, zlib, a decompression per pass) for no lower peak (the reads' 79 MB). Here
# the dicts cost at most ~22 MB more than the compressed rows. One bound with the history cache's child writer (a
# second copy of per-VM data is what breaks the 300 MB target in both): history_cache.WRITE_BESIDE_BELOW_VMS.
PACK_ROWS_FROM = history_cache.WRITE_BESIDE_BELOW_VMS
# A ``now`` this far before the controller's clock replays a past night: warned, and marked in the window (never a
# failure, never another verdict - tests, the demo and the emulator replay fixed nights on purpose). A day, so a run
# given this morning's time (a scheduler that passes the night's start) is not told it replays.
REPLAY_WARN_HOURS = 24


def _prepare(module):
    """The policy, paging and ``now``, checked before any request; a bad value fails the module outright.
    Returns (now, bounded, start, the empty session fold)."""
    params = module.params
    em_query.check_paging(params)
    em_compliance_report.check_options(params)
    now, bounded = evaluation_time(params)
    fold = new_fold(params, now)
    start = em_compliance.window_start(now, params["lookback_days"])
    return now, bounded, start, fold


def _read(module, now, bounded, start, fold, cache=None):
    """Log on, read (the task sessions into ``fold``), log off; returns (client or None, items, queries, error).

    Connection options that cannot work (no credentials, a malformed session id) are an error of
    the read, like a refused logon: nothing is sent, and the verdicts say ``read_error`` with the
    reason, so that the role's reports name it.
    """
    params = module.params
    items, queries, error, client = {}, {}, None, None
    try:
        client = em_client.EMClient(em_module.connection_options(module), media_type=params["media_type"])
        with client:
            items, queries, error = run_reads(client, planned_reads(params), now, start, bounded,
                                              params["page_size"], params["concurrency"], fold, cache)
    except EMError as failure:
        error = error or failure
    return client, items, queries, error


def one_malloc_arena():
    """Ask glibc for one malloc arena for the threads started from now on (issue 18).

    The pager's threads download, parse and fold pages; by default glibc gives each thread an arena
    of its own, and the fold's strings, spread over four arenas between freed page trees, stay
    resident: at 5,000 VMs x 30 days the read peaked at 135 MB with per-thread arenas and 102 MB
    with one (MALLOC_ARENA_MAX=1; the threads wait on the network, not on malloc). The environment
    variable is read when the process starts, too late for a module; ``mallopt(M_ARENA_MAX)`` is
    the same setting at run time. Elsewhere (musl, macOS, Windows) there is nothing to do.
    """
    try:
        import ctypes
        ctypes.CDLL(None).mallopt(-8, 1)  # M_ARENA_MAX, glibc malloc.h
    except (AttributeError, OSError, TypeError, ValueError):
        pass


def release_memory():
    """Between the phases (issue 18): collect what cycles hold and hand glibc's free pages back
    (malloc_trim), so the next phase's peak starts from what is live, not from the last one's high water."""
    gc.collect()
    try:
        import ctypes
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError, TypeError, ValueError):
        pass


def run_compliance_info_module():
    """The whole of veeam_em_compliance_info: validate, read, evaluate, return only the verdicts."""
    module = em_module.create_module(argument_spec())
    one_malloc_arena()
    try:
        now, bounded, start, fold = _prepare(module)
    except (EMError, em_compliance.ComplianceInputError, em_compliance_report.ReportInputError) as error:
        em_module.fail(module, error)
        return
    # the history cache (issue 18), written by a child process while this one evaluates and writes the reports
    cache = history_plan(module.params, now, start, module.check_mode, write_beside=True)
    try:
        _judge_and_answer(module, now, bounded, start, fold, cache)
    finally:
        cache.wait()  # never a writer left running: also when the evaluation or the reports raised


def _judge_and_answer(module, now, bounded, start, fold, cache):
    """Read, judge, write the reports, answer (run_compliance_info_module's body past the options)."""
    client, items, queries, error = _read(module, now, bounded, start, fold, cache)
    release_memory()  # the freed page trees of the read handed back before the evaluation builds its rows
    read_errors = [em_module.error_message(module, error, client)] if error else []
    limits = view_limits(client, module.params, items, queries)
    # a big fleet's full rows held compressed (em_rows.PackedRows, issue 18): read row by row by the reports, compact
    # and exit; a smaller one's as dicts (the reports and compact read each row once per pass: no decompression)
    compliance = judge_read(module.params, fold, items, read_errors, limits, packed=len(fold.groups) >= PACK_ROWS_FROM,
                            queries=queries, walk_beside=True,
                            warn=lambda text: module.warn(em_module.scrub(text, module, client)))
    compliance["source"] = source(module.params, client)
    mark_replay(module, compliance["window"])  # before the reports: the JSON report carries the window whole
    fold = items = None  # the records left the fold with the evaluation; the rest is not needed again
    release_memory()  # the fold's table and the read's job sessions handed back before the reports
    result = outputs(module.params, compliance, module.check_mode)
    compliance = None  # with detail=compact the full rows (day grids) are only in the reports: freed here
    release_memory()
    cache.wait()  # what the child wrote, or why not, in cache.outcome
    # the cache's texts name backup servers and paths in EM's words, some lower-cased (ansible-core's no_log masks
    # only the case it was given): through the one scrubber, as every text that leaves the collection
    result.update(queries=queries, requests=client.requests_sent if client else 0,
                  history_cache=em_secrets.scrub_data(cache.outcome))
    # result_format=json: the evaluation as one JSON text (compliance_json), one value for ansible-core to carry
    as_text = "compliance_json" if module.params["result_format"] == "json" else None
    if result.get("report_error") or error:  # fail_json's answer holds lists only (detail=full: the packed rows)
        result = em_module.plain_result(result, "vms", "compliance", as_text)
    if result.get("report_error") and not error:  # asked for and not written: said loudly, never a quiet pass
        # report_error stays in the answer: the role tells this failure (the verdicts are in it) from one before
        # any verdict, and never renders the reports from the compact rows (they carry no findings)
        module.fail_json(msg=result["report_error"], **result)
        return
    if error:
        em_module.fail(module, error, client, **result)
        return
    em_module.warn_client(module, client)
    # the VM rows written one batch at a time, not copied whole by exit_json (50,000 compact rows: 24 MB of JSON)
    em_module.exit_with_items(module, result, "vms", within="compliance", as_text=as_text)


def utc_clock():
    """The controller's clock (UTC); a test replaces it."""
    return datetime.now(timezone.utc)


def replay_hours(now):
    """How many hours ``now`` is before the controller's clock when that is more than REPLAY_WARN_HOURS, else None
    (``now`` not given, recent, or ahead of the clock)."""
    if not now:
        return None
    try:
        behind = (utc_clock() - em_time.parse_iso(now)).total_seconds() / 3600.0
    except (TypeError, ValueError):  # checked before the read (_prepare): not reached
        return None
    return round(behind, 1) if behind > REPLAY_WARN_HOURS else None


def mark_replay(module, window):
    """A ``now`` left in group_vars replays the same past night every night, reported as tonight's: said in a
    warning and in ``window.replayed`` / ``window.replay_hours`` (the role's summary and the reports show them)."""
    hours = replay_hours(module.params.get("now"))
    window["replayed"] = hours is not None
    window["replay_hours"] = hours
    if hours is not None:
        module.warn("now=%s is %s hours (%.1f days) before the controller's clock (UTC): this run replays a past "
                    "night and its verdicts are not tonight's. Leave now unset (the role's veeam_em_compliance_now) "
                    "for a nightly run." % (module.params["now"], hours, hours / 24.0))


def summary_only(compliance):
    """The evaluation without its VM rows (``detail=summary``, issue 18): no ``vms`` key at all, so that
    no caller reads an empty list as "no VM"; the counts (``summary``), the findings (``violations``,
    ``warnings``, ``errors``), servers and jobs stay. The rows are in the reports."""
    slim = dict(compliance)
    slim.pop("vms", None)
    return slim


def source(params, client):
    """Which EM was read and as whom, for the report header (issue 17); never a secret."""
    account = getattr(client, "user_name", None) if client else None
    return {"em_server": (client.base if client else None) or shown_server(params.get("server")),
            "username": account or params.get("username")}


def shown_server(server):
    """The ``server`` option as reports may show it when no client was built from it: a value with
    ``user:password@`` (refused by em_connection before any request) loses everything before the '@'."""
    userinfo = em_connection.server_userinfo(server)
    return server.replace(userinfo + "@", "", 1) if userinfo else server


def outputs(params, compliance, check_mode=False):
    """``compliance`` (full, compact or without VM rows), ``report_files`` (written to ``report_dir``, from
    the full one) or ``reports`` (the asked documents as text, without ``report_dir``), and ``report_error``.

    Report texts carry EM's words (a session's reason, a read error's message) and are written to
    files and mailed outside Ansible's no_log masking, so each passes through the one scrubber
    (em_secrets.scrub): a password or token EM echoes in a reason is masked in every format.
    """
    found = dict(reports={}, report_files={})
    try:  # with report_dir the module writes the files (no text through Ansible); without, it returns the text
        if not check_mode:  # an info module changes nothing in check mode, files included
            found["report_files"] = em_compliance_report.write_for_module(params, compliance, em_secrets.scrub)
    except em_compliance_report.ReportWriteError as failure:
        found["report_error"] = em_secrets.scrub(str(failure))
    if not params.get("report_dir"):
        reports = em_compliance_report.render(compliance, params["report_formats"], title=params["report_title"])
        found["reports"] = dict((name, em_secrets.scrub(text)) for name, text in reports.items())
    if params["detail"] == "compact":
        compliance = em_compliance.compact(compliance)
    elif params["detail"] == "summary":
        compliance = summary_only(compliance)
    found["compliance"] = compliance
    return found
