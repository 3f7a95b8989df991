# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools

from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.policy import (
    in_scope, session_in_scope)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.sessions import (
    is_running, _name_key, parse_time, _readable_time, server_key)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.vocabulary import (
    KIND_BACKUP, KIND_COPY, KIND_REPLICA, RUNNING_STATES, SOURCE_BACKUP_JOB_TYPES)

# The keys of a task session the rules and rows read (grep '.get("' in _compliance/); the times are
# kept parsed. A key added to a rule must be added here: test_compliance_fold checks it.
RECORD_KEYS = ("uid", "name", "vm_display_name", "vm_uid", "job_name", "backup_server_uid", "backup_server_name",
               "state", "result", "reason", "restore_point_uid", "replica_point_uid", "job_session_uid")
_UID, _NAME, _VM_NAME, _VM_UID, _JOB, _SERVER_UID, _SERVER_NAME, _STATE = range(8)
_JOB_SESSION = RECORD_KEYS.index("job_session_uid")
_CREATED, _END, _POINT, _KIND, _HISTORY = range(len(RECORD_KEYS), len(RECORD_KEYS) + 5)
# Values that repeat from session to session: one string object each, shared by all the records.
_SHARED = tuple(i for i, key in enumerate(RECORD_KEYS) if key not in ("uid", "name"))
_KIND_RANK = {KIND_BACKUP: 0, KIND_REPLICA: 1}
# What is read of an item of each kind (a replica task session has no job session UID: None).
_READ = {KIND_BACKUP: RECORD_KEYS,
         KIND_REPLICA: tuple(None if key == "job_session_uid" else key for key in RECORD_KEYS)}


def _lower(value):
    return str(value or "").lower()


def record_view(record):
    """The record as a dict of RECORD_KEYS (what session_in_scope and server_key read)."""
    return dict(zip(RECORD_KEYS, record))


def as_session(record, kind):
    """The prepared session dict the rules read (sessions.prepare_sessions' shape)."""
    session = record_view(record)
    session.update(_created=record[_CREATED], _end=record[_END], _point_created=record[_POINT], _kind=kind)
    return session


def sort_key(record):
    return (record[_CREATED], record[_UID] or "", _KIND_RANK[record[_KIND]])


