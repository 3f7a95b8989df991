# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The folded history kept between nightly runs beside the reports (issue 18).

FOR INTERNAL COLLECTION USE ONLY: the module's reader (em_compliance_read) is its one user.

Why: the history before the window (30 days, read so that a VM whose backups stopped is still
judged) was 140 of 192 requests and ~75 % of the bytes of a nightly run at 5,000 VMs, and 23 of
those 30 days are the same every night. The fold keeps of the history only the newest session per
(kind, server, VM, job, result, running) (SessionFold.add_history); that is what is kept here, in
``<report_dir>/<report_basename>.history-cache.json.gz`` (gzip'd JSON lines: a header naming the EM,
the account, the kinds and the history and window fields read, ``now``, ``read_through``,
``full_read_at``, ``window_start``, ``lookback_days`` and ``window_cached``; one line per history session
and one per window session; ``{"items": count}`` last), and a later run folds it back in like a page (the
fold is order-independent) and reads from EM only what may have changed.

A session's line (format 4) is the fold's record of it: ``[kind, [the values of RECORD_KEYS], creation, end,
restore point time]`` (the times in microseconds since the epoch, null when absent), ``"window"`` appended
for a window session; a history item without a VM identity (set aside at settle) stays ``[kind, item]`` as
read. Written from the fold's sessions and folded back as records (fold.add/add_history ``records``): no
time formatted or parsed, no key repeated (issue 18: at 5,000 VMs reading back and writing the format-3
items, with their keys and ISO times, was ~3 s of the warm night's ~9 s; ~30 % less now). The file is read
as EM's answer is: a line whose values a record of a read item cannot hold (not a string or null, no VM
identity, a replica's job session, an end before its creation, a time no datetime holds: _record_entry) is
a full read, as any line the writer cannot have written.

The window too (history_cache_window, default true): after the history, the window was 46 of the 72
requests of a warm night at 5,000 VMs and most of its bytes, and its sessions from before the
previous run are the same every night. The window is kept whole - every session with all the window
fields (the rules read each one, not only the newest) - written one record at a time from the fold
(SessionFold.window_lines; no list of 430,000 sessions at 50,000 VMs).

Why the warm verdicts equal the cold ones. The cache of a run at T1 (window start W1, history start
H1) holds, per fold key, the newest session of [H1, W1) (the history part) and, with its window part,
every session of [W1, R1) with all the window fields, where ``read_through`` R1 = min(T1, the oldest
session still running in any read); without it, R1 = min(W1, the oldest running history session).
A run at T2 >= T1 (W2, H2) needs every session of [W2, T2) and the newest per key of [H2, W2). It
sets ``read_from`` F = max(H2, R1 - overlap), reads the window from EM from max(W2, F) (from W2
without a window part, or with history_cache_window false) and the history from F to W2 only when
F < W2 (otherwise the history queries are not sent: their summaries say ``skipped``). Of the cache it
folds:

* a cached window session created in [W2, max(W2, F)) as a window session (fold.add): every session
  of that range is in the cache, since [W2, F) lies inside [W1, R1) (W1 <= W2 is checked: a cache
  whose window starts later - lookback_days grew - is a full read, said; F <= R1 always);
* any cached item created in [H2, min(F, W2)) as history (fold.add_history): for a cached window
  session that is last night's window becoming tonight's history, without the window-only fields
  (reason, job_session_uid), so that the fold keeps what a cold history read gives. Reduced per key
  with the history part, this is the newest of [H2, min(F, W2)) per key: the history part holds the
  newest of [H1, W1) and the window part every session of [W1, R1), and [H2, min(F, W2)) lies
  within [H1, R1) (R1 >= H2 is checked: a gap is a full read). The rest of [H2, W2) is read from EM;
  the fold keeps the newest over both, which is the newest of [H2, W2).

Nothing else is folded: items before H2 (EM forgot them; a cold read would not see them) and those
at or after F, read again from EM. The include/exclude patterns are applied when a session is
folded, never when it is cached (excluded sessions are cached too), so a policy changed between
nights judges the cached sessions as a cold read would. Three things can make EM's answer for the
past differ from what was cached, and each is bounded:

* a session that was still running: its result (part of the fold key) and its end change when it
  ends. So ``read_through`` is never later than the creation time of the oldest running session
  seen in any read, window or history (every running one, also those a newer session of their key
  hid: SessionFold.on_running, one is_running per item), and all of them are read again; a cached
  running session is refused (a full read).
* a session EM collects late (a backup server EM could not reach for a while sends its sessions
  when it is back, with their past creation times) [INF: from EM collecting sessions from each
  backup server, FACTS 6; not observed]: the ``overlap`` (history_cache_overlap_hours, 48 by
  default) re-reads the last hours before ``read_through``; older late ones are found by the
  full read every ``full_read_days`` (history_full_read_days, 7 by default).
* anything else about the cache that does not fit this run (another EM, another account, other
  kinds or fields, an unreadable file, a cache from after this run's ``now``, one whose history part
  reaches into this run's window or whose window part starts after it, a gap before this run's
  history start): a full read, its reason in the result.

A window item the fold sets aside (no readable creation time, or no VM: rules.unreadable_*) cannot be
placed in time, so whether a later run's range holds it is unknown: a run that set any aside writes no
window part (R1 as without one), and the next run reads the whole window again and names it again.
What the user trades with the window part: a window session created more than the overlap before R1
is not read again from EM until the next full read (a late or changed one is found then), as for the
history.

The job part (format 3). The job sessions are read from the history start (em_compliance_read.window_filters:
a task session's job type is on its job session, which can be days older), so a warm night read 30 days of
them again: at 50,000 VMs ~146 of its 326 requests. The cache keeps, per job-session read, every window job
session created before ``job_read_through`` J1 = min(T1, the creation of the oldest window job session EM may
still change: not Stopped with an end; em_compliance_read.job_unsettled), as read, and of each job seen before
its window (server, job name) its newest typed session's type with that session's creation time, and its
newest session's time without a type when that one is newer (JobPages.type_notes: one time would not do - a
night whose history lost the typed session must find the job untyped, and a typed session EM collected late,
read again between the two, must type it, as in a cold read). A run at T2 reads the job
sessions from EM from G = max(H2, J1 - overlap) and takes from the cache the window job sessions created in
[H2, G) and the type notes of sessions at or after H2 (em_compliance_read.JobPages.seed). A job line its writer
cannot have written (a session outside [W1, J1), a type note not before W1, a type that is not a word) is a
full read: a hand-edited "newest" in the future would keep a forgotten job's type, its copies backups. A cold read
keeps the job sessions of [W2, T2) whole and the types of [H2, W2): every window one of [W2, G) is cached
([W2, G) lies within [W1, J1): W1 <= W2 is checked), and a job with a session in [H2, W2) has one in [H1, W1)
(its type, with a newest time >= H2), in [W1, G) (cached whole) or at or after G (read again). A type whose
newest session is before H2 is dropped: a cold read would not see the job, and its task sessions then count
as a copy, never as a backup (fold.kind_of). A job's type does not change, so a job session before the window
bounds nothing; one EM may still change in the window bounds J1, and is read again. A job session without a
readable creation time leaves the job part unwritten (``jobs_reason``), like the window part.

A failed read, a read in check mode or without ``report_dir`` writes nothing. Never a failure:
the worst a cache can cost is a full read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import json
import os
import zlib
from datetime import datetime, timedelta, timezone

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_files, em_rows, em_secrets, em_time, em_values
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.packing import (
    RECORD_KEYS, _microseconds, _STATE, _VM_NAME, _VM_UID)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.fold import unsettled
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.policy import in_scope
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.sessions import (
    job_unsettled, readable_creation_time, readable_end)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.vocabulary import (
    BACKUP_HISTORY_FIELDS, BACKUP_TASK_SESSION_FIELDS, ComplianceInputError, HISTORY_DAYS, JOB_SESSION_FIELDS,
    KIND_BACKUP, KIND_REPLICA, REPLICA_HISTORY_FIELDS, REPLICA_TASK_SESSION_FIELDS)

# the version of the file's layout; another one is a full read (1: no window part, 2: no job part,
# 3: task sessions as items with their keys and ISO times)
FORMAT = 4
SUFFIX = ".history-cache.json.gz"
DEFAULT_OVERLAP_HOURS = 48.0
DEFAULT_FULL_READ_DAYS = 7.0
# Cached items folded per call, like a page: 250, not 1,000, since the lines are folded while EM's pages are
# (em_compliance_read.CacheLines) and the batches pending (one per kind, window and history) add to the pages'
# peak (issue 18: at 5,000 VMs 1,000 put the warm night at ~84 MB, 250 at ~75 MB; no slower).
_BATCH = 250
_WRITE_BATCH = 1000             # lines encoded per write (and per secret search: _lines)
# Below how many of the fold's groups (backup server and VM) the file is written by a child process while the
# module evaluates (write_beside, em_files.WrittenBeside). Measured (issue 18, session 11): at 5,000 VMs the write
# is ~1 s of the warm night's critical path; above this the parent's evaluation touches the fold's pages, which
# the child shares copy-on-write, so both would hold a copy of the fold (~150 MB at 50,000 VMs, against the
# 300 MB target). The same bound is where the module holds its rows packed (em_compliance_module.PACK_ROWS_FROM).
WRITE_BESIDE_BELOW_VMS = 20000
# The counts of ``outcome`` that folding the lines sets (_fold_lines; HistoryCache.lines_state)
_LINES_COUNTS = ("items_loaded", "items_kept", "window_items_loaded", "window_items_kept", "job_items_loaded",
                 "job_items_kept")
FIELDS = {KIND_BACKUP: list(BACKUP_HISTORY_FIELDS), KIND_REPLICA: list(REPLICA_HISTORY_FIELDS)}
WINDOW_FIELDS = {KIND_BACKUP: list(BACKUP_TASK_SESSION_FIELDS), KIND_REPLICA: list(REPLICA_TASK_SESSION_FIELDS)}
# What a window item has that the history query does not read: dropped when last night's window
# becomes tonight's history, so that the fold keeps what a cold history read would give.
_WINDOW_ONLY = dict((kind, frozenset(WINDOW_FIELDS[kind]) - frozenset(FIELDS[kind])) for kind in FIELDS)
_WINDOW_MARK = "window"         # the last element of a cached window session's line
# The record lines (format 4): [kind, [the values of RECORD_KEYS], creation, end, restore point time] (the times
# in microseconds since the epoch, null when absent), then "window" for a window session. What the fold keeps
# of a session, exactly, so that neither side re-formats nor re-parses it (issue 18: at 5,000 VMs the items with
# their keys and ISO times were most of the warm night's ~3 s of cache).
_RECORD_LINE = 5
_STRINGS = frozenset((str, type(None)))   # what a record line's values may be
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# the times a datetime holds, in microseconds since the epoch (datetime.min and max)
_FIRST, _LAST = (_microseconds(moment.replace(tzinfo=timezone.utc)) for moment in (datetime.min, datetime.max))
# The positions of the window-only keys in a record: None when last night's window is tonight's history.
_WINDOW_ONLY_AT = dict((kind, tuple(RECORD_KEYS.index(key) for key in sorted(_WINDOW_ONLY[kind])
                                    if key in RECORD_KEYS)) for kind in _WINDOW_ONLY)
# What a record line of each kind must hold null: the keys neither of its queries reads (the UID is the entity's
# own) - a replica's job session or restore point, a backup's replica point (one of the other kind showed in the
# row). A history line's reason or job session is not refused: the history query does not read them either, but
# the fold keeps what a page gives (the unit tests' fakes give them), and a cold read would keep them too.
_NONE_AT = dict((kind, tuple(position for position, key in enumerate(RECORD_KEYS)
                             if key != "uid" and key not in WINDOW_FIELDS[kind])) for kind in FIELDS)
# The job part (format 3): the job-session reads (em_compliance_read.JOB_SESSION_READS) by their keys.
BACKUP_JOB_READ, REPLICA_JOB_READ = "backup_job_sessions", "replica_job_sessions"
_JOB_MARK, _JOB_TYPE_MARK = "job", "job_type"   # the first element of a job part's line
# What a cache file that cannot be read raises (a full read, said): the file is input, like EM's answer.
_READ_ERRORS = (IOError, OSError, EOFError, ValueError, RecursionError, zlib.error)


def argument_spec():
    """The cache's options of veeam_em_compliance_info (documented in its DOCUMENTATION)."""
    return dict(
        history_cache=dict(type="bool", default=True),
        history_cache_overlap_hours=dict(type="float", default=DEFAULT_OVERLAP_HOURS),
        history_cache_window=dict(type="bool", default=True),
        history_full_read_days=dict(type="float", default=DEFAULT_FULL_READ_DAYS),
    )


# The largest values taken: an overlap longer than the 30-day history reads it all anyway, and a full read
# every ten years is none; far larger ones overflow a date (timedelta: ~1e9 days) - refused, never a crash.
MAX_OPTION = {"history_cache_overlap_hours": 8760, "history_full_read_days": 3650}


def check_options(params):
    """Values that cannot work fail before any request, naming the option and the value."""
    for name, default in (("history_cache_overlap_hours", DEFAULT_OVERLAP_HOURS),
                          ("history_full_read_days", DEFAULT_FULL_READ_DAYS)):
        value = params.get(name, default)
        if value is None:
            continue
        number = em_values.finite_number(value)
        if number is None or number < 0:
            raise ComplianceInputError("%s=%r: must be a number of 0 or more" % (name, value))
        if number > MAX_OPTION[name]:
            raise ComplianceInputError("%s=%r: must be at most %d" % (name, value, MAX_OPTION[name]))


def earlier(kept, moment):
    """The earlier of two times, None meaning none yet (the oldest running session, unsettled job session)."""
    return moment if moment is not None and (kept is None or moment < kept) else kept


def cache_path(params):
    return os.path.join(params["report_dir"], params.get("report_basename") or "compliance") + SUFFIX


def _iso(moment):
    return em_time.format_z(moment)


class HistoryCache(object):
    """The history cache of one run: what it loaded, the range it reads from EM, what it wrote.

    ``outcome`` is the module's ``history_cache`` result. ``read_from`` (a datetime) is where the
    history reads start: the history start on a full read, later on a warm one (at or after the
    window start: no history read, ``reads_history``). ``window_read_from`` is where the window's
    task-session reads start: the window start, or later when the cache holds the window's start.
    """

    def __init__(self, params, now, window_start, check_mode=False, history=True, write_beside=False):
        self.now = em_time.parse_iso(now)
        self.window_start = em_time.parse_iso(window_start)
        self.history_start = self.now - timedelta(days=HISTORY_DAYS)
        self.read_from, self.window_read_from = self.history_start, self.window_start
        self.window = bool(_option(params, "history_cache_window", True))
        self.lookback_days = params.get("lookback_days")
        self.overlap = timedelta(hours=float(_option(params, "history_cache_overlap_hours", DEFAULT_OVERLAP_HOURS)))
        self.full_read_days = float(_option(params, "history_full_read_days", DEFAULT_FULL_READ_DAYS))
        self.kinds = [KIND_BACKUP] + ([KIND_REPLICA] if params.get("check_replicas", True) else [])
        self.job_keys = ([BACKUP_JOB_READ] + ([REPLICA_JOB_READ] if params.get("check_replicas", True) else [])
                         if params.get("check_jobs", True) else [])
        # the job part: where the job-session reads start, what the cache gives them (JobPages.seed)
        self.job_read_from, self.jobs_cached_through = self.history_start, None
        self.cached_jobs = dict((key, []) for key in self.job_keys)
        self.cached_job_types = dict((key, []) for key in self.job_keys)
        self.cached_job_window = None   # the cached window's start: its job part holds nothing from before it
        self.oldest_unsettled_job = None
        # the cached job sessions wait for their read (JobPages.seed) with their equal strings shared, as
        # JobPages keeps them (~32,000 window job sessions at 50,000 VMs, held while the task sessions are read)
        self._share_job = em_rows.Interner().share_item
        # and their keys: each line is its own json.loads, so each item would carry its own copy of the same
        # dozen key strings (~23 MB at 50,000 VMs; EM's parsed items share the resource's key strings)
        self._job_item_keys = {}
        self.username = params.get("username")
        self.full_read_at = self.now
        self.oldest_running = None
        self.listed = None
        self.listed_uids = None   # EM's backup servers tonight by UID (lower case) -> name, with ``listed``
        self.path, self.mode, self.write = None, None, False
        # save() in a child process (the module's: it calls wait() before it reads ``outcome``)
        self.write_beside, self._writer, self._written = write_beside, None, None
        self.identity_now, self.cached_through, self.cached_window = None, None, False
        self._header_now = None   # the header's ``now`` (open_header), named in ``outcome`` (end_lines)
        reason = "the history cache was not loaded: the reading stopped before the history"
        if not history:
            reason = "the history is not read (read_history is false, or lookback_days covers the %d days EM keeps)" \
                % HISTORY_DAYS
        elif not params.get("history_cache", True):
            reason = "history_cache is false: the whole history was read"
        elif not params.get("report_dir"):
            reason = "no report_dir to keep the history cache in: the whole history was read"
        else:
            self.path = cache_path(params)
            self.mode = int(str(params.get("report_mode") or "0644"), 8)
            self.write = not check_mode
        self.enabled = self.path is not None
        self.outcome = {"used": False, "reason": reason, "read_from": _iso(self.read_from) if history else None,
                        "read_to": _iso(self.window_start) if history else None, "history_read": bool(history),
                        "window_read_from": _iso(self.window_start), "items_loaded": 0, "items_kept": 0,
                        "window_items_loaded": 0, "window_items_kept": 0, "window_cached": None, "written": None,
                        "job_read_from": _iso(self.history_start) if self.job_keys else None,
                        "job_items_loaded": 0, "job_items_kept": 0, "jobs_cached": None}
        if self.path and not self.window:
            self.outcome["window_reason"] = "history_cache_window is false: the whole window is read every night"

    @property
    def reads_history(self):
        """False when the cache holds the whole history (read_from at or after the window start)."""
        return self.read_from < self.window_start

    # ---- loading ------------------------------------------------------------------------------
    def identity(self, base, account):
        """What a cache must have been written for: the EM, the account, the kinds and fields read
        (the history's and the window's)."""
        return {"em": base, "account": account, "kinds": list(self.kinds),
                "fields": dict((kind, FIELDS[kind]) for kind in self.kinds),
                "window_fields": dict((kind, WINDOW_FIELDS[kind]) for kind in self.kinds),
                "job_reads": list(self.job_keys), "job_fields": list(JOB_SESSION_FIELDS) if self.job_keys else []}

    def begin(self, client, fold, listed=None):
        """Before the history reads: load and check the cache, fold what it may give, set read_from.

        A cache that does not fit is not used (a full read) and the reason is said in ``outcome``.
        Called before any session is folded, so a cache found broken half way is dropped whole
        (fold.discard) and nothing of it is judged. ``listed``: the backup servers EM lists tonight as (name, UID)
        pairs (known_servers_from_em, read before the cache; None when not read): one the cache's run did not list,
        by name or by UID, is a full read (_new_servers), and the cache written names them.

        The two halves, for a reader that folds the lines while EM is read (em_compliance_read.CacheLines):
        ``open_header`` (the ranges, from the header alone) then ``fold_lines`` and ``end_lines``."""
        stream = self.open_header(client, fold, listed)
        if stream is not None:
            self.end_lines(fold, self.fold_lines(stream, fold))

    def open_header(self, client, fold, listed=None):
        """The header half of ``begin``: the file opened and its first line checked (_misfit & co), the ranges
        read from EM set (read_from, window_read_from, job_read_from) before any line is folded; the open stream
        for ``fold_lines``, or None (no cache, or one that does not fit: a full read, said in ``outcome``)."""
        if not self.enabled:
            return None
        self.listed = None if listed is None else set(str(name).lower() for name, _uid in listed)
        self.listed_uids = None if listed is None else dict((str(uid).lower(), name) for name, uid in listed if uid)
        account = self.username or getattr(client, "user_name", None)
        self.identity_now = self.identity(getattr(client, "base", None), account)
        if not account:
            self._full("the EM account is not known (session_id without username): the history cache is not used")
            return None
        if not os.path.exists(self.path):
            self._full("no history cache yet (%s): the whole history was read" % self.path)
            return None
        stream = None
        try:
            stream = gzip.open(self.path, "rt", encoding="utf-8")
            header = json.loads(stream.readline() or "null")
            reason = self._misfit(header)
        except _READ_ERRORS as error:
            reason = self._unreadable(error)
        if reason is not None:
            if stream is not None:
                stream.close()
            fold.discard()
            self._full(reason)
            return None
        self._header_now = header["now"]
        self._set_ranges()
        return stream

    def fold_lines(self, stream, fold):
        """The lines half of ``begin``: fold the cached lines after the header into ``fold``; None, or why the
        file cannot be used (end_lines then discards the fold). Closes ``stream``. Any exception but those of a
        file that cannot be read (_READ_ERRORS: a full read, as before) reaches the caller."""
        try:
            with stream:
                return self._fold_lines(stream, fold)
        except _READ_ERRORS as error:
            return self._unreadable(error)

    def lines_state(self):
        """What ``fold_lines`` changed in this cache but the fold: the counts in ``outcome`` and the job part's items
        (JobPages.seed). A child process that folded the lines sends it to its parent (take_lines_state;
        em_compliance_read.CacheLines)."""
        return (dict((key, self.outcome[key]) for key in _LINES_COUNTS), self.cached_jobs, self.cached_job_types)

    def take_lines_state(self, state):
        counts, self.cached_jobs, self.cached_job_types = state
        self.outcome.update(counts)

    def end_lines(self, fold, reason):
        """After ``fold_lines``: a broken file (``reason``) discards the fold and is a full read; else ``outcome``
        says what the cache gave."""
        if reason is not None:
            fold.discard()
            self._full(reason)
            return
        reads_history = self.reads_history
        self.outcome.update(
            used=True, read_from=_iso(self.read_from) if reads_history else None,
            read_to=_iso(self.window_start) if reads_history else None, history_read=reads_history,
            window_read_from=_iso(self.window_read_from),
            job_read_from=_iso(self.job_read_from) if self.job_keys else None,
            reason="the history cache of the run at %s covers up to %s; read from EM from %s (%s h overlap)%s"
                   % (self._header_now, _iso(self.cached_through), _iso(min(self.read_from, self.window_read_from)),
                      _number(self.overlap.total_seconds() / 3600.0),
                      "" if reads_history else ": the history before the window is all in the cache, not read"))

    def _unreadable(self, error):
        # RecursionError: json.loads of a line nested thousands deep (no writer writes one)
        return "the history cache %s could not be read (%s): the whole history was read" % (
            self.path, type(error).__name__ if isinstance(error, RecursionError) else error)

    def _set_ranges(self):
        """The ranges read from EM when the header fits (its read_through, window and job part): known before any
        line is folded, so that EM can be read while the lines are (em_compliance_read.CacheLines)."""
        self.read_from = max(self.history_start, self.cached_through - self.overlap)
        if self.window and self.cached_window:
            self.window_read_from = max(self.window_start, self.read_from)
        if self.jobs_cached_through is not None:
            self.job_read_from = max(self.history_start, self.jobs_cached_through - self.overlap)

    def _fold_lines(self, stream, fold):
        """Fold the cached items, in batches; None, or why the file cannot be used (then the caller
        discards what was folded). A cached window item created in [window start, window_read_from) is
        a window session tonight (fold.add); any cached item created in [history start, min(read_from,
        window start)) is history (fold.add_history; a window item without the window-only fields);
        the others were forgotten by EM or are read again from EM. The ranges are set already (_set_ranges)."""
        history_to = min(self.read_from, self.window_start)
        batches = {True: dict((kind, []) for kind in self.kinds), False: dict((kind, []) for kind in self.kinds)}
        adds = {True: fold.add, False: fold.add_history}
        counts = {"loaded": 0, "kept": 0, "window_loaded": 0, "window_kept": 0}
        # read key -> the UIDs of its job lines (_job_line); ~25,000 UIDs at 50,000 VMs, not held past the lines
        job_uids = {}
        return self._fold_entries(stream, fold, history_to, batches, adds, counts, job_uids)

    def _fold_entries(self, stream, fold, history_to, batches, adds, counts, job_uids):
        """_fold_lines' walk over the lines after the header."""
        total, ended = None, False
        for line in stream:
            entry = json.loads(line)
            if ended:  # the trailer is the last line, whatever it holds
                return "the history cache %s goes on after its end: the whole history was read" % self.path
            if isinstance(entry, dict):  # the last line: how many items were written
                total, ended = entry.get("items"), True
                continue
            if isinstance(entry, list) and entry and entry[0] in (_JOB_MARK, _JOB_TYPE_MARK):
                reason = self._job_line(entry, counts, job_uids)
                if reason is not None:
                    return reason
                continue
            if isinstance(entry, list) and len(entry) == 2:  # a history item without a VM identity, as read
                reason = self._item_line(entry, fold, history_to, counts)
                if reason is not None:
                    return reason
                continue
            kind, values, times, window = _record_entry(entry, self.kinds)
            if values is None or (window and not self.cached_window):
                return "the history cache %s holds an entry that is not a history or window item of a kind " \
                       "read: the whole history was read" % self.path
            counts["window_loaded" if window else "loaded"] += 1
            created = times[0]
            if not self._record_time_fits(created, window):
                return "the history cache %s holds a session outside the part its line is in: the whole history " \
                       "was read" % self.path
            as_window = window and self.window_start <= created < self.window_read_from
            if not as_window and not self.history_start <= created < history_to:
                continue  # forgotten by EM, or read again from EM
            # one EM may still change (running, or neither Completed nor ended: fold.unsettled) is never before
            # read_through (save): "Stopped" with no end hid a Failed session's failure
            if unsettled(values[_STATE], times[1]):
                return "the history cache %s holds a running session before its covered end: the whole history " \
                       "was read" % self.path
            if window and not as_window:  # last night's window is tonight's history: read with fewer fields
                for position in _WINDOW_ONLY_AT[kind]:
                    values[position] = None
            counts["window_kept" if as_window else "kept"] += 1
            batch = batches[as_window][kind]
            batch.append(_record(kind, values, times, not as_window))
            if len(batch) >= _BATCH:
                adds[as_window](batch, kind, records=True)
                batches[as_window][kind] = []
        loaded = counts["loaded"] + counts["window_loaded"] + counts.get("job_loaded", 0)
        if total != loaded:
            return "the history cache %s is incomplete (%s of %s items): the whole history was read" % (
                self.path, loaded, total)
        for as_window, by_kind in batches.items():
            for kind, records in by_kind.items():
                adds[as_window](records, kind, records=True)
        self.outcome.update(items_loaded=counts["loaded"], items_kept=counts["kept"],
                            window_items_loaded=counts["window_loaded"], window_items_kept=counts["window_kept"],
                            job_items_loaded=counts.get("job_loaded", 0), job_items_kept=counts.get("job_kept", 0))
        return None

    def _record_time_fits(self, created, window):
        """Whether a window line's creation time is one its writer could write: before read_through (save writes
        the window's sessions created before it). Not bounded below by the cached window start, nor a history
        line's: those bounds are EM's filters (how EM compares fractional seconds at a bound is undocumented,
        [INF]), and one EM returns past them is written as it came; a line outside [history start, read_from)
        is not folded (_fold_lines)."""
        return not window or created < self.cached_through

    def _item_line(self, entry, fold, history_to, counts):
        """A history item without a VM identity (``[kind, item]``), kept as read: the fold sets it aside at
        settle (unreadable_sessions) as a cold read does. None, or why the file cannot be used: the writer
        writes no other item so (a VM's session is a record line)."""
        kind, item = entry
        # scalars where the fold reads (_plain): a list as result or UID broke the fold (TypeError)
        created = readable_creation_time(item) if _plain(item, _ITEM_KEYS) else None
        if kind not in self.kinds or created is None or item.get("vm_uid") or item.get("vm_display_name"):
            return "the history cache %s holds an entry that is not a history or window item of a kind read: " \
                   "the whole history was read" % self.path
        counts["loaded"] += 1
        if self.history_start <= created < history_to:
            if unsettled(item.get("state"), readable_end(item, created)):
                return "the history cache %s holds a running session before its covered end: the whole history " \
                       "was read" % self.path
            counts["kept"] += 1
            fold.add_history([item], kind)
        return None

    def _job_line(self, entry, counts, job_uids):
        """Take one line of the job part: a job session of the cached window (``["job", read key, item]``)
        created in [history start, job_read_from) goes to that read (JobPages.seed: the window's kept whole,
        an older one reduced to its job's type); a job's type (``["job_type", read key, server, job, type or
        null, creation time]``, JobPages.type_notes) of a session at or after the history start too (an older
        one a cold read would not see). None, or why the file cannot be used.

        A line the writer cannot have written is refused (a full read): a job session outside the cached
        window's [window start, job_read_through) or one EM may still change (as a cached running task session
        is), a type of a session not before that window start, a type that is not a word. Such a line (a file
        edited by hand) would type a job a cold read does not see - a "newest" time in the future kept a
        forgotten job's type for ever, its copies counted as backups."""
        counts["job_loaded"] = counts.get("job_loaded", 0) + 1
        usable = self.jobs_cached_through is not None
        if entry[0] == _JOB_MARK and len(entry) == 3 and entry[1] in self.job_keys and _plain(entry[2], _JOB_KEYS):
            created = readable_creation_time(entry[2])
            uid = entry[2].get("uid")
            if uid:  # the writer writes a job session once (JobPages keeps one a UID, as given): a second is an edit
                seen = job_uids.setdefault(entry[1], set())
                if uid in seen:
                    return "the history cache %s holds a job session twice (%s): the whole history was read" % (
                        self.path, uid)
                seen.add(uid)
            # and settled: job_read_through is never after a window job session EM may still change
            if created is not None and self._job_time_fits(created, True) and not job_unsettled(entry[2], created):
                if usable and self.history_start <= created < self.job_read_from:
                    keys = self._job_item_keys
                    item = dict((keys.setdefault(key, key), value) for key, value in entry[2].items())
                    self.cached_jobs[entry[1]].append(self._share_job(item))
                    counts["job_kept"] = counts.get("job_kept", 0) + 1
                return None
        elif entry[0] == _JOB_TYPE_MARK and len(entry) == 6 and entry[1] in self.job_keys:
            try:
                newest = em_time.parse_iso(entry[5])
            except (TypeError, ValueError):
                newest = None
            if newest is not None and isinstance(entry[2], str) and isinstance(entry[3], str) \
                    and (entry[4] is None or isinstance(entry[4], str)) and self._job_time_fits(newest, False):
                # not one EM is asked for again (from job_read_from): EM's read of that session types the job (a
                # note edited to a time after EM's was the newer one, and its type won over EM's: found by attack)
                if usable and self.history_start <= newest < self.job_read_from:
                    self.cached_job_types[entry[1]].append(((entry[2], entry[3]), entry[4], newest))
                    counts["job_kept"] = counts.get("job_kept", 0) + 1
                return None
        return "the history cache %s holds a job-session line that cannot be read: the whole history was read" \
            % self.path

    def _job_time_fits(self, moment, window):
        """Whether a job line's time is one its writer could write: a window job session's (``window``) in [the
        cached window start, job_read_through), a type's before the cached window start (JobPages notes types
        only of sessions before its window). Without a usable job part (its lines are not taken) any time fits."""
        start, through = self.cached_job_window, self.jobs_cached_through
        if through is None or start is None:
            return True
        return start <= moment < through if window else moment < start

    def _misfit(self, document):
        """Why the cache's first line cannot stand for this run's history before ``read_from`` (None: it can)."""
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            return "the history cache %s is not of format %d: the whole history was read" % (self.path, FORMAT)
        cached = document.get("identity")
        if not isinstance(cached, dict):
            return "the history cache %s names no EM and account: the whole history was read" % self.path
        for key, what in (("em", "another EM"), ("account", "another EM account"), ("kinds", "other kinds of sessions"),
                          ("fields", "other history fields"), ("window_fields", "other window fields"),
                          ("job_reads", "other job-session reads"), ("job_fields", "other job-session fields")):
            if cached.get(key) != self.identity_now[key]:
                return "the history cache %s was written for %s (%s, this run: %s): the whole history was read" % (
                    self.path, what, _shown(cached.get(key)), _shown(self.identity_now[key]))
        try:
            written_now, read_through, full_read_at = (em_time.parse_iso(document.get(key))
                                                       for key in ("now", "read_through", "full_read_at"))
        except (TypeError, ValueError):
            written_now = None
        if written_now is None or read_through is None or full_read_at is None:
            return "the history cache %s has no readable times: the whole history was read" % self.path
        # a full read is at or before its run's now; a later one, written forward every night, stopped the full
        # read every history_full_read_days (the bound on sessions EM collects late) for ever
        if full_read_at > written_now:
            return "the history cache %s has a full read time (%s) after its own run (now=%s): the whole history " \
                   "was read" % (self.path, _iso(full_read_at), _iso(written_now))
        if written_now > self.now:
            return "the history cache %s is from a run after this one (now=%s, this run: %s): the whole history " \
                   "was read" % (self.path, _iso(written_now), _iso(self.now))
        cached_window = document.get("window_cached") is True
        reason = self._window_misfit(document, cached_window, written_now, read_through)
        if reason is not None:
            return reason
        if read_through < self.history_start:
            return "the history cache %s ends at %s, before this run's history starts (%s): the whole history " \
                   "was read" % (self.path, _iso(read_through), _iso(self.history_start))
        if self.now - full_read_at >= timedelta(days=self.full_read_days):
            return "the last full read of the history was at %s, history_full_read_days=%s ago or more: the whole " \
                   "history was read" % (_iso(full_read_at), _number(self.full_read_days))
        reason = self._new_servers(document)
        if reason is not None:
            return reason
        self.cached_through, self.full_read_at, self.cached_window = read_through, full_read_at, cached_window
        self.jobs_cached_through = self._job_part(document, written_now)
        return None

    def _new_servers(self, document):
        """Why EM's backup servers tonight do not fit the cache (None: they do, or EM's list was not read).

        A backup server added to EM - or one EM reaches again after it forgot it - comes with its past sessions,
        collected now with their past creation times (docs/em-api-facts.md 6, [INF]): the delta after the cached
        part would not read them (its VMs' older failures, a cold read's findings). So a server EM lists that the
        cache's run did not list is a full read. A cache written without EM's list is one too.

        By name and by UID: a backup server removed from EM and added again under its name (VBR reinstalled on its
        host) has a new UID and comes with its past sessions as a new one does [INF: EM gives a server added again
        a new UID; not seen in a capture] - compared by name alone, the delta missed a Failed session among them (a
        false compliant, test_a_server_added_again_under_its_name_is_a_full_read). A server EM lists without a UID
        is compared by its name only. A cache written before the UIDs were kept is a full read once."""
        if self.listed is None:
            return None
        cached = document.get("servers_listed")
        cached_uids = document.get("server_uids_listed")
        if not all(isinstance(values, list) and all(isinstance(value, str) for value in values)
                   for values in (cached, cached_uids)):
            return "the history cache %s does not name the backup servers EM listed, by name and UID " \
                   "(known_servers_from_em): the whole history was read" % self.path
        new = sorted(self.listed - set(cached))
        if new:
            return "EM lists backup server(s) the history cache %s does not know (%s): EM may have just collected " \
                   "their past sessions, the whole history was read" % (self.path, ", ".join(new))
        new = sorted("%s (%s)" % (self.listed_uids[uid], uid) for uid in set(self.listed_uids) - set(cached_uids))
        if new:
            return "EM lists backup server(s) under a UID the history cache %s does not know (%s): a server added " \
                   "to EM again comes with its past sessions, the whole history was read" % (self.path, ", ".join(new))
        return None

    def _job_part(self, document, written_now):
        """The end of what the cache's job part covers, or None (the job sessions are read whole from the
        history start, the reason in ``outcome['jobs_reason']``): it holds every job session of its window
        created before ``job_read_through`` and the type of each job seen before its window (with its newest
        session's time), so it stands for this run's [history start, job_read_from) only when its window
        starts at or before this run's and its end is within [this run's history start, its own now]."""
        if not self.job_keys:
            return None
        if document.get("jobs_cached") is not True:
            self.outcome["jobs_reason"] = "the history cache holds no job sessions: they were read whole"
            return None
        try:
            through, cached_start = (em_time.parse_iso(document.get(key)) for key in ("job_read_through", "window_start"))
        except (TypeError, ValueError):
            through = cached_start = None
        if through is None or cached_start is None or not self.history_start <= through <= written_now \
                or cached_start > self.window_start:
            self.outcome["jobs_reason"] = "the history cache's job part (through %s, window from %s) does not " \
                                          "cover this run's (history from %s, window from %s): the job sessions " \
                                          "were read whole" % (_shown(document.get("job_read_through")),
                                                               _shown(document.get("window_start")),
                                                               _iso(self.history_start), _iso(self.window_start))
            return None
        self.cached_job_window = cached_start
        return through

    def _window_misfit(self, document, cached_window, written_now, read_through):
        """Why the cache's full-detail range (its window, [window_start, read_through)) does not cover this
        run's [window start, read_from) (None: it does). Without a window part it ends at its window start."""
        if read_through > written_now:
            return "the history cache %s covers up to %s, after its own run (now=%s): the whole history was read" % (
                self.path, _iso(read_through), _iso(written_now))
        if not cached_window:
            if read_through > self.window_start:
                return "the history cache %s covers up to %s, into this run's window (from %s): the whole " \
                       "history was read" % (self.path, _iso(read_through), _iso(self.window_start))
            return None
        try:
            cached_start = em_time.parse_iso(document.get("window_start"))
        except (TypeError, ValueError):
            cached_start = None
        if cached_start is None:
            return "the history cache %s has no readable window start: the whole history was read" % self.path
        if cached_start > self.window_start:
            return "the history cache %s holds the window from %s (lookback_days=%s), after this run's window " \
                   "start %s (lookback_days=%s): the whole history and window were read" % (
                       self.path, _iso(cached_start), _shown(document.get("lookback_days")),
                       _iso(self.window_start), _shown(self.lookback_days))
        return None

    def _full(self, reason):
        self.read_from, self.full_read_at = self.history_start, self.now
        self.window_read_from = self.window_start
        self.job_read_from, self.jobs_cached_through = self.history_start, None
        self.cached_jobs = dict((key, []) for key in self.job_keys)
        self.cached_job_types = dict((key, []) for key in self.job_keys)
        self.outcome.update(used=False, reason=reason, read_from=_iso(self.read_from), read_to=_iso(self.window_start),
                            history_read=True, window_read_from=_iso(self.window_start), items_loaded=0,
                            items_kept=0, window_items_loaded=0, window_items_kept=0,
                            job_read_from=_iso(self.history_start) if self.job_keys else None,
                            job_items_loaded=0, job_items_kept=0)

    # ---- while reading ------------------------------------------------------------------------
    def watch(self, fold):
        """Every running session handed to the fold (window and history pages, also those a newer
        session of their fold key hides) bounds ``read_through`` (SessionFold.on_running: the fold's
        one is_running per item)."""
        fold.on_running = self.note_running

    def note_running(self, created):
        """A session still running, created at ``created``."""
        self.oldest_running = earlier(self.oldest_running, created)

    def note_unsettled_job(self, created):
        """A job session of the window EM may still change (JobPages: not Stopped with an end), created at
        ``created``: the job part covers nothing from it on (``job_read_through``), so it is read again."""
        self.oldest_unsettled_job = earlier(self.oldest_unsettled_job, created)

    # ---- saving -------------------------------------------------------------------------------
    def save(self, fold, jobs=None):
        """Write the history and the window the fold holds (before settle), after every read succeeded;
        with ``jobs`` ({read key: em_compliance_read.JobPages} of every job-session read) the job part too.

        A file that cannot be written is not a failure of the run (its verdicts are complete):
        the next run reads the whole history, and ``outcome`` says why. With ``write_beside`` (below
        WRITE_BESIDE_BELOW_VMS) the file is written by a child process, from the fold as it is now, while the caller
        goes on (it may settle and evaluate the fold): ``wait()`` completes ``outcome``."""
        if not (self.enabled and self.write):
            return
        if fold.history_set_aside:
            # Such a session cannot be placed in time, so no cache can keep it; a warm night that did not
            # read it again would lose its unreadable_sessions finding. Every night reads it until EM forgets it.
            self.outcome["not_written"] = "%d history session(s) have no readable creation time: the cache is not " \
                                          "written, the next run reads the whole history" % fold.history_set_aside
            return
        # Every running session came through the fold this run (watch): the cached ones folded in are
        # older than read_from, and a running one there refuses the file (_fold_lines).
        cached_window = self.window and fold.window_set_aside == 0
        if self.window and not cached_window:
            self.outcome["window_reason"] = "%d window session(s) could not be placed in time (no readable " \
                                            "creation time or no VM): the window part is not cached, the next " \
                                            "run reads the whole window" % fold.window_set_aside
        end = self.now if cached_window else self.window_start
        quiet = self._quiet_through(fold)
        read_through = min(moment for moment in (end, self.oldest_running, quiet) if moment is not None)
        job_through = self._job_read_through(jobs)
        if job_through is not None and quiet is not None:
            job_through = min(job_through, quiet)
        header = {"format": FORMAT, "identity": self.identity_now, "now": _iso(self.now),
                  "read_through": _iso(read_through), "full_read_at": _iso(self.full_read_at),
                  "window_start": _iso(self.window_start), "lookback_days": self.lookback_days,
                  "window_cached": cached_window, "jobs_cached": job_through is not None,
                  "job_read_through": _iso(job_through) if job_through is not None else None,
                  "servers_listed": sorted(self.listed) if self.listed is not None else None,
                  "server_uids_listed": sorted(self.listed_uids) if self.listed_uids is not None else None}
        entries = _entries(fold, read_through if cached_window else None, jobs if job_through is not None else None,
                           job_through)
        self._written = dict(written=self.path, window_cached=cached_window, jobs_cached=job_through is not None)

        def write():
            _write_atomic(self.path, header, entries, self.mode)
        if self.write_beside and len(fold.groups) < WRITE_BESIDE_BELOW_VMS:
            self._writer = em_files.WrittenBeside.start(write)   # None: written here
            if self._writer is not None:
                return
        try:
            write()
        except em_files.WRITE_ERRORS as error:
            self._write_failed(error)
            return
        self.outcome.update(self._written)

    def wait(self):
        """The end of save() when a child process writes the file (write_beside): ``outcome`` then says what was
        written, or why not. Nothing to do otherwise; safe to call again (the module calls it on every path)."""
        writer, self._writer = self._writer, None
        if writer is None:
            return
        failed = writer.wait()
        if failed:
            self._write_failed(failed)
        else:
            self.outcome.update(self._written)

    def _write_failed(self, error):
        self.outcome["write_error"] = "the history cache %s could not be written (%s): the next run reads " \
                                      "the whole history" % (self.path, error)

    def _quiet_through(self, fold):
        """Where a quiet backup server holds the cache back (None: none does): its newest sign of life plus the
        overlap, when that is before now.

        A backup server EM cannot reach is quiet in EM, and when EM reaches it again its sessions arrive with
        their past creation times (docs/em-api-facts.md 6, [INF]). Were the cache to cover past its last sign
        of life by more than the overlap, the next night would not read those sessions (a Failed one among them
        is a warning or a failure count a full read finds: a better verdict than EM's data gives). So the
        next night reads from its last sign of life on. The signs are every session folded, window and history,
        whatever the patterns (fold.server_signs: a history session by its creation, a lower bound of its end;
        a server excluded tonight may be taken in tomorrow); a server EM lists (known_servers_from_em) in the
        server scope with no session at all is quiet since the history start. Its cost: while a server is that
        quiet, each run reads back to its newest session (at most the 30 days, a full read's)."""
        signs = [(moment, name or key) for key, (moment, name, _named_at) in sorted(fold.server_signs.items())]
        named = set(str(name).lower() for _moment, name in signs)
        policy = fold.policy
        signs += [(self.history_start, name) for name in sorted(self.listed or ())
                  if name not in named and in_scope(name, policy["include_servers"], policy["exclude_servers"])]
        quiet = min(signs, key=lambda sign: sign[0]) if signs else None
        if quiet is None or quiet[0] + self.overlap >= self.now:
            return None
        moment, name = quiet
        self.outcome["quiet_server"] = (
            "backup server %s has no session since %s (more than %s h before this run): the cache covers only up "
            "to %s, so the next run reads again from that last sign of life the sessions EM collects late when it "
            "reaches the server again" % (name, _iso(moment) if moment > self.history_start else "the history start",
                                          _number(self.overlap.total_seconds() / 3600.0), _iso(moment + self.overlap)))
        return moment + self.overlap

    def _job_read_through(self, jobs):
        """Where the job part written tonight ends (None: none is written, said in ``outcome``): now, or the
        creation of the oldest window job session EM may still change. A job session whose creation time
        cannot be read cannot be placed in time (as for the window's task sessions): no job part then."""
        if not self.job_keys:
            return None
        if jobs is None or sorted(jobs) != sorted(self.job_keys):
            self.outcome["jobs_reason"] = "the job sessions were not all read: no job part is cached"
            return None
        unplaced = sum(pages.unplaced for pages in jobs.values())
        if unplaced:
            self.outcome["jobs_reason"] = "%d job session(s) have no readable creation time: no job part is " \
                                          "cached, the next run reads the job sessions whole" % unplaced
            return None
        return self.now if self.oldest_unsettled_job is None else min(self.now, self.oldest_unsettled_job)


def _entries(fold, window_before, jobs=None, jobs_before=None):
    """The lines of the items: the history's (``_record_line``; an item without a VM identity as ``[kind, item]``),
    then, when ``window_before`` is given, the window's sessions created before it, marked "window": one at a time,
    from the fold. With ``jobs`` the job part: each read's window job sessions created before ``jobs_before`` as
    read (``["job", read key, item]``), and what a later night must know of each job seen before the window
    (``["job_type", read key, server, job, type or null, creation time]``, JobPages.type_notes)."""
    for kind, line, item in fold.history_lines():
        yield _record_line(kind, line) if item is None else [kind, _without_kind(item)]
    if window_before is not None:
        for kind, line in fold.window_lines(window_before):
            yield _record_line(kind, line, _WINDOW_MARK)
    for key, pages in sorted((jobs or {}).items()):
        for item in pages.kept_before(jobs_before):
            yield [_JOB_MARK, key, item]
        for (server, job), job_type, created in sorted(pages.type_notes(), key=lambda note: (note[0], note[2])):
            yield [_JOB_TYPE_MARK, key, server, job, job_type, _iso(created)]


def _record_line(kind, line, *mark):
    """The line of a session the fold holds (_Packer.line: its RECORD_KEYS' values and its times in microseconds,
    taken from its packed record as they are): what _record_entry reads back to the same record."""
    return [kind, line[0], line[1], line[2], line[3]] + list(mark)


def _without_kind(item):
    return dict((key, value) for key, value in item.items() if key != "_kind")


def _option(params, name, default):
    value = params.get(name)
    return default if value is None else value


def _shown(value):
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)


