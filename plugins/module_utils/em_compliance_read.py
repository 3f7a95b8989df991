# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Read the lookback window from EM and evaluate it in the same process.

Why a reader of its own: the info modules hand every session back to Ansible, and at 5,000 VMs
(~43,000 sessions a week) most of the nightly run went into AnsibleModule's result scrubbing
and ansible-core's templating of that list, not into EM or the evaluation. Here the sessions
stay in this process, are read with only the keys the rules use, and only the verdicts leave.

Folded as they arrive (issue 18). The task-session pages are not collected: each page, as the
client parses it (pages in parallel, in any order), goes into the session fold of
em_compliance.session_fold (_compliance/fold.py: one packed record per session under its backup
server and VM, a session read twice kept once by its UID), then the rules run one VM at a time
(judge_read -> em_compliance.evaluate_fold). At 50,000 VMs x 30 days that is 430,000 window
sessions that no longer exist as dicts at the same time; tests/performance/README.md has the
figures.

One logon (or the caller's session), one probe of the account's reach, then one query per
resource, each walked page by page (pages in parallel once the page count is known), sorted by
creation time ascending so that sessions created while the walk runs land after the pages
already read. A read that fails stops the reading; what was read is still evaluated, with a
``read_error`` finding (status ``error``) that names the error.

The history. The VMs to judge are every VM EM remembers, not only those of the lookback window:
a VM removed from its job, or whose job was deleted, has no session in the window after a week,
and must be reported (``rpo_exceeded`` with its real age), not vanish. So the task sessions of
the history EM keeps before the window (30 days, FACTS 6) are read too, with the identity keys
only (em_compliance.BACKUP_HISTORY_FIELDS), newest first, and folded page by page into the newest
session per VM, job and result (SessionFold.add_history), so a month of sessions is never held: at 5,000
VMs 116,000 sessions become ~11,000. Measured against the emulator (30 days, page size 1000, no
latency), the choices were:

  ====================================  ===========================  ============================
  what is read for the history          300 VMs                      5,000 VMs
  ====================================  ===========================  ============================
  task sessions before the window       7 + 2 (replica) requests     117 + 23 requests, 4.9 + 0.9 s
  (identity keys)                       0.5 s                        (the window: 36 + 8, 2.2 s)
  VmRestorePoint (all points)           9 requests, 0.4 s            146 requests, 7.6 s
  ====================================  ===========================  ============================

  The whole module run at 5,000 VMs: 51 requests without the history, 191 with it; peak RSS
  155 MB -> about 190 MB (folded page by page; holding the month compressed was about the same,
  a list of dicts several times more).

Most of the history does not change from one night to the next: with ``report_dir`` the module
keeps what the fold made of it in a history cache beside the reports (_compliance/history_cache.py,
issue 18), and a later night folds the cache back in (like a page) and reads from EM only the
history after it, from the cached end minus an overlap (``history_cache_overlap_hours``) up to
the window start; the whole history every ``history_full_read_days`` and whenever the cache does
not fit (another EM or account, a gap, a cache from a later ``now``). With ``history_cache_window``
the cache keeps the window's sessions too (all of them, all the window fields), and a warm night reads
the window's task sessions only from ``cache.window_read_from`` and sends no history query when the
cache holds the whole history (its summary says ``skipped``, skipped_history). The query summaries of
the history reads carry the range read (``created_after``, ``created_before``), and with the cache
those of the window's task sessions too. The running sessions of every page bound what the cache
covers through the fold (SessionFold.on_running: one is_running per item).

Restore points are more requests (every kept point, also older than 30 days), carry no job name
(the include/exclude job patterns could not apply) and miss a VM that only ever failed; job
objects (``type=Job``) list the VMs a job has *now*, so a VM removed from its job is exactly the
one they miss, and only a Portal Administrator may read them. Task sessions keep one identity, one
scope and one time line for the window and the history.

The account's reach. EM has no "who am I" for roles (FACTS 1.3): a Portal User's view is the
part of EM in its scope, with no error and no marker. The probe is ``type=Job`` with page size 1
(one request of one small entity), which EM refuses with 403 to every role but Portal
Administrator [DOC: security_roles_concept]. Refused, the account's view is partial: a
``partial_view`` finding names the account and what it cannot see (view_limits). [UNCONFIRMED]
What exactly a real Portal User misses (whole backup servers, or VMs of a server) is not
documented; the emulator hides one whole backup server.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pickle
import threading
from datetime import datetime, timezone

from ansible_collections.backupops.veeam_em.plugins.module_utils import (
    em_compliance, em_compliance_report, em_files, em_parse, em_query, em_resources, em_rows, em_time)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMError, EMForbiddenError
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import history_cache
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.sessions import (
    job_key, job_session_key, job_session_uid, job_unsettled, note_type, readable_creation_time)


WINDOW = "window"
HISTORY = "history"


# The policy options that are one word of a fixed set (validated again by em_compliance.build_policy).
CHOICES = {"failed_job_severity": em_compliance.FAILED_JOB_SEVERITIES,
           "expected_vm_match": em_compliance.EXPECTED_VM_MATCHES}


class Read(object):
    """One query: what it is for, what it asks, and its time span (WINDOW, HISTORY or None)."""

    def __init__(self, key, resource, fields, windowed):
        self.key = key
        self.resource = resource.project(fields)
        self.windowed = windowed
        # Task sessions are folded as their pages arrive (PageFold); the other reads are kept.
        self.kind = {em_resources.BACKUP_TASK_SESSION.query_type: em_compliance.KIND_BACKUP,
                     em_resources.REPLICA_TASK_SESSION.query_type: em_compliance.KIND_REPLICA}.get(
                         resource.query_type)


def wants_history(params):
    """The history is read unless switched off or the window already covers what EM keeps."""
    lookback = params.get("lookback_days")
    covered = lookback is not None and float(lookback) >= em_compliance.HISTORY_DAYS
    return params.get("read_history", True) and not covered


def planned_reads(params):
    """The queries the options call for, in the order they are sent."""
    reads = [Read("backup_task_sessions", em_resources.BACKUP_TASK_SESSION,
                  em_compliance.BACKUP_TASK_SESSION_FIELDS, WINDOW)]
    if params["check_replicas"]:
        reads.append(Read("replica_task_sessions", em_resources.REPLICA_TASK_SESSION,
                          em_compliance.REPLICA_TASK_SESSION_FIELDS, WINDOW))
    if wants_history(params):
        reads.append(Read("backup_task_history", em_resources.BACKUP_TASK_SESSION,
                          em_compliance.BACKUP_HISTORY_FIELDS, HISTORY))
        if params["check_replicas"]:
            reads.append(Read("replica_task_history", em_resources.REPLICA_TASK_SESSION,
                              em_compliance.REPLICA_HISTORY_FIELDS, HISTORY))
    if params["known_servers_from_em"]:
        reads.append(Read(BACKUP_SERVERS_READ, em_resources.BACKUP_SERVER, em_compliance.BACKUP_SERVER_FIELDS, None))
    if params["check_jobs"]:
        reads.append(Read("backup_job_sessions", em_resources.BACKUP_JOB_SESSION,
                          em_compliance.JOB_SESSION_FIELDS, WINDOW))
        if params["check_replicas"]:
            reads.append(Read("replica_job_sessions", em_resources.REPLICA_JOB_SESSION,
                              em_compliance.JOB_SESSION_FIELDS, WINDOW))
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


def window_filters(read, now, start, bounded, history_from=None, window_from=None, job_from=None):
    """The EM filter of one read: the creation-time window, the history before it (as far back
    as EM keeps sessions, or from ``history_from`` when the history cache gives what is before it),
    or nothing for the server list. ``window_from``: where the window's task-session reads start when
    the history cache holds the window's start; ``job_from``: where the job-session reads start when its
    job part gives what is before it (else the history start)."""
    if not read.windowed:
        return None
    if read.windowed == HISTORY:
        params = {"created_after": history_from or em_compliance.window_start(now, em_compliance.HISTORY_DAYS),
                  "created_before": start}
    elif read.kind:
        params = {"created_after": window_from or start, "created_before": now if bounded else None}
    else:
        # Job sessions from as far back as the task sessions (the history start): the job type of a task
        # session is on its job session (FACTS 6), and a copy job's session can be days older than its
        # task sessions of last night; a task session whose job was not read at all is then not a backup
        # (fold.kind_of). job_rows judges only the window's job sessions.
        params = job_range(now, start, bounded, job_from)
    return em_query.build_filter(read.resource, params)


def job_range(now, start, bounded, job_from=None):
    """The creation-time range of the job-session reads: from ``job_from`` (the history cache's job part
    gives what is before it), else from the history start (or the window start when the window reaches
    further back), to ``now`` when it bounds the window."""
    history_start = em_compliance.window_start(now, em_compliance.HISTORY_DAYS)
    earlier = em_compliance.parse_time(history_start) < (
        start if isinstance(start, datetime) else em_compliance.parse_time(start))
    return {"created_after": job_from or (history_start if earlier else start), "created_before": now if bounded else None}


def policy_options(params):
    """The evaluation options of the module's parameters (the keys of DEFAULT_POLICY)."""
    return {key: params[key] for key in em_compliance.DEFAULT_POLICY
            if key in params and key not in em_compliance.INTERNAL_OPTIONS}


def run_reads(client, reads, now, start, bounded, page_size, concurrency, fold=None, cache=None):
    """Every planned query; returns (items by key, query summaries, error or None).

    With a ``cache`` (history_plan; only with a ``fold``) the history cache is loaded after the probe
    and what it gives is folded; the history reads then start at ``cache.read_from`` (the delta), and
    when every read succeeded the fold's history is written back (before the evaluation settles it).

    The cache's lines are folded while EM's window task sessions are read (CacheLines: a child process or a thread; issue 18,
    ~1.1 s of the warm night at 5,000 VMs hidden behind EM's answers): the ranges read from EM come from the
    cache's header alone. The lines are joined in before the first other read (the history, whose ``kept``
    counts what the cache did not hold; the job sessions, seeded by the cache's job part), and in every case
    before the cache is written and before returning. Lines found broken after EM was read with the delta
    ranges: what was folded is dropped and everything is read again whole (the delta's requests are spent
    twice then; a broken cache is rare, and its verdicts and ``history_cache`` are a full read's as before).

    With a ``fold`` (em_compliance.session_fold) the task sessions go into it page by page as
    the pages arrive and are not in ``items``; without one (the floor of the benchmark) they are
    collected as lists. The first failure stops the reading (a session that broke, a role without
    the rights): the later reads would fail the same way and only add requests. A failed task-session
    query empties the fold (SessionFold.discard): no VM is judged on half of its sessions.
    """
    items, queries = {}, {}
    try:
        queries["account_reach"] = probe_reach(client)
    except EMError as error:
        queries["account_reach"] = {"type": em_resources.JOB.query_type, "failed": True}
        return items, queries, error
    cache = cache if fold is not None and cache is not None and cache.enabled else None
    lines = None
    if cache and any(read.windowed == HISTORY for read in reads):
        reads, listed, error = _servers_first(client, reads, items, queries, page_size, concurrency)
        if error is not None:
            return items, queries, error
        cache.watch(fold)
        if lines_beside_reads(cache):
            lines = CacheLines.start(cache, client, fold, listed)
        else:
            cache.begin(client, fold, listed)
    job_pages = {}
    try:
        error = _query_all(client, reads, (now, start, bounded), page_size, concurrency, fold, cache, lines, items,
                           queries, job_pages)
        if error is _RESTART:
            # The cache's lines were broken (CacheLines.finish: the fold discarded, cache._full): read as a full
            # read, with its ranges; the running sessions the delta showed are noted again by the full read.
            cache.oldest_running = None
            job_pages = {}
            error = _query_all(client, reads, (now, start, bounded), page_size, concurrency, fold, cache, None, items,
                               queries, job_pages)
        if lines is not None:
            lines.finish()  # joined already (before the history); raises what a thread raised
    finally:
        if lines is not None:
            lines.join()  # never left running, whatever the reads raised
    if error is None and cache:
        cache.save(fold, job_pages)
    return items, queries, error


_RESTART = object()   # _query_all: the history cache's lines were broken, read everything again whole


def _query_all(client, reads, times, page_size, concurrency, fold, cache, lines, items, queries, job_pages):
    """run_reads' queries, in order, with the ranges the cache sets; the error that stopped them, None, or _RESTART
    (``lines`` found broken when joined: nothing after them was read)."""
    now, start, bounded = times
    history_from = em_time.format_z(cache.read_from) if cache else None
    window_from = em_time.format_z(cache.window_read_from) if cache else None
    job_from = em_time.format_z(cache.job_read_from) if cache and cache.job_keys else None
    for read in reads:
        resource = read.resource
        sort = em_query.sort_field(resource, resource.default_sort)
        history = read.windowed == HISTORY
        if lines is not None and not (read.kind and read.windowed == WINDOW) and lines.finish() is not None:
            return _RESTART  # joined before the first read that is not the window's task sessions
        if history and cache and not cache.reads_history:
            queries[read.key] = skipped_history(resource, history_from, start)
            continue
        pages = PageFold(resource, fold, read.kind, history) if fold is not None and read.kind else None
        jobs = None
        if fold is not None and read.key in JOB_SESSION_READS:
            jobs = job_pages[read.key] = JobPages(resource, start, cache.note_unsettled_job if cache else None,
                                                  fold.job_session_uids if read.key == BACKUP_JOB_READ else None)
            if cache:  # what the job part gives; the cache lets go of it (JobPages keeps the window's)
                jobs.seed(cache.cached_jobs.pop(read.key, ()), cache.cached_job_types.pop(read.key, ()))
        kept_before = len(fold.history) if pages else 0
        try:
            found, info = client.query(resource, window_filters(read, now, start, bounded, history_from, window_from,
                                                                job_from),
                                       sort, "desc" if history else "asc", page_size, concurrency=concurrency,
                                       normalise=pages.normalise if pages else (jobs.normalise if jobs else None))
        except EMError as error:
            queries[read.key] = {"type": resource.query_type, "failed": True}
            if lines is not None:  # joined before the fold is emptied: the lines' folder feeds it no more
                lines.finish()
            if pages:  # the pages folded before the failure are part of an answer: no verdict on them
                fold.discard()
            return error
        summary = info.as_dict()
        summary["items"] = len(found)
        if pages:
            summary["items"] = pages.read
            if history:
                summary["kept"] = len(fold.history) - kept_before
        elif jobs:
            summary["items"] = jobs.read
            if read.key == BACKUP_JOB_READ:
                try:
                    queries[NAMED_JOB_SESSIONS] = read_named_job_sessions(client, jobs, page_size, concurrency)
                    fold.job_session_uids.clear()  # asked: ~23,000 keys at 50,000 VMs, not needed again
                except EMError as error:
                    queries[read.key] = summary
                    queries[NAMED_JOB_SESSIONS] = {"type": resource.query_type, "failed": True}
                    return error
                items[JOB_TYPES_BY_UID] = jobs.by_uid
            items[read.key] = jobs.kept()
            items.setdefault(JOB_TYPES_BEFORE_WINDOW, {}).update(jobs.types)
            summary.update(job_range(now, start, bounded, job_from))  # the range really read
            if job_from:  # and what the history cache gave
                summary["cached"] = jobs.seeded
        else:
            items[read.key] = found
        if history:  # the range really read: shorter than the 30 days when the history cache gave the rest
            summary.update(created_after=history_from or em_compliance.window_start(now, em_compliance.HISTORY_DAYS),
                           created_before=start)
        elif cache and read.kind:  # the window's task sessions: from window_from when the cache gave the start
            summary.update(created_after=window_from, created_before=now if bounded else None)
        queries[read.key] = summary
    if lines is not None and lines.finish() is not None:
        return _RESTART
    return None


def task_sessions_answered(params, queries):
    """Whether every task-session query the options call for was answered (``queries``: run_reads'; none failed,
    none left unsent): only then does a known backup server without a session say something (judge_read)."""
    return all(read.key in queries and not queries[read.key].get("failed")
               for read in planned_reads(params) if read.kind)


def _servers_first(client, reads, items, queries, page_size, concurrency):
    """With the history cache, EM's backup servers are read before it is judged (HistoryCache._new_servers: a
    server new to EM may come with past sessions the delta would not read): (the other reads, the (name, UID)
    pairs EM lists or None when the list is not read, error or None)."""
    first = [read for read in reads if read.key == BACKUP_SERVERS_READ]
    if not first:
        return reads, None, None
    read = first[0]
    resource = read.resource
    try:
        found, info = client.query(resource, None, em_query.sort_field(resource, resource.default_sort), "asc",
                                   page_size, concurrency=concurrency)
    except EMError as error:
        queries[read.key] = {"type": resource.query_type, "failed": True}
        return reads, None, error
    items[read.key] = found
    queries[read.key] = dict(info.as_dict(), items=len(found))
    listed = [(server.get("name"), server.get("uid")) for server in found]
    return [other for other in reads if other is not read], listed, None


def skipped_history(resource, history_from, start):
    """The summary of a history query not sent: the history cache holds the whole history before the
    window (its delta starts at or after the window start). Said as a skip, never as an empty answer."""
    return {"type": resource.query_type, "skipped": "the history cache holds it", "requests": 0,
            "cache_read_from": history_from, "window_start": start}


# Up to which size of the history cache file its lines are folded beside EM's reads (CacheLines). Time
# against memory, measured (tests/performance/module_phases.py --nightly, session 10): at 5,000 VMs (a 5 MB file)
# the thread saved ~0.6 s of the module's ~7 s for +1 MB of peak; at 50,000 VMs (~53 MB) it saved 11 of 88 s but
# raised the peak from 294 to 337 MB (the two folds' tables side by side, then merged: past the 300 MB bound).
# 20 MB is about 20,000 VMs, where the module's full rows are packed too (em_compliance_module.PACK_ROWS_FROM).
LINES_BESIDE_READS_BELOW_BYTES = 20 * 1024 * 1024


def lines_beside_reads(cache):
    """Whether the history cache's lines are folded beside EM's reads (a small file; CacheLines) or before the reads
    (a big one, or none: HistoryCache.begin says why it is not used)."""
    try:
        return os.path.getsize(cache.path) < LINES_BESIDE_READS_BELOW_BYTES
    except (OSError, TypeError):
        return False


# Whether the history cache's lines are folded by a child process (CacheLines; else by a thread of the module).
LINES_IN_CHILD = True


class CacheLines(object):
    """The history cache's lines folded while the main thread reads EM's window task sessions (issue 18). Why: on a
    warm night at 5,000 VMs the ~54,000 lines took ~1.1 s of CPU (gzip, JSON, the fold) and the reads ~2 s, mostly
    waiting for EM; nothing of the lines decides what is read (the header does: HistoryCache.open_header), so the
    two overlap.

    By a child process (em_files.Beside; LINES_IN_CHILD) where the module can fork, else by a thread. Why a
    process: a thread folds under the GIL in turn with the main thread's parsing of EM's pages, and both are
    Python (the lines' ~1.1 s stretched to ~2.3 s of the reads, profiled with py-spy). The child folds into a
    sibling fold of its own numbering (SessionFold.split: the two processes number new values apart) and sends
    it back pickled with what the lines changed in the cache (HistoryCache.lines_state) and their oldest running
    session; a child that fails or ends without a whole answer makes the lines unusable: a full read, its reason
    said in ``history_cache.reason`` (never a half-folded cache). By a thread: a sibling fold sharing the packer
    (new values numbered under its lock), its exception raised in the main thread.

    Either way the main thread reads the cache's ranges only (set before the lines are folded) until ``finish``,
    which joins the folder and makes the fold what folding the lines first gave (SessionFold.absorb_first: EM's
    read of a session wins over the cache's, as before); a broken file discards the fold (HistoryCache.end_lines:
    a full read, said). run_reads joins the folder on every path (``join`` in a finally), so none outlives the
    reads."""

    def __init__(self, cache, stream, fold):
        self.cache, self.fold = cache, fold
        self._side = fold.sibling()
        self._side.on_running = self._running
        self.oldest_running = None
        self.reason = self.error = None
        self.finished = False
        self.child = None
        self.thread = threading.Thread(target=self._run, args=(stream,), name="history-cache-lines")
        self.thread.daemon = True  # never keeps the process alive (run_reads joins it anyway)

    @classmethod
    def start(cls, cache, client, fold, listed):
        """The header read, the lines' folder started; None when the header does not fit (a full read, said)."""
        stream = cache.open_header(client, fold, listed)
        if stream is None:
            return None
        lines = cls(cache, stream, fold)
        if LINES_IN_CHILD:
            fold.split(1)
            lines.child = em_files.Beside.start(lambda: lines._in_child(stream), "folding")
        if lines.child is None:  # no fork here (or LINES_IN_CHILD off): a thread, the packer shared as it was
            fold.split(None)
            lines.thread.start()
        else:
            stream.close()   # the child's copy of the file is the one read
        return lines

    def _run(self, stream):
        try:
            self.reason = self.cache.fold_lines(stream, self._side)
        except BaseException as error:  # pylint: disable=broad-except  # raised again in the main thread (finish)
            self.error = error

    def _in_child(self, stream):
        """In the child (em_files.Beside): the lines folded, the answer pickled. What fold_lines raises is said by
        Beside (the lines then unusable: a full read)."""
        self._side.split(0)
        reason = self.cache.fold_lines(stream, self._side)
        held = None if reason is not None else (self._side.portable(), self.oldest_running, self.cache.lines_state())
        return pickle.dumps((reason, held), pickle.HIGHEST_PROTOCOL)

    def _take_child(self):
        """The child's answer taken in: its fold into the sibling, its cache state into the cache; or the reason
        the lines are unusable (the child's error, or how it ended)."""
        answer, why = self.child.wait()
        if why is not None:
            self.reason = "the history cache %s could not be read (folding its lines: %s): the whole history was " \
                          "read" % (self.cache.path, why)
            return
        self.reason, held = pickle.loads(answer)
        if held is not None:
            portable, self.oldest_running, state = held
            self._side.take_portable(portable)
            self.cache.take_lines_state(state)

    def _running(self, created):
        self.oldest_running = history_cache.earlier(self.oldest_running, created)

    def join(self):
        """The folder ended (the child's answer read, the thread joined), whatever the reads did."""
        if self.child is not None:
            self.child.wait()
        elif self.thread.ident is not None:
            self.thread.join()

    def finish(self):
        """Join the folder and fold its lines in (once; later calls give the same): None, or why the lines cannot
        be used (the fold discarded, the cache a full read). What the thread raised is raised here."""
        if not self.finished:
            if self.child is not None:
                self._take_child()
            else:
                self.thread.join()
            self.finished = True
            side, self._side = self._side, None
            if self.error is not None:
                raise self.error
            if self.reason is None:
                self.fold.absorb_first(side)
                self.cache.note_running(self.oldest_running)
            self.cache.end_lines(self.fold, self.reason)
        elif self.error is not None:
            raise self.error
        return self.reason


class PageFold(object):
    """One query of task sessions read as a fold: each page is normalised and folded into the
    session fold as it arrives (the client calls ``normalise`` under its parse lock, pages in any
    order), the window with every session, the history reduced to the newest session per VM, job
    and result (em_compliance.fold_history's rule).

    The client's collector gets only the last item of each page (a walk without a page count stops
    at an empty page), so the pages are never held, only the fold. A relogon that restarts the walk
    folds the same sessions again, which changes nothing: the fold keeps a session once by its UID.
    The history cannot shift while it is read: it ends at the window start, and EM adds sessions at
    the other end. The running sessions of every page reach the history cache through the fold
    (SessionFold.on_running, HistoryCache.watch).
    """

    def __init__(self, resource, fold, kind, history):
        self.resource = resource
        self.fold = fold
        self.kind = kind
        self.add = fold.add_history if history else fold.add
        self.read = 0

    def normalise(self, document):
        page = em_parse.normalise_document(document, self.resource)
        self.read += len(page)
        self.add(page, self.kind)
        return page[-1:]


BACKUP_SERVERS_READ = "backup_servers"
BACKUP_JOB_READ = history_cache.BACKUP_JOB_READ
JOB_SESSION_READS = (BACKUP_JOB_READ, history_cache.REPLICA_JOB_READ)
JOB_TYPES_BEFORE_WINDOW = "job_types_before_window"
JOB_TYPES_BY_UID = "job_types_by_uid"
NAMED_JOB_SESSIONS = "named_job_sessions"
NAMED_CHUNK = 40   # UIDs per request: 40 x ~75 characters of filter keeps the URL near 3 KB (IIS allows 16 KB)
NAMED_MAX = 1000   # UIDs asked at most (25 requests): the rest stay unseen - copies, named by job_type_unknown


def read_named_job_sessions(client, jobs, page_size, concurrency):
    """Read by UID the job sessions the window's backup task sessions name that no job-session read returned
    (JobPages.unread_named), into ``jobs`` (the window's kept whole, an older one by UID and job name); their
    query summary. Why: the job sessions are read from the history start, but a backup copy or mirroring job
    can keep one session open for longer (FACTS 6) and EM can collect one late (after the history cache's
    overlap): by its UID the task session gets its job's real type, not a type guessed from the job's name
    (a job created again under its name as a copy job) nor job_type_unknown. A UID that is not a UID of a
    backup job session (em_query refuses it), or one beyond NAMED_MAX, is not asked (``not_asked``): its task
    sessions stay unseen, copies (fold.kind_of) and named by job_type_unknown. Usually nothing is asked, and
    no request is sent."""
    resource = jobs.resource
    wanted, asked, requests, read_before = jobs.unread_named(), 0, 0, jobs.read
    filters, refused = [], 0
    for uid in wanted:
        try:
            em_query.build_filter(resource, {"uid": [uid]})
        except EMError:
            refused += 1
            continue
        if len(filters) >= NAMED_MAX:  # an answer naming that many is not a fleet's few long copy sessions
            refused += 1
            continue
        filters.append(uid)
    for first in range(0, len(filters), NAMED_CHUNK):
        chunk = filters[first:first + NAMED_CHUNK]
        before = client.requests_sent
        client.query(resource, em_query.build_filter(resource, {"uid": chunk}),
                     em_query.sort_field(resource, resource.default_sort), "asc", page_size,
                     concurrency=concurrency, normalise=jobs.normalise)
        asked += len(chunk)
        requests += client.requests_sent - before
    return {"type": resource.query_type, "asked": asked, "not_asked": refused, "requests": requests,
            "items": jobs.read - read_before}


class JobPages(object):
    """The job sessions read as far back as the task sessions (window_filters), reduced as the pages
    arrive: the window's are kept whole (job rows, job types by UID), one read before the window only
    as its job's type by (server, job name) - all a task session whose job session is older than the
    window needs (fold.job_type_of: a job's type does not change) - so the 30 days of job sessions are
    never held (issue 18: ~110,000 job sessions at 50,000 VMs). A session read twice is kept once (UID);
    one without a readable creation time is kept (rules.unreadable_job_sessions names it) and counted in
    ``unplaced``.

    With the history cache: ``seed`` takes what its job part gives (the cached window job sessions and
    the types of jobs seen before it, as ``type_notes`` gives them); a window job
    session EM may still change (not Stopped with an end) is shown to ``on_unsettled`` (the cache then
    covers nothing from it on); ``kept_before`` gives the settled ones it writes."""

    def __init__(self, resource, start, on_unsettled=None, named=None):
        self.resource = resource
        self.start = start if isinstance(start, datetime) else em_compliance.parse_time(start)
        self.on_unsettled = on_unsettled
        # the job sessions window task sessions name (SessionFold.job_session_uids): one before the window
        # among them keeps its type by UID too (``by_uid``), the rest only by job name
        self.named = named or set()
        self.by_uid = {}
        self.read = self.unplaced = self.seeded = 0
        self.types = {}          # (lower server name, lower job name) -> job type, of those before the window
        self._typed_at = {}      # the same key -> the creation time of the session whose type that is
        self._newest = {}        # the same key -> the creation time of its newest session read
        self._kept = {}          # UID (or position) -> job session of the window
        self._seeded = set()     # the keys of _kept the history cache gave, not yet read again from EM
        # equal strings of the kept sessions shared, as the pager's own collector does (em_rows.Interner:
        # ~12 MB of job, server and state names at 50,000 VMs)
        self._share = em_rows.Interner().share_item

    def normalise(self, document):
        page = em_parse.normalise_document(document, self.resource)
        self.read += len(page)
        self._take(page)
        return page[-1:]

    def seed(self, items, types):
        """What the history cache gives: job sessions as read on an earlier night, and ((server, job), type or
        None, creation time) of the sessions of jobs seen before that night's window that type_notes gives."""
        before = len(self._kept)
        self._take(items, seeded=True)
        self.seeded = len(self._kept) - before
        for key, job_type, created in types:
            self._note(key, job_type, created)

    def _take(self, items, seeded=False):
        """Fold job sessions read (``seeded``: the history cache's lines of them, before EM's pages). A window job
        session read twice is kept once: EM's pages' first read, and EM's read over the cache's line of it (a line
        edited to Success and moved below the range EM reads again kept the job's Failed from the verdicts: found by
        attack, session 14) - as unique_records keeps a task session's."""
        for item in items:
            created = readable_creation_time(item)
            if created is not None and created < self.start:
                self._note(job_key(item), item.get("job_type") or None, created)
                if job_session_key(item.get("uid")) in self.named:
                    self.by_uid[str(item.get("uid")).lower()] = item.get("job_type") or None
                continue
            key = item.get("uid") or len(self._kept)
            if key in self._kept:
                if seeded or key not in self._seeded:
                    continue
                self._seeded.discard(key)
            elif seeded:
                self._seeded.add(key)
            self._kept[key] = self._share(item)
            if created is None:
                self.unplaced += 1
            elif self.on_unsettled is not None and job_unsettled(item, created):
                self.on_unsettled(created)

    def _note(self, key, job_type, created):
        """A job's type is that of its newest session that has one, whichever page or night brought it (pages
        arrive in any order; a job deleted and created again under its name as a copy job is a copy from then
        on); None while none has one (EM 9.5 sends no JobType: the job was read, its type is unknown)."""
        note_type(self.types, self._typed_at, key, job_type, created)
        if key not in self._newest or created > self._newest[key]:
            self._newest[key] = created

    def kept(self):
        return list(self._kept.values())

    def unread_named(self):
        """The UIDs (as the task sessions give them, sorted) of the named job sessions no read returned."""
        read = set(job_session_key(uid) for uid in self.by_uid)
        read.update(job_session_key(uid) for uid in self._kept if isinstance(uid, str))
        return sorted(job_session_uid(key) for key in self.named if key not in read)

    def kept_before(self, moment):
        """The window's job sessions created before ``moment`` (all readable: the cache writes none when
        one is not, ``unplaced``), as read."""
        for item in self._kept.values():
            created = readable_creation_time(item)
            if created is not None and created < moment:
                yield item

    def type_notes(self):
        """What a later night must know of the jobs seen before the window, as ((lower server name, lower job
        name), job type or None, creation time): the type of the newest typed session with that session's time,
        and None with the time of the newest session when that one is newer (or none is typed). Two times, not
        the type with the newest time: a night whose history no longer holds the typed session must find the
        job read without a type, and a typed session read again between the two (EM collected it late, within
        the overlap) must name the type, as in a cold read (_note)."""
        for key, job_type in self.types.items():
            typed_at, newest = self._typed_at.get(key), self._newest[key]
            if typed_at is not None:
                yield key, job_type, typed_at
            if typed_at is None or newest > typed_at:
                yield key, None, newest


def probe_reach(client):
    """The query summary of one ``type=Job`` request of one item, with ``administrator``.

    EM refuses the jobs query with 403 to every role but Portal Administrator (FACTS 1.3); the
    other roles see part of EM without being told. Any other error is a failed read.
    """
    resource = em_resources.JOB.project(["name"])
    before = client.requests_sent
    try:
        found, info = client.query(resource, None, em_query.sort_field(resource, "name"), "asc", 1, limit=1,
                                   concurrency=1)
    except EMForbiddenError:
        return {"type": resource.query_type, "page_size": 1, "pages": 0,
                "requests": client.requests_sent - before, "items": 0, "administrator": False}
    summary = info.as_dict()
    summary.update(items=len(found), administrator=True)
    return summary


def view_limits(client, params, items, queries):
    """What an account that is not a Portal Administrator cannot see, as partial_view messages."""
    account = getattr(client, "user_name", None) or params.get("username") or "(the account in use)"
    reach = queries.get("account_reach", {})
    if reach.get("administrator", True):
        return _unproven_reach(account, reach, queries)
    servers = sorted(server.get("name") for server in items.get(BACKUP_SERVERS_READ, []) if server.get("name"))
    seen = ("it sees %d backup server(s): %s" % (len(servers), ", ".join(servers))) if servers else \
        "the backup servers it sees were not read (known_servers_from_em is false)"
    return ["the EM account %s is not a Portal Administrator (EM refused the jobs query with 403): EM shows it only "
            "the backup servers, VMs and sessions of its scope, so backup servers and VMs outside that scope are "
            "absent and not judged; %s" % (account, seen)]


def _unproven_reach(account, reach, queries):
    """A jobs query EM answered with no job at all while the sessions read name jobs: the 200 proves nothing (FACTS
    1.3 [OBS]: a narrower role gets fewer objects, not an error; FACTS 6: empty is not healthy). Taken for a Portal
    Administrator, an account that saw one backup server of two judged it alone, compliant (found by attack,
    session 15); said as a partial view, as the 403 is."""
    if reach.get("items") != 0:
        return []
    sessions = sum(summary.get("items") or 0 for key, summary in queries.items()
                   if key != "account_reach" and isinstance(summary, dict) and summary.get("type") != "BackupServer")
    if not sessions:
        return []
    return ["the EM account %s listed no job (EM answered the jobs query with an empty list, not 403) while it read "
            "%d session(s) of jobs: an account that is not a Portal Administrator sees fewer objects without an "
            "error, so backup servers and VMs outside its scope may be absent and not judged" % (account, sessions)]


def known_servers(params, items):
    """Backup servers that must report: the given names plus every server EM knows."""
    names = list(params.get("known_backup_servers") or [])
    for server in items.get(BACKUP_SERVERS_READ, []):
        if server.get("name") and server["name"] not in names:
            names.append(server["name"])
    return names


def new_fold(params, now):
    """The session fold the reads feed (the policy and history cache options checked, before any request)."""
    history_cache.check_options(params)
    return em_compliance.session_fold(now, **policy_options(params))


def history_plan(params, now, start, check_mode=False, write_beside=False):
    """The history cache of this run (_compliance/history_cache.py): its ``outcome`` is the module's
    ``history_cache`` result; ``enabled`` only with ``report_dir``, ``history_cache`` and the history read.
    ``write_beside``: the file written by a child process while the caller evaluates (HistoryCache.wait after)."""
    return history_cache.HistoryCache(params, now, start, check_mode=check_mode, history=wants_history(params),
                                      write_beside=write_beside)


def judge_read(params, fold, items, read_errors, limits=(), packed=False, queries=None, walk_beside=False, warn=None):
    """The compliance verdicts of what was read (the same rules as the filter): the task sessions
    folded as they were read (window and history), the job sessions and backup servers in ``items``.
    ``packed``: the VM rows as em_rows.PackedRows (em_compliance.evaluate_fold; the module's).
    ``queries``: run_reads' summaries, which say whether the task sessions were read when ``read_errors``
    says something was not (without them, a read error is taken to have left them unread). ``walk_beside``: half
    of a big fleet's VMs walked by a child process, ``warn`` told when it did not answer (em_compliance.evaluate_fold;
    the module's)."""
    job_sessions = items.get("backup_job_sessions", []) + items.get("replica_job_sessions", [])
    # every job session from the history start was read (window_filters) when the backup job sessions were
    complete = "backup_job_sessions" in items and not read_errors
    # Task sessions EM did not answer (a failed logon, probe, server list or task-session query): a known server
    # without one is not "silent" (no session of it at all: server_silent, a breach) - nothing was read (issue 14:
    # a read failure is an error, never a breach). EM's servers are read first when the history cache is used.
    answered = not read_errors or (queries is not None and task_sessions_answered(params, queries))
    known = known_servers(params, items) if answered else []
    return em_compliance.evaluate_fold(fold, job_sessions, packed=packed, jobs_complete=complete, walk_beside=walk_beside,
                                       warn=warn, job_types=items.get(JOB_TYPES_BEFORE_WINDOW),
                                       job_types_by_uid=items.get(JOB_TYPES_BY_UID),
                                       known_backup_servers=known, read_errors=read_errors,
                                       view_limits=list(limits))


def argument_spec():
    """The policy options (doc fragment compliance_policy) plus reading options; connection is added by em_module."""
    spec = dict(
        now=dict(type="str"),
        check_replicas=dict(type="bool", default=True),
        check_jobs=dict(type="bool", default=True),
        known_servers_from_em=dict(type="bool", default=True),
        read_history=dict(type="bool", default=True),
        page_size=dict(type="int", default=em_query.DEFAULT_PAGE_SIZE),
        concurrency=dict(type="int", default=em_query.DEFAULT_CONCURRENCY),
        media_type=dict(type="str", default=em_query.DEFAULT_MEDIA_TYPE, choices=["json", "xml"]),
        detail=dict(type="str", default="full", choices=["full", "compact", "summary"]),
        result_format=dict(type="str", default="dict", choices=["dict", "json"]),
    )
    spec.update(em_compliance_report.argument_spec())  # report_formats, report_dir, ... (the report's own)
    spec.update(history_cache.argument_spec())  # history_cache, history_cache_overlap_hours, history_full_read_days
    for key, default in em_compliance.DEFAULT_POLICY.items():
        if key in em_compliance.INTERNAL_OPTIONS:
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
