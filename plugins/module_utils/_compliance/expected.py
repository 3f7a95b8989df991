# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Expected VMs (the CMDB list): name matching, "did you mean" and the rows of VMs never seen.

FOR INTERNAL COLLECTION USE ONLY: the public front is module_utils/em_compliance.py; names here may
change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib

from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.policy import (
    in_scope, matches_any, may_match_a_name_starting)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.rules import (
    named_vm_missing, never_backed_up, status_of, unique_codes)


def server_matches(row_or_session, wanted):
    """A backup server given by a person matches by name or UID, ignoring case."""
    wanted = str(wanted).lower()
    return wanted in (str(row_or_session.get("backup_server_name") or "").lower(),
                      str(row_or_session.get("backup_server_uid") or "").lower())


def _dns_labels(name):
    """The DNS labels of a name that looks like a host name with a domain, else None.

    Dotted numbers (an IP address used as a VM name) are not DNS names: '10.0.0.5' is not '10'.
    """
    labels = name.split(".")
    if len(labels) < 2 or not all(labels) or all(label.isdigit() for label in labels):
        return None
    return labels


def _short_name(name):
    labels = _dns_labels(name)
    return labels[0] if labels else name


def names_match(vm_name, wanted, mode):
    """Does an EM VM name stand for a CMDB name under expected_vm_match (case is always ignored)?

    * ``exact`` - the whole names are equal.
    * ``fqdn`` (default) - equal, or one is a bare host name and the other an FQDN whose first DNS
      label is that name (``sql-prod-026`` = ``sql-prod-026.corp.example.com``). Two FQDNs must be
      equal, so ``db01.dmz.example.com`` never stands for ``db01.corp.example.com``: no false alarm for
      the usual short-vs-FQDN naming, no false pass between domains.
    * ``short`` - the first DNS labels are equal, whatever the domains (CMDBs and hypervisors that use
      different domains for the same hosts; two hosts of the same short name then stand for each other).
    """
    vm_name, wanted = str(vm_name or "").strip().lower(), str(wanted or "").strip().lower()
    if vm_name == wanted:
        return True
    if mode == "exact":
        return False
    if mode == "fqdn" and _dns_labels(vm_name) and _dns_labels(wanted):
        return False
    return _short_name(vm_name) == _short_name(wanted)


def expected_matches(row, expected, mode="fqdn"):
    """Does a VM row satisfy a CMDB entry (same name, and same server when one is given)?"""
    if not names_match(row.get("vm_display_name"), expected["name"], mode):
        return False
    return expected["backup_server"] is None or server_matches(row, expected["backup_server"])


def near_misses(name, rows):
    """Up to three VM names of the rows close to a CMDB name (difflib), for a 'did you mean'."""
    return _near_names(name, set(str(row["vm_display_name"]) for row in rows if row.get("vm_display_name")))


def _near_names(name, names):
    """near_misses over the set of the rows' VM names."""
    names = sorted(names)
    by_lower = {}
    for candidate in names:
        by_lower.setdefault(candidate.lower(), candidate)
        by_lower.setdefault(_short_name(candidate.lower()), candidate)
    wanted = str(name).lower()
    close = difflib.get_close_matches(wanted, list(by_lower), n=6, cutoff=0.8)
    close += difflib.get_close_matches(_short_name(wanted), list(by_lower), n=6, cutoff=0.8)
    result = []
    for key in close:
        if by_lower[key] not in result:
            result.append(by_lower[key])
    return result[:3]


def require_backup(row, policy):
    """An expected VM that was only replicated still owes a backup: add never_backed_up."""
    if row["backup"] is None:
        row["findings"][:0] = never_backed_up(policy)
        row["status"] = status_of(row["findings"])
        row["reasons"] = unique_codes(row["findings"])


def missing_row(expected, policy, candidates=(), findings=None, is_expected=True):
    """Row for a CMDB VM that no session mentions at all; names close to it are suggested. ``findings``
    and ``is_expected`` (False) make the row of a VM named in include_vms instead (rules.named_vm_missing)."""
    if findings is None:
        findings = never_backed_up(policy, expected, candidates)
    return {
        "vm_display_name": expected["name"],
        "vm_uid": None,
        "backup_server_name": expected["backup_server"],
        "backup_server_uid": None,
        "jobs": [],
        "expected": is_expected,
        "status": status_of(findings),
        "reasons": unique_codes(findings),
        "findings": findings,
        "backup": None,
        "replica": None,
        "copy": None,
    }


def apply_expected(rows, expected_entries, policy):
    """Mark expected rows and add rows for expected VMs never seen. Excluded VMs stay out.

    One pass over the rows (issue 18: they may be em_rows.PackedRows, each row a decompression;
    a changed row is written back), with the result of one pass per CMDB entry in entry order:
    a row matching n entries is marked n times (require_backup each time), and an entry that
    matches no row may match the rows added for the entries before it."""
    mode = policy["expected_vm_match"]
    entries = [expected for expected in expected_entries if _expected_in_scope(expected, policy, mode)]
    named = _named_in_scope(policy, entries, mode)
    if not entries and not named:
        return
    matched, names = set(), set()  # names: the VMs EM reported, the candidates of a 'did you mean'
    for index, row in enumerate(rows):
        if row.get("vm_display_name"):
            names.add(str(row["vm_display_name"]))
        hits = [number for number, expected in enumerate(entries) if expected_matches(row, expected, mode)]
        if hits:
            matched.update(hits)
            for _hit in hits:
                row["expected"] = True
                require_backup(row, policy)
            rows[index] = row
    added = []
    for number, expected in enumerate(entries):
        matching = [row for row in added if expected_matches(row, expected, mode)]
        if number not in matched and not matching:
            added.append(missing_row(expected, policy, _near_names(expected["name"], names)))
            continue
        for row in matching:
            row["expected"] = True
            require_backup(row, policy)
    for row in added:
        rows.append(row)
    for name in _absent(named, names | set(row["vm_display_name"] for row in added), mode):
        rows.append(missing_row({"name": name, "backup_server": None}, policy,
                                findings=named_vm_missing(policy, _near_names(name, names)), is_expected=False))