def _number(value):
    return ("%d" % value) if float(value).is_integer() else ("%s" % value)


def _record_entry(entry, kinds):
    """(kind, values (a list), (creation, end, restore point time), a window session?) of a record line, or
    (None, None, None, False) when it is not one its writer could write. The file is input like EM's answer (it
    sits in the report directory, and may be edited or damaged): every value is checked to be one the fold's
    record of a read item can hold (fold._record: strings or null, a VM identity, a replica without job session,
    the end not before the creation, times a datetime can hold)."""
    none = (None, None, None, False)
    if not isinstance(entry, list) or len(entry) not in (_RECORD_LINE, _RECORD_LINE + 1) or entry[0] not in kinds:
        return none
    window = len(entry) == _RECORD_LINE + 1
    values = entry[1]
    if (window and entry[_RECORD_LINE] != _WINDOW_MARK) or not isinstance(values, list) \
            or len(values) != len(RECORD_KEYS) or not (values[_VM_UID] or values[_VM_NAME]):
        return none
    if not _STRINGS.issuperset(map(type, values)):  # json.loads makes no subclass of str
        return none
    for position in _NONE_AT[entry[0]]:
        if values[position] is not None:
            return none
    created, ended, point = entry[2:_RECORD_LINE]
    created = _moment(created)
    # no restore point time: the module reads none (sessions.data_time prefers it to the creation time - one
    # edited to an hour ago made a stale VM fresh, past every re-read range)
    if created is None or point is not None:
        return none
    if ended is not None:
        ended = _moment(ended)
        if ended is None or ended < created:  # readable_end: an end before the creation is none
            return none
    return entry[0], values, (created, ended, None), window