class SessionFold(object):
    """The task sessions read so far, per (backup server, VM); see the module docstring.

    ``add`` takes window sessions (every one counts), ``add_history`` the sessions before the
    window (reduced to the newest per VM, job and result); ``settle`` ends the reading.
    """

    def __init__(self, policy, start):
        self.policy = policy
        self.start = start
        self.groups = {}          # (server key, VM uid or "name:...") -> {(kind, uid or serial): record}
        self.excluded = {}        # (kind, uid or serial) -> record, sessions outside the patterns
        self.history = {}         # fold_history's key -> record, until settle()
        self.unreadable = []      # the items set aside (rules.unreadable_*), as prepare_sessions did
        self.ignored = 0
        self.last_seen = {}       # server key, and "known:<name>", -> newest point time (server_silent)
        self.uids = {}            # (server key, lower VM name) -> VM UIDs (sessions.uids_by_name)
        self.read = 0             # items handed in (history included), for the query summaries
        self._shared = {}
        self._unreadable_uids = set()
        self._serial = itertools.count()

    # ---- feeding ------------------------------------------------------------------------------
    def add(self, items, kind):
        """Window sessions of one kind (KIND_BACKUP or KIND_REPLICA): each is folded once."""
        for item in items or []:
            self.read += 1
            record = self._record(item, kind, False)
            if record is not None:
                self._place(record)

    def add_history(self, items, kind):
        """Sessions before the window: per (server, VM, job, result, running) the newest is kept
        (sessions.fold_history's rule); items without a readable creation time are dropped, as there."""
        for item in items or []:
            self.read += 1
            if not isinstance(item, dict):
                continue
            try:
                created = parse_time(item.get("creation_time"))
            except ValueError:
                continue
            if created is None:
                continue
            key = (kind, server_key(item), _lower(item.get("vm_uid")), _lower(item.get("vm_display_name")),
                   _lower(item.get("job_name")), item.get("result"), is_running(item))
            order = (created, item.get("uid") or "")
            kept = self.history.get(key)
            if kept is None or order > kept[0]:
                # A VM's session is kept as its record; one without a VM identity as the item, to be
                # set aside (unreadable) at settle() like the list-based evaluation did.
                identified = item.get("vm_uid") or item.get("vm_display_name")
                self.history[key] = (order, self._record(item, kind, True) if identified else (item, kind))

    def settle(self):
        """End of reading: the history joins the window (a session read in both keeps the window's)."""
        history, self.history = self.history, {}
        for order, kept in sorted(history.values(), key=lambda entry: entry[0]):
            if len(kept) == 2:
                self._set_aside(*kept)
            else:
                self._place(kept)

    def _record(self, item, kind, history):
        """The record of one item, or None when it is set aside as unreadable (prepare_sessions)."""
        created = _readable_time(item.get("creation_time")) if isinstance(item, dict) else None
        if created is None or not (item.get("vm_uid") or item.get("vm_display_name")):
            self._set_aside(item, kind)
            return None
        ended = _readable_time(item.get("end_time"))
        values = [item.get(key) if key else None for key in _READ[kind]]
        shared = self._shared
        for index in _SHARED:
            value = values[index]
            if isinstance(value, str):
                values[index] = shared.setdefault(value, value)
        values += [created, ended if ended is not None and ended >= created else None,
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

    def _place(self, record):
        view = record_view(record)
        policy = self.policy
        server_scope = in_scope(view["backup_server_name"], policy["include_servers"], policy["exclude_servers"])
        if server_scope and session_in_scope(view, policy):
            server = server_key(view)
            vm = _lower(view["vm_uid"]) if view["vm_uid"] else _name_key(view["vm_display_name"])
            table = self.groups.setdefault((server, vm), {})
            if view["vm_uid"] and view["vm_display_name"]:
                self.uids.setdefault((server, _lower(view["vm_display_name"])), set()).add(_lower(view["vm_uid"]))
        else:
            table = self.excluded
        key = (record[_KIND], record[_UID] or next(self._serial))
        kept = table.get(key)
        if kept is not None:
            if record[_HISTORY] or not (kept[_STATE] in RUNNING_STATES and record[_STATE] not in RUNNING_STATES):
                return
        table[key] = record
        if server_scope:
            self._seen(view, record[_END] or record[_CREATED])

    def _seen(self, view, moment):
        """The server's latest sign of life (servers._mark_activity: under its key and its name)."""
        for key in (server_key(view), "known:" + _lower(view["backup_server_name"])):
            last = self.last_seen.get(key)
            if last is None or moment > last:
                self.last_seen[key] = moment

    # ---- the walk -----------------------------------------------------------------------------
    def vm_groups(self):
        """The groups after merging a VM seen without its UID into the one UID of its name on its
        server (sessions.vm_key), in the order of their oldest session: [(key, [records])]."""
        merged = {}
        for (server, vm), table in self.groups.items():
            if vm.startswith("name:"):
                uids = self.uids.get((server, vm[len("name:"):]))
                if uids and len(uids) == 1:
                    vm = next(iter(uids))
            merged.setdefault((server, vm), []).extend(table.values())
        groups = []
        for key, records in merged.items():
            records.sort(key=sort_key)
            groups.append((key, records))
        groups.sort(key=lambda group: sort_key(group[1][0]))
        return groups

    def records(self):
        """Every record kept, in scope or not."""
        for table in self.groups.values():
            for record in table.values():
                yield record
        for record in self.excluded.values():
            yield record


def job_type_of(record, index):
    """The JobType of a backup task session's job (sessions.classify_backups), or None."""
    by_uid, by_job = index
    return by_uid.get(_lower(record[_JOB_SESSION])) or by_job.get((_lower(record[_SERVER_NAME]), _lower(record[_JOB])))


def kind_of(record, job_type):
    """KIND_COPY for a backup task session of a job that is not a source backup job."""
    if record[_KIND] == KIND_BACKUP and job_type is not None and str(job_type).lower() not in SOURCE_BACKUP_JOB_TYPES:
        return KIND_COPY
    return record[_KIND]


def created(record):
    return record[_CREATED]


def base_kind(record):
    return record[_KIND]
