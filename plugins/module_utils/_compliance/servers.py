# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Backup server rows: activity, VM status counts and the server_silent rule (rules.server_silent).

FOR INTERNAL COLLECTION USE ONLY: the public front is module_utils/em_compliance.py; names here may
change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.expected import (
    server_matches)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.policy import (
    in_scope, scope_filtered)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.rules import (
    server_silent, status_of, unique_codes)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.sessions import (
    format_time, server_key)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.vocabulary import (
    STATUS_COMPLIANT, STATUS_VIOLATION, STATUS_WARNING)


class ServerStatuses(object):
    """The status of each VM row on each server row to be (server_rows' VM counts), taken one row at a
    time: sort_rows hands it every row while it computes their keys, so that server_rows makes no pass of
    its own over the rows (issue 18: a pass over em_rows.PackedRows decompresses every row). ``seen`` and
    the known servers make the entries (server_rows' ``servers``)."""

    def __init__(self, seen, policy):
        self.servers = dict((key, entry) for key, entry in sorted(seen.items(), key=lambda item: item[1]["_first"]))
        _add_known(self.servers, policy)
        self.statuses = dict((key, []) for key in self.servers)

    def __call__(self, row):
        for key, entry in self.servers.items():
            if _row_on_server(row, key, entry):
                self.statuses[key].append(row["status"])


def server_rows(seen, last_seen, vm_rows, now, policy, ahead_seen=None, statuses=None):
    """Per backup server: activity, VM status counts and the server_silent rule.

    ``seen`` are the servers of the in-scope sessions (window and history; note_server_session,
    in the order of their oldest session): a server is a row when it ran an in-scope session, or,
    when no VM or job pattern narrows the scope, when it is known (known_backup_servers, or every
    server EM knows). A team scoped to one VM is not told that the other servers are silent. A
    row's ``sessions`` counts the in-scope sessions of the window.

    A server is silent when its latest sign of life - the newest end (else start) of a session
    of any VM and job (``last_seen``, kept by the fold over the sessions in the server scope, window
    and history, by server key and by "known:<name>"; a 28 h run that ended an hour ago is a sign
    of life, issue 22) - is older than the backup RPO (or recent_hours when the backup RPO is off),
    or when it is known but EM has no session of it at all: EM probably lost that server, and every
    VM on it is stale. One VM that stopped is that VM's finding, not the server's. The rule needs no
    configuration, so a server that drops out is caught on the first night even without a list.
    ``ahead_seen``: by the same keys, the newest sign of life dated ahead of ``now`` (a wrong clock;
    the fold keeps it apart from ``last_seen``): a clock_skew warning, never a sign of life.
    ``statuses``: a ServerStatuses of ``seen`` that was handed every row of ``vm_rows`` (sort_rows' on_row);
    without it the rows are read here, in one pass (em_rows.PackedRows: one decompression of each).
    """
    if statuses is None:
        statuses = ServerStatuses(seen, policy)
        for row in vm_rows:
            statuses(row)
    servers, statuses = statuses.servers, statuses.statuses
    result = []
    for key in sorted(servers, key=lambda k: str(servers[k]["backup_server_name"] or k).lower()):
        entry = servers[key]
        entry["_last"] = last_seen.get(key)
        findings = server_silent(entry["_last"], now, policy, (ahead_seen or {}).get(key))
        result.append(_server_row(entry, statuses[key], findings))
    return result


def note_server_session(servers, session, order, start):
    """Count one in-scope session for its server: the entry is made by the server's oldest session
    (its name and UID), ``sessions`` counts the window's, and the name is the newest session's that
    has one. ``order`` sorts the sessions (creation time, UID) whatever order they come in."""
    key = server_key(session)
    entry = servers.get(key)
    if entry is None or order < entry["_first"]:
        fresh = _server_entry(session.get("backup_server_name"), session.get("backup_server_uid"), False)
        if entry is not None:
            fresh.update(sessions=entry["sessions"], _named=entry["_named"], backup_server_name=entry["backup_server_name"])
        entry = servers[key] = fresh
        entry["_first"] = order
        entry.setdefault("_named", None)
    if start is None or session["_created"] >= start:
        entry["sessions"] += 1
    name = session.get("backup_server_name")
    if name and (entry["_named"] is None or order > entry["_named"]):
        entry["_named"], entry["backup_server_name"] = order, name


def join_server_notes(servers, later):
    """Join into ``servers`` the entries note_server_session made of sessions walked apart, after them in walk
    order (a child process's part of the VMs, em_compliance._walk_vms): the same entries as one walk over both.
    note_server_session's rules: the entry is the oldest session's (its UID; a tie keeps the one walked first),
    the sessions add up, the name is the newest named session's (a tie keeps the one walked first), and a
    server's new keys come after the known ones, in their order."""
    for key, other in later.items():
        entry = servers.setdefault(key, other)
        if entry is other:
            continue
        if other["_first"] < entry["_first"]:
            entry["_first"], entry["backup_server_uid"] = other["_first"], other["backup_server_uid"]
        entry["sessions"] += other["sessions"]
        if other["_named"] is not None and (entry["_named"] is None or other["_named"] > entry["_named"]):
            entry["_named"], entry["backup_server_name"] = other["_named"], other["backup_server_name"]


def _add_known(servers, policy):
    """The known servers (known_backup_servers, or every server EM knows) in the server scope."""
    for known in policy["known_backup_servers"]:
        if not in_scope(known, policy["include_servers"], policy["exclude_servers"]):
            continue
        hits = [entry for entry in servers.values() if server_matches(entry, known)]
        for entry in hits:
            entry["known"] = True
        if not hits and not scope_filtered(policy):
            servers["known:" + str(known).lower()] = _server_entry(str(known), None, True)


def _server_row(entry, statuses, findings):
    """``statuses``: the status of each VM row on the server."""
    return {
        "backup_server_name": entry["backup_server_name"],
        "backup_server_uid": entry["backup_server_uid"],
        "known": entry["known"],
        "sessions": entry["sessions"],
        "last_session_time": format_time(entry["_last"]),
        "vms": len(statuses),
        "vms_compliant": statuses.count(STATUS_COMPLIANT),
        "vms_warning": statuses.count(STATUS_WARNING),
        "vms_violation": statuses.count(STATUS_VIOLATION),
        "status": status_of(findings),
        "reasons": unique_codes(findings),
        "findings": findings,
    }


def _server_entry(name, uid, known):
    return {"backup_server_name": name, "backup_server_uid": uid, "sessions": 0, "last_session_time": None,
            "_last": None, "known": known}


def _row_on_server(row, key, entry):
    if row["backup_server_uid"] or row["backup_server_name"]:
        return server_key(row) == key or (row["backup_server_uid"] is None and row["backup_server_name"] is not None
                                          and server_matches(entry, row["backup_server_name"]))
    return False