# ---- include patterns that select nothing (rules.scope_unmatched) ----------------------------------------------
class ScopeHits(object):
    """Which include patterns select something, taken one VM row at a time (sort_rows' ``on_row``: no pass of
    its own over em_rows.PackedRows), then the server and job rows and the excluded sessions (``unmatched``). A
    row matches by its VM's name, its backup server's and its jobs' names (a session by its job's). include_vms
    entries without a glob character are left to named_vm_missing (a row of their own)."""

    def __init__(self, policy):
        self.waiting = [(option, pattern) for option in ("include_vms", "include_servers", "include_jobs")
                        for pattern in policy[option]
                        if option != "include_vms" or any(char in pattern for char in GLOB_CHARACTERS)]

    def __call__(self, row):
        if self.waiting:
            self.waiting = [entry for entry in self.waiting if not _row_selected(row, entry)]

    def unmatched(self, servers, jobs, excluded=None):
        """The (option, pattern) no row selected, after the server rows and the job rows; ``excluded``, called only
        when a pattern is left, gives the sessions the patterns left out (as dicts): a pattern that selects only
        sessions an exclude pattern drops is the user's own statement, not an empty selection."""
        for row in list(servers) + list(jobs):
            self(row)
        if self.waiting and excluded is not None:
            for session in excluded():
                self(session)
                if not self.waiting:
                    break
        return self.waiting


def _row_selected(row, entry):
    option, pattern = entry
    if option == "include_vms":
        return matches_any(row.get("vm_display_name"), [pattern])
    if option == "include_servers":
        return matches_any(row.get("backup_server_name"), [pattern])
    names = row.get("jobs") or []
    names = list(names) + ([row["job_name"]] if row.get("job_name") else [])
    return any(matches_any(name, [pattern]) for name in names)


# ---- names in include_vms (rules.named_vm_missing) ------------------------------------------------
GLOB_CHARACTERS = ("*", "?", "[")


def _named_in_scope(policy, entries, mode):
    """The include_vms entries that name one VM (no glob character), not excluded and not already an
    expected VM (whose own row says more), once each."""
    named, seen = [], set()
    for pattern in policy["include_vms"]:
        name = str(pattern).strip()
        if not name or any(char in name for char in GLOB_CHARACTERS) or name.lower() in seen:
            continue
        seen.add(name.lower())
        if in_scope(name, [], policy["exclude_vms"]) and \
                not any(names_match(name, expected["name"], mode) for expected in entries):
            named.append(name)
    return named


def _absent(named, row_names, mode):
    """The names that match none of ``row_names`` (names_match; by short name, not every pair)."""
    if not named:
        return []
    by_short = {}
    for row_name in row_names:
        by_short.setdefault(_short_name(str(row_name).strip().lower()), []).append(row_name)
    return [name for name in named
            if not any(names_match(candidate, name, mode) for candidate in by_short.get(_short_name(name.lower()), ()))]


def _expected_in_scope(expected, policy, mode):
    """Whether a CMDB entry is judged under the include/exclude patterns. The sessions are scoped by EM's VM and
    server names, and a CMDB spells them otherwise in ways names_match accepts: the entry is in the scope when a
    name it stands for may be (the entry's text alone dropped "sql02" under include_vms "*.corp.example.com" -
    EM names it "sql02.corp.example.com" - and a VM with no backup at all was compliant; found by attack).
    Excluded by its own name only (an exclude pattern is the user's statement about that name)."""
    name = expected["name"]
    if matches_any(name, policy["exclude_vms"]):
        return False
    if policy["include_vms"] and not _may_be_in(name, policy["include_vms"], mode):
        return False
    return not expected["backup_server"] or _server_may_be_in(expected["backup_server"], policy)


def _may_be_in(name, patterns, mode):
    """Whether a VM name the CMDB name stands for (names_match under ``mode``) may match one of ``patterns``: the
    name itself; its host name (an FQDN entry stands for EM's short name); a host name with any domain (a short
    entry stands for EM's FQDN; under ``short`` any entry does)."""
    lowered = str(name).strip().lower()
    if matches_any(lowered, patterns):
        return True
    if mode == "exact":
        return False
    short = _short_name(lowered)
    if matches_any(short, patterns):
        return True
    if mode == "fqdn" and _dns_labels(lowered):  # two FQDNs must be equal: no other domain
        return False
    return any(may_match_a_name_starting(pattern, short + ".") for pattern in patterns)


def _server_may_be_in(server, policy):
    """A backup server given by name, or by UID: the UID's server name is not known here (the patterns name
    servers), so an entry pinned by UID is judged unless excluded by that UID - a VM's absence said on a server
    out of the scope rather than a VM dropped in silence."""
    if in_scope(server, policy["include_servers"], policy["exclude_servers"]):
        return True
    return not matches_any(server, policy["exclude_servers"]) and _looks_like_uid(server)


def _looks_like_uid(text):
    """EM's UID ("urn:veeam:BackupServer:<guid>") or a bare GUID."""
    text = str(text).strip().lower()
    if text.startswith("urn:"):
        return True
    parts = text.split("-")
    return [len(part) for part in parts] == [8, 4, 4, 4, 12] and all(
        char in "0123456789abcdef" for char in "".join(parts))