_SCALARS = frozenset((str, bool, int, float, type(None)))   # what a cached item's or job session's values may be


def _plain(item, keys):
    """Whether ``item`` is a dict whose values at ``keys`` are scalars: what a read item holds there (em_parse
    normalises EM's answer to strings, numbers and bools); a list or dict in a cached line's UID, result or job
    name broke the fold and the job part (unhashable: TypeError)."""
    return isinstance(item, dict) and all(type(item.get(key)) in _SCALARS for key in keys)


_ITEM_KEYS = RECORD_KEYS + ("creation_time", "end_time")     # what the fold reads of an item (fold._record)
_JOB_KEYS = ("uid",) + JOB_SESSION_FIELDS                    # what JobPages reads of a job session


def _record(kind, values, times, history):
    """The fold's record (fold._record) of a checked record line."""
    return tuple(values) + times + (kind, history)


def _moment(value):
    """A time of a record line (microseconds since the epoch, an int a datetime holds) as the datetime, or None."""
    # an int: JSON's true or 1.5 is no time the writer writes
    if type(value) is not int or not _FIRST <= value <= _LAST:  # pylint: disable=unidiomatic-typecheck
        return None
    return _EPOCH + timedelta(0, 0, value)  # positional: a third less than microseconds=


def _write_atomic(path, header, entries, mode):
    """The cache as gzip'd JSON lines - the header, one session (or job line) per line, then ``{"items": count}`` -
    written whole or not at all (em_files.atomic_open, the reports' writer): a run that stops half way
    leaves the previous cache, never half a file. Lines, so that neither writing nor reading holds the
    whole history as one document (~110,000 items at 50,000 VMs)."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    with em_files.atomic_open(path, mode, binary=True) as raw:
        # Level 1 and a write per batch of lines (issue 18: at 5,000 VMs the ~50,000 lines at level 6,
        # one write each, were a fifth of the nightly's cache time; the file is ~20 % larger).
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) as stream:
            encode = _encoder()
            texts, count = [encode(header)], 0
            for entry in entries:
                texts.append(encode(entry))
                count += 1
                if len(texts) >= _WRITE_BATCH:
                    stream.write(_lines(texts))
                    texts = []
            texts.append(encode({"items": count}))
            stream.write(_lines(texts))


# One encoder for every line (json.dumps with options builds one per call: a tenth of the lines' time).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
_C_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)   # None where _json is not built (PyPy)
_PROBE = [{"b": [1, 2.5, -0.0, 1e300, None, True], "a": u"\u03a9\"\\\n\x00/\u2028"}, [], {}, "x", 10 ** 20]


def _encoder():
    """_ENCODER.encode, or the C encoder it makes for each call made once per file (issue 18: JSONEncoder.encode
    builds it anew for every line, ~40 % of encoding the ~60,000 lines of a warm night at 5,000 VMs). The C
    encoder is CPython's, made with the arguments JSONEncoder.iterencode gives it (a fresh ``markers`` dict:
    the circular-reference check kept); used only where it gives _ENCODER's text for a probe of every kind of
    value, else (another Python, another signature) _ENCODER.encode."""
    make = _C_MAKE_ENCODER
    if make is None:
        return _ENCODER.encode
    try:
        fast = make({}, _ENCODER.default, json.encoder.encode_basestring, None, _ENCODER.key_separator,
                    _ENCODER.item_separator, True, False, True)

        def encode(value):
            return "".join(fast(value, 0))
        if encode(_PROBE) != _ENCODER.encode(_PROBE):
            return _ENCODER.encode
    except (TypeError, ValueError):
        return _ENCODER.encode
    return encode


def _lines(texts):
    """JSON texts (each one line: JSON escapes every control character) as lines, UTF-8. EM's words pass the one
    scrubber, as in the reports: a token or password EM echoed in a session's name is not kept on disk (a name
    changed by it can only cost a full read of it). Each line is scrubbed alone, as before, but only when a
    secret's form occurs in the batch joined (em_secrets.found; issue 18: one search per batch of 1,000 lines,
    not one per line). The join decides nothing else: where no form is in the whole, none is in any line, and
    on a hit every line is scrubbed on its own, so no match can span two lines nor be hidden by the join."""
    text = "\n".join(texts) + "\n"
    if em_secrets.found(text):
        text = "".join(em_secrets.scrub(line) + "\n" for line in texts)
    return text.encode("utf-8")
