# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Task sessions folded per (backup server, VM) as they arrive, and the per-VM walk of the result.

FOR INTERNAL COLLECTION USE ONLY: the public front is module_utils/em_compliance.py; names here may
change without notice.

Why a fold (issue 18): at 50,000 VMs the window holds ~430,000 task sessions; as normalised dicts,
then prepared copies of them and the sorted lists of the evaluation, the module peaked at 1 GB.
Here each session is kept once, as one tuple of the keys the rules read (RECORD_KEYS), with its
times parsed and the values that repeat across sessions (VM, server, job, state, result) shared,
in the group of its (backup server, VM); the month of history before the window is reduced as it
is read to the newest session per VM, job and result (fold_history's key). Sessions outside the
include/exclude patterns leave only what the counts need. The rules then run one VM at a time on
that VM's sessions, rebuilt as dicts and dropped after its row is made, so the evaluation never
holds more than one VM's dicts.

Order-independent: pages arrive in any order (the client fetches them in parallel, and a relogon
restarts a walk), so nothing depends on arrival. A session is its UID: one read twice (on two
pages when EM inserts during the walk, or again after a restart) is folded once, the first read
kept, except that a finished read replaces a running one of the same session (EM finished it
between the two pages; the later state is the truth). Each VM's sessions are sorted by creation
time and UID before the rules see them, the groups are walked in the order of their oldest session
(the order of the list-based evaluation), and the history keeps per key the session of the greatest
(creation time, UID).

The records and their packing into one string each are in packing.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.packing import (  # noqa: F401
    RECORD_KEYS, _CREATED, _END, _HISTORY, _JOB, _JOB_SESSION, _KIND, _microseconds, _Packer, _POINT, _RECORD,
    _SERVER_NAME, _SERVER_UID, _STATE, _UID, _VM_NAME, _VM_UID, renumbered_key)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.rules import CLOCK_SKEW_TOLERANCE
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.policy import (
    in_scope, scope_filtered, session_in_scope)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.sessions import (
    is_running, is_source_backup_type, job_session_key, _name_key, readable_creation_time, readable_end,
    _readable_time, server_key, server_key_of)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.vocabulary import (
    KIND_BACKUP, KIND_COPY, KIND_REPLICA, RUNNING_STATES, STATE_COMPLETED)

_KIND_RANK = {KIND_BACKUP: 0, KIND_REPLICA: 1}
_RESULT = RECORD_KEYS.index("result")
# What a fold holds (not its policy, window or packer): what a child process that folded the history cache's lines
# sends back (SessionFold.portable).
_HELD = ("server_signs", "groups", "excluded", "history", "unreadable", "ignored", "last_seen", "ahead_seen", "uids",
         "read", "window_set_aside", "history_set_aside", "job_session_uids", "_unreadable_uids")
# What is read of an item of each kind: the same keys (a replica task session's job session UID is read since
# session 14: two VMs of one name in one replica job session are rules.ambiguous_vm).
_READ = {KIND_BACKUP: RECORD_KEYS, KIND_REPLICA: RECORD_KEYS}


def _lower(value):
    return str(value or "").lower()


class _SharedPacker(_Packer):
    """The packer of a fold and its sibling (SessionFold.sibling), which two threads feed at once: a value new to
    the table is numbered under a lock (two threads numbering two values alike would unpack one as the other); a
    value already numbered is looked up without it (a dict read is atomic in CPython), as pack does inline."""

    def __init__(self):
        _Packer.__init__(self)
        self._lock = threading.Lock()

    def _number(self, value):
        number = self.index.get(value)
        if number is not None:
            return str(number)
        with self._lock:
            return _Packer._number(self, value)


def record_view(record):
    """The record as a dict of RECORD_KEYS (what session_in_scope and server_key read)."""
    return dict(zip(RECORD_KEYS, record))


def as_session(record, kind):
    """The prepared session dict the rules read (what the list-based prepare_sessions made before the fold)."""
    session = record_view(record)
    session.update(_created=record[_CREATED], _end=record[_END], _point_created=record[_POINT], _kind=kind)
    return session


def sort_key(record):
    return (record[_CREATED], record[_UID] or "", _KIND_RANK[record[_KIND]])


class SessionFold(object):
    """The task sessions read so far, per (backup server, VM); see the module docstring.

    ``add`` takes window sessions (every one counts), ``add_history`` the sessions before the
    window (reduced to the newest per VM, job and result); ``settle`` ends the reading, and
    ``vm_groups`` walks the VMs (each group leaves the fold as it is walked).
    """

    def __init__(self, policy, start):
        self.policy = policy
        # server key -> [newest sign of life, name]: every session folded - window and history, any scope - as the
        # history cache's quiet bound needs it before settle (history_cache._quiet_through); last_seen is the rules'
        self.server_signs = {}
        self.start = start
        self.groups = {}          # (server key, VM uid or "name:...") -> (oldest creation (µs), packed records joined)
        self.excluded = []        # packed records of the sessions outside the patterns (counts only)
        self.history = {}         # fold_history's key -> (creation time, packed record or (item, kind))
        self.unreadable = []      # the items set aside (rules.unreadable_*), each named in a finding
        self.ignored = 0
        self.last_seen = {}       # server key, and "known:<name>", -> newest point time (server_silent)
        self.ahead_seen = {}      # the same, of the times dated ahead of ``now`` (a wrong clock: clock_skew)
        self.uids = {}            # (server key, lower VM name) -> VM UIDs (a tuple) (vm_groups, rows.vm_key)
        self.read = 0             # items handed in (history included), for the query summaries
        self.window_set_aside = 0  # window items set aside (no readable creation time or VM): not cacheable
        self.history_set_aside = 0  # history items without a readable creation time: not cacheable either
        # Called with the creation time of every running session handed in (window and history): the
        # history cache bounds what it keeps by the oldest (history_cache.note_running). One is_running
        # per item, shared with the history's fold key.
        self.on_running = None
        # The job sessions the window's backup task sessions name (sessions.job_session_key: 16 bytes a UID):
        # those no job-session read returns are read by UID (em_compliance_read.read_named_job_sessions), so
        # that a copy job's session older than the history, or one EM collected late, types them by UID.
        self.job_session_uids = set()
        self._packer = _SharedPacker()
        self._unreadable_uids = set()

    # ---- feeding ------------------------------------------------------------------------------
    def add(self, items, kind, records=False):
        """Window sessions of one kind (KIND_BACKUP or KIND_REPLICA). With ``records``, ``items`` are records
        the history cache made and checked (history_cache._record_entry: a window record, the history flag
        false), not read again from items (issue 18: the warm night's read back)."""
        for item in items or []:
            self.read += 1
            record = item if records else self._record(item, kind, False)
            if record is None:
                self.window_set_aside += 1
                continue
            if self.on_running is not None and unsettled(record[_STATE], record[_END]):
                self.on_running(record[_CREATED])
            if record[_JOB_SESSION] and record[_KIND] == KIND_BACKUP:  # backup job sessions are read by UID
                self.job_session_uids.add(job_session_key(record[_JOB_SESSION]))
            self._place(record)

    def add_history(self, items, kind, records=False):
        """Sessions before the window: per (server, VM, job, result, running) the newest is kept
        (sessions.fold_history's rule; ties by UID); items without a readable creation time are
        dropped, as there. With ``records``, ``items`` are records the history cache made and checked
        (history_cache._record_entry: a VM identity, the history flag true), not read again from items
        (issue 18); a record's values are what _record took of its item, so its key is the item's."""
        for item in items or []:
            self.read += 1
            if records:  # the key from the record's positions (issue 18: no dict of it), as from the item
                record, created = item, item[_CREATED]
                running = record[_STATE] in RUNNING_STATES
                watched = running or unsettled(record[_STATE], record[_END])
                key = (kind, server_key_of(record[_SERVER_UID], record[_SERVER_NAME]), _lower(record[_VM_UID]),
                       _lower(record[_VM_NAME]), _lower(record[_JOB]), record[_RESULT], running)
                uid = record[_UID] or ""
            else:
                record, created = None, readable_creation_time(item)
                if created is None:  # named like a window item (unreadable_sessions), never dropped unsaid
                    self.history_set_aside += 1
                    self._set_aside(item, kind)
                    continue
                running = is_running(item)
                watched = running or _unsettled_item(item, created)
                key = (kind, server_key(item), _lower(item.get("vm_uid")), _lower(item.get("vm_display_name")),
                       _lower(item.get("job_name")), item.get("result"), running)
                uid = _history_uid(item)
            if self.on_running is not None and watched:
                self.on_running(created)  # also one that a newer session of its key hides
            # its creation, a lower bound of its end: the history cache's quiet bound reads back no later for it
            self._seen(key[1], record[_SERVER_NAME] if records else item.get("backup_server_name"), created, created,
                       rules=False)
            key = self._packer.key(key)
            kept = self.history.get(key)
            if kept is None or created > kept[0] or (created == kept[0] and uid > self._uid_of(kept[1])):
                # EM's read goes last (_merged's move): settle places the history in this order, and unique_records
                # keeps a session's later read, EM's over the cache's line of it. Not the cache's own lines: one
                # replacing another needs no order (at 50,000 VMs last night's window day read back as history
                # replaces ~50,000 entries; moving them only churned the dict: no peak change measured either way).
                if kept is not None and not records:
                    del self.history[key]
                # A VM's session is kept as its record; one without a VM identity as the item, to be
                # set aside (unreadable) at settle() like the list-based evaluation did.
                if record is not None:
                    self.history[key] = (created, self._packer.pack(record))
                elif item.get("vm_uid") or item.get("vm_display_name"):
                    self.history[key] = (created, self._packer.pack(self._record(item, kind, True)))
                else:
                    self.history[key] = (created, (item, kind))

    # ---- two folds at once: the history cache's lines while EM is read (em_compliance_read.CacheLines) ----------
    def sibling(self):
        """An empty fold of the same policy, window and ``now``, sharing this fold's packer (its packed records are
        this fold's): the history cache's lines are folded into it (in a thread, or in a child process's copy:
        ``split``) while EM's pages are folded into this one, each fold fed by one thread only; ``absorb_first``
        then joins them."""
        other = SessionFold(self.policy, self.start)
        for name in ("now", "options"):
            if hasattr(self, name):
                setattr(other, name, getattr(self, name))
        other._packer = self._packer  # pylint: disable=protected-access
        return other

    def split(self, parity):
        """Before a fork (parity 1, the parent) and in the child (0): the two number new values apart
        (packing._Packer.split_numbers), so that the child's fold can be taken in (``take_portable``); None ends
        the split (no child was forked)."""
        self._packer.split_numbers(parity)

    def portable(self):
        """What this fold holds, as plain data (pickled; a child process's fold, see ``split``), with its packer's
        table from the split."""
        return dict((name, getattr(self, name)) for name in _HELD), self._packer.split_table()

    def take_portable(self, portable):
        """This fold (an empty sibling in the parent) made the child's fold of ``portable``: its values numbered
        into the shared packer, its history keys renumbered where both processes numbered a value."""
        held, table = portable
        numbers = self._packer.join_numbers(table)
        for name in _HELD:
            setattr(self, name, held[name])
        if numbers:
            self.history = dict((renumbered_key(key, numbers), kept) for key, kept in self.history.items())

    def absorb_first(self, earlier):
        """Make this fold what it would be had ``earlier`` (its sibling, no longer fed) been folded BEFORE it, as
        the reader did before the two were folded at once: the history cache's lines first, EM's pages after.
        Why not one fold fed by both threads under a lock: the fold is order-independent except where the order is
        the rule - a session read twice keeps the later read (unique_records: EM's over the cache's, an edited
        line must not hide EM's Failed), and a dict's order (the VMs' walk order on ties) - and those follow
        the arrival of two threads' batches; here each group, list and dict has ``earlier``'s part first."""
        self.groups = _merged(earlier.groups, self.groups, lambda kept, new: (
            min(kept[0], new[0]), _concat(kept[1], new[1])))
        self.excluded = earlier.excluded + self.excluded
        self.history = _merged(earlier.history, self.history, lambda kept, new: new if (
            new[0] > kept[0] or (new[0] == kept[0] and self._uid_of(new[1]) > self._uid_of(kept[1]))) else kept,
            move=True)
        later = [item for item in self.unreadable
                 if not (item.get("uid") and (item["_kind"], item["uid"]) in earlier._unreadable_uids)]
        self.ignored = earlier.ignored + self.ignored - (len(self.unreadable) - len(later))
        self.unreadable = earlier.unreadable + later
        self._unreadable_uids = earlier._unreadable_uids | self._unreadable_uids
        self.last_seen = _merged(earlier.last_seen, self.last_seen, max)
        self.ahead_seen = _merged(earlier.ahead_seen, self.ahead_seen, max)
        # _seen's rule: the newest sign, the name of the newest named session (earlier's on equal times)
        self.server_signs = _merged(earlier.server_signs, self.server_signs, lambda kept, new: (
            [max(kept[0], new[0])] + (new[1:] if new[2] is not None and (kept[2] is None or new[2] > kept[2])
                                      else kept[1:])))
        self.uids = _merged(earlier.uids, self.uids, lambda kept, new: kept + tuple(
            uid for uid in new if uid not in kept))
        self.read += earlier.read
        self.window_set_aside += earlier.window_set_aside
        self.history_set_aside += earlier.history_set_aside
        self.job_session_uids |= earlier.job_session_uids

    def _uid_of(self, kept):
        if _is_item(kept):
            return _history_uid(kept[0])
        return self._packer.unpack(kept)[_UID] or ""

    def discard(self):
        """Drop every session folded so far (the count of items read stays), after a failed read.

        A query that fails half way has folded the pages that arrived before the failure, and the
        fold cannot tell them from the earlier queries' at no cost; evaluating them would judge VMs
        on part of their sessions. The verdict is ``error`` (read_error) either way; with this, no
        VM row is made from a half-read answer (the list-based reader kept nothing of a failed query).
        """
        self.server_signs = {}
        self.groups, self.excluded, self.history, self.unreadable = {}, [], {}, []
        self.last_seen, self.ahead_seen, self.uids, self.ignored = {}, {}, {}, 0
        self.window_set_aside = self.history_set_aside = 0
        self.job_session_uids = set()
        self._unreadable_uids = set()

    def settle(self):
        """End of reading: the history joins the window (a session read in both keeps the window's)."""
        history, self.history = self.history, {}
        for _created, kept in history.values():
            if _is_item(kept):
                self._set_aside(*kept)
            else:  # its packed string as kept: packing it again gives the same (issue 18: ~0.13 s at 5,000 VMs);
                self._place(self._packer.placing(kept), kept)  # and only what _place reads unpacked
        self._packer.forget_index()  # nothing is packed after this (issue 18: a dict of every shared value)

    def _record(self, item, kind, history):
        """The record of one item, or None when it is set aside as unreadable (issue 13)."""
        created = _readable_time(item.get("creation_time")) if isinstance(item, dict) else None
        if created is None or not (item.get("vm_uid") or item.get("vm_display_name")):
            self._set_aside(item, kind)
            return None
        values = [item.get(key) if key else None for key in _READ[kind]]
        values += [created, readable_end(item, created),
                   _readable_time(item.get("restore_point_time") or item.get("replica_point_time")), kind, history]
        return tuple(values)

    def _set_aside(self, item, kind):
        uid = item.get("uid") if isinstance(item, dict) else None
        if uid:
            if (kind, uid) in self._unreadable_uids:
                return
            self._unreadable_uids.add((kind, uid))
        self.ignored += 1
        self.unreadable.append(dict(item, _kind=kind) if isinstance(item, dict) else {"_kind": kind})

    def _place(self, record, packed=None):
        """File a record under its VM (duplicates are resolved when the VM is walked: unique_records); ``packed``:
        the record as pack made it already, when it was. Read from the record's positions, not a dict of it (issue
        18: runs for every session, read from EM or from the history cache, and again for the history at settle):
        without VM or job patterns (policy.scope_filtered) a session is in scope when its server is. It reads the
        values _Packer.placing gives, no more (settle hands it those)."""
        policy = self.policy
        server_name = record[_SERVER_NAME]
        server_scope = in_scope(server_name, policy["include_servers"], policy["exclude_servers"])
        if packed is None:
            packed = self._packer.pack(record)
        server = server_key_of(record[_SERVER_UID], server_name)
        if not server_scope:  # not the rules' (server_silent); the cache's, as another night may take it in
            self.excluded.append(packed)
            self._seen(server, server_name, record[_END] or record[_CREATED], record[_CREATED], rules=False)
            return
        if not scope_filtered(policy) or session_in_scope(record_view(record), policy):
            vm_uid, vm_name = record[_VM_UID], record[_VM_NAME]
            vm = _lower(vm_uid) if vm_uid else _name_key(vm_name)
            group = self.groups.get((server, vm))
            # The oldest creation time as one int (issue 18: a (datetime, UID, rank) tuple was ~250 bytes
            # a VM); vm_groups breaks its ties with the full sort key.
            order = _microseconds(record[_CREATED])
            if group is None:
                self.groups[(server, vm)] = (order, _join(packed))
            else:
                self.groups[(server, vm)] = (min(group[0], order), _join(packed, group[1]))
            if vm_uid and vm_name:
                self._uid_of_name(server, vm_name, vm_uid)
        else:
            self.excluded.append(packed)
        self._seen(server, server_name, record[_END] or record[_CREATED], record[_CREATED])

    def _uid_of_name(self, server, vm_name, vm_uid):
        """Note a VM UID of the name; a tuple, not a set (issue 18: 48 bytes, not 216, for most names)."""
        key, uid = (server, _lower(vm_name)), _lower(vm_uid)
        uids = self.uids.get(key, ())
        if uid not in uids:
            self.uids[key] = uids + (uid,)

    def _seen(self, server, server_name, moment, created, rules=True):
        """The server's latest sign of life, ``moment`` (a session's end, else its start; servers.
        server_rows: under its key ``server`` and its name). A time dated ahead of ``now`` (a wrong clock) is kept
        apart (clock_skew), so that one stray session does not hide that the server went silent
        (rules.server_silent); when only the end is ahead, the start still is a sign of life. Always noted for
        the history cache (server_signs); with ``rules`` (an in-scope session placed) for the rules too."""
        now = getattr(self, "now", None)
        limit = None if now is None else now + CLOCK_SKEW_TOLERANCE
        if limit is not None and moment > limit:
            if rules:
                self._newest(self.ahead_seen, server, server_name, moment)
            moment = created if created <= limit else None
        if moment is None:
            return
        if rules:
            self._newest(self.last_seen, server, server_name, moment)
        # [its newest sign of life, the name of its newest session that has one (the first read of equal times),
        # that session's time]: the same whichever of two folds saw which session (absorb_first joins them)
        sign = self.server_signs.get(server)
        if sign is None:
            self.server_signs[server] = [moment, server_name, moment if server_name else None]
            return
        if moment > sign[0]:
            sign[0] = moment
        if server_name and (sign[2] is None or moment > sign[2]):
            sign[1], sign[2] = server_name, moment

    @staticmethod
    def _newest(seen, server, server_name, moment):
        for key in (server, "known:" + _lower(server_name)):
            last = seen.get(key)
            if last is None or moment > last:
                seen[key] = moment

    # ---- the walk -----------------------------------------------------------------------------
    def vm_groups(self, plan=None):
        """The VMs, each as its records (unique, oldest first), after merging a VM seen without its
        UID into the one UID of its name on its server (sessions.vm_key), in the order of their
        oldest session. A generator: each VM's records leave the fold as it is walked. ``plan``: part
        of walk_plan()'s list, to walk those VMs only (the walk split between two processes)."""
        for key, parts in (self.walk_plan() if plan is None else plan):
            found = [unique_records(self._packer.unpack(item) for item in _split(self.groups.pop(part)[1]))
                     for part in parts]
            records = found[0] if len(found) == 1 else _across_parts(found)
            del found
            records.sort(key=sort_key)
            yield key, records

    def walk_plan(self):
        """The VMs in walk order (vm_groups'), each as (its key, the groups it merges)."""
        merged = {}
        for (server, vm) in self.groups:
            target = vm
            if vm.startswith("name:"):
                uids = self.uids.get((server, vm[len("name:"):]))
                if uids and len(uids) == 1:
                    target = list(uids)[0]
            merged.setdefault((server, target), []).append((server, vm))
        return [(key, merged.pop(key)) for key in self._walk_order(merged)]

    def drop(self, plan):
        """Let go of the groups of ``plan`` (walked by another process)."""
        for _key, parts in plan:
            for part in parts:
                self.groups.pop(part, None)

    def _walk_order(self, merged):
        """The VMs by the sort key (creation time, UID, kind rank) of their oldest session, as sorted()
        of those keys gives them (stable: equal keys keep ``merged``'s order). The groups keep only the
        oldest creation time; the VMs that share one are ordered by the full key of their oldest sessions."""
        oldest = dict((key, min(self.groups[part][0] for part in parts)) for key, parts in merged.items())
        order = sorted(merged, key=oldest.__getitem__)
        start = 0
        while start < len(order):
            end = start + 1
            while end < len(order) and oldest[order[end]] == oldest[order[start]]:
                end += 1
            if end - start > 1:
                order[start:end] = sorted(order[start:end], key=lambda key: self._oldest_key(merged[key], oldest[key]))
            start = end
        return order

    def _oldest_key(self, parts, created):
        """The least sort key among the sessions of ``parts`` created at ``created`` (µs)."""
        return min(sort_key(record) for part in parts for record in
                   (self._packer.unpack(item) for item in _split(self.groups[part][1]))
                   if _microseconds(record[_CREATED]) == created)

    def excluded_records(self):
        """The records of the sessions outside the patterns, unique."""
        return unique_records(self._packer.unpack(item) for item in self.excluded)

    # ---- the history cache (_compliance/history_cache.py) --------------------------------------
    def history_lines(self):
        """The history kept so far (call before settle()) as the history cache writes it: (kind, _Packer.line of a
        VM's session, None), or (kind, None, the item read) for one without a VM identity (the times in
        microseconds: issue 18, no dict made per session)."""
        for _created, kept in self.history.values():
            if _is_item(kept):
                yield kept[1], None, kept[0]
            else:
                line = self._packer.line(kept)
                yield line[4], line, None

    def window_lines(self, before):
        """The window's readable sessions created before ``before`` (a datetime; call before settle()), as
        (kind, _Packer.line) pairs: every one (excluded by the patterns too: the patterns apply when folded, so
        another night's policy judges them anew), one at a time from the packed records (issue 18: at 50,000
        VMs the window holds ~430,000 sessions; no list of them is made, no dict per session). A session read
        twice is given twice; the fold that reads them back keeps it once (unique_records)."""
        before = _microseconds(before)
        for _order, joined in self.groups.values():
            for packed in _split(joined):
                line = self._packer.line(packed)
                if not line[5] and line[1] < before:
                    yield line[4], line
        for packed in self.excluded:
            line = self._packer.line(packed)
            if not line[5] and line[1] < before:
                yield line[4], line


def unsettled(state, end):
    """A session EM may still change: running (InProgress, Pending), or neither Completed nor ended
    (a state EM does not document, with no end time: is_finished is false, so the rules count it
    neither as a success nor as a failure, and EM may still finish it). The history cache keeps
    nothing from the oldest such session on (``on_running``): it is read again from EM."""
    return state in RUNNING_STATES or (state != STATE_COMPLETED and end is None)


def _unsettled_item(item, created):
    """unsettled() of an item as read (its end time as _record takes it: none before the creation)."""
    if item.get("state") == STATE_COMPLETED:
        return False
    return unsettled(item.get("state"), readable_end(item, created))


def unique_records(records):
    """One record per session (kind and UID): a session read twice (two pages, a restarted walk, the
    window and the history, the history cache and EM) is kept once: the window's read over the history's,
    a finished read over a running one, else the later read - EM's pages come after the history cache's
    lines (history_cache.begin; or, the lines folded beside EM's reads, SessionFold.absorb_first puts
    them first; the history is placed by settle in the order of its last writes: add_history), so that what EM
    says of a session wins over what a file in the report directory says of it (an edited line that moved a
    Failed session out of the range read again and called it Success hid EM's Failed: a false compliant). Within
    one group of records only: a session in two groups of one VM is _across_parts'. Sessions without a UID
    cannot be told apart: all are kept."""
    kept, position = [], {}
    for record in records:
        if not record[_UID]:
            kept.append(record)
            continue
        key = (record[_KIND], record[_UID])
        index = position.get(key)
        if index is None:
            position[key] = len(kept)
            kept.append(record)
        elif _better(record, kept[index]):
            kept[index] = record
    return kept


def _across_parts(parts):
    """One record per session over the groups one VM merges (seen with and without its UID: walk_plan), each
    group's records unique_records' already. A session in two groups was read with two VM identities - EM's answer
    and a history cache line that disagree on its VM UID (an edited line without it). The groups are filed by VM
    identity, so the order of those two reads is lost, and "the later read wins" (EM's) could keep the cache's:
    an edited line's Success hid EM's Failed (a false compliant; test_an_edited_line_without_its_vm_uid_...). Here
    the window's read wins over the history's and a finished over a running one, as in unique_records (the running
    one when the two disagree on the creation time: EM's, as a cache line is never running), and then the worse
    read: its result (a success last), then its older point in time. Never a better verdict than one of the two
    reads gives."""
    kept, position = [], {}
    for records in parts:
        for record in records:
            key = (record[_KIND], record[_UID]) if record[_UID] else None
            index = position.get(key) if key else None
            if index is None:
                if key:
                    position[key] = len(kept)
                kept.append(record)
            elif _worse(record, kept[index]):
                kept[index] = record
    return kept


# The results from the best: a success, a warning; anything else (Failed, a value EM never sent) is the worst.
_RESULT_RANK = {"Success": 0, "Warning": 1}


def _worse(record, kept):
    """Whether ``record`` replaces ``kept``, the same session read in another group (_across_parts' rule)."""
    window = _window_read_wins(record, kept)
    if window is not None:
        return window
    running, kept_running = record[_STATE] in RUNNING_STATES, kept[_STATE] in RUNNING_STATES
    if running != kept_running:  # finished wins, unless the times disagree: then the running read is EM's (_better)
        return running if record[_CREATED] != kept[_CREATED] else not running
    return _badness(record) > _badness(kept)


def _window_read_wins(record, kept):
    """The first rule of _better and _worse: of a session read as a window session and as history, the window's
    read wins (it carries the window-only fields); True or False when that decides, None when both are alike."""
    if record[_HISTORY] != kept[_HISTORY]:
        return not record[_HISTORY]
    return None


def _badness(record):
    moment = record[_POINT] or record[_END] or record[_CREATED]
    return (_RESULT_RANK.get(record[_RESULT], 2), -_microseconds(moment) if moment else float("inf"))


def _better(record, kept):
    """Whether ``record``, read after ``kept``, replaces it (unique_records' rule).

    Two reads of one session that disagree on its creation time cannot both be EM's (EM never moves a session; one
    is a history cache line edited): the later read, EM's, wins whatever its state. The writer never writes a
    running session, nor one created after what it covers (read_through, before any session running then), so a
    line with the true creation time of a session EM still shows running is refused (history_cache._misfit & co);
    one with another time, made finished, hid EM's running read - a stuck session - when "a finished read wins"
    came first (found by attack, session 14). Between EM's own reads (a page read again while the session
    ended) a finished read wins over a running one."""
    window = _window_read_wins(record, kept)
    if window is not None:
        return window
    if record[_CREATED] != kept[_CREATED]:
        return True
    return kept[_STATE] in RUNNING_STATES or record[_STATE] not in RUNNING_STATES


def _merged(earlier, later, both, move=False):
    """``earlier`` then ``later`` as one dict in that order (a key of both where ``earlier`` has it), ``both(kept,
    new)`` for a key in both (SessionFold.absorb_first). In place: ``earlier`` is the answer and ``later`` is
    emptied as it is walked, so that each group's two strings are freed as soon as they are joined (a copy held
    every group twice for a moment: +5 MB of the warm night's peak at 5,000 VMs). With ``move``, a key whose
    ``later`` value wins goes where ``later`` has it (add_history's order: the later read last)."""
    for key in list(later):
        value = later.pop(key)
        kept = earlier.get(key)
        if kept is None:
            earlier[key] = value
            continue
        value = both(kept, value)
        if move and value is not kept:
            del earlier[key]
        earlier[key] = value
    return earlier


def _concat(joined, more):
    """Two groups' records joined (_join's forms) as one, ``joined``'s first."""
    if isinstance(joined, str) and isinstance(more, str):
        return joined + _RECORD + more
    return list(_split(joined)) + list(_split(more))


def _join(packed, joined=None):
    """A group's records as one string (issue 18: a list of strings cost ~60 bytes a session more);
    a record the packer left as a tuple makes the group a list."""
    if isinstance(packed, str) and (joined is None or isinstance(joined, str)):
        return packed if joined is None else joined + _RECORD + packed
    if joined is None:
        return [packed]
    return (_split(joined) if isinstance(joined, str) else joined) + [packed]


def _split(joined):
    return joined.split(_RECORD) if isinstance(joined, str) else joined


def _is_item(kept):
    """A history value that is (item, kind), not a record (a packed string, or a record tuple of 18)."""
    return isinstance(kept, tuple) and len(kept) == 2


def _history_uid(item):
    return item.get("uid") or ""


def job_type_of(record, index):
    """The JobType of a backup task session's job or None (FACTS 6: a BackupTaskSession has JobSessionUid but
    no job type): by its job session UID, else by (server, job name), as a job's type does not change."""
    by_uid, by_job = index
    return by_uid.get(_lower(record[_JOB_SESSION])) or by_job.get((_lower(record[_SERVER_NAME]), _lower(record[_JOB])))


def job_seen(record, index):
    """Whether the job session of a backup task session, or another session of its job, is among the
    job sessions read (with or without a JobType)."""
    by_uid, by_job = index
    return _lower(record[_JOB_SESSION]) in by_uid or (_lower(record[_SERVER_NAME]), _lower(record[_JOB])) in by_job


def kind_of(record, job_type, index=None):
    """KIND_COPY for a backup task session of a job that is not a source backup job, and for one whose
    job is not among the job sessions read at all while job sessions were read (``index`` not empty):
    the job sessions are read as far back as the task sessions (30 days), so such a job ran longer than
    that - a backup copy or mirroring job keeps its session open [INF, FACTS 6] - and its successes must
    not stand for a backup (rules.job_type_unknown names them). Without job sessions (check_jobs false)
    every backup task session counts as a backup, as documented. ``index`` is given only where every job
    session from the history start was read (em_compliance._walk_vms, jobs_complete): an empty one is EM
    answering none while its task sessions name them (a narrower view: fewer objects, not an error, FACTS 1.3)
    - they are unseen too; as "no job sessions read" a copy job's Success stood for a backup and hid a failed
    one (found by attack, session 15)."""
    if record[_KIND] != KIND_BACKUP:
        return record[_KIND]
    if job_type is not None:
        return KIND_BACKUP if is_source_backup_type(job_type) else KIND_COPY
    if index is not None and not job_seen(record, index):
        return KIND_COPY
    return KIND_BACKUP


def created(record):
    return record[_CREATED]


def base_kind(record):
    return record[_KIND]
