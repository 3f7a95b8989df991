# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Compliance policy: defaults, validation (build_policy) and the include/exclude scope.

FOR INTERNAL COLLECTION USE ONLY: the public front is module_utils/em_compliance.py; names here may
change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_values
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.vocabulary import (
    ComplianceInputError, EXPECTED_VM_MATCHES, FAILED_JOB_SEVERITIES, STATUS_WARNING)


DEFAULT_POLICY = {
    "backup_rpo_hours": 24.0,
    "replica_rpo_hours": 24.0,
    "lookback_days": 7.0,
    "recent_hours": 24.0,
    "accept_warnings": True,
    "max_duration_minutes": 480.0,
    "stuck_hours": 12.0,
    "copy_rpo_hours": 0.0,
    "failed_job_severity": STATUS_WARNING,
    "expected_vm_match": "fqdn",
    "include_vms": [],
    "exclude_vms": [],
    "include_jobs": [],
    "exclude_jobs": [],
    "include_servers": [],
    "exclude_servers": [],
    "expected_vms": [],
    "known_backup_servers": [],
    "allow_partial_view": False,
    "read_errors": [],
    "view_limits": [],
}


# Options set by the reader, not by the user: what could not be read, and what the account
# cannot see (veeam_em_compliance_info fills them; the filter takes them from its caller).
INTERNAL_OPTIONS = ("read_errors", "view_limits")


# The largest value of each number: about a century (a million hours), far past any policy and past the
# "effectively off" values people set (100000), short of a date overflow. A larger one (1e12, inf) overflowed a
# date (a crash), and nan passed "not negative" and then compared false with every age: an RPO never exceeded.
MAXIMA = {"backup_rpo_hours": 1000000, "replica_rpo_hours": 1000000, "copy_rpo_hours": 1000000,
          "recent_hours": 1000000, "stuck_hours": 1000000, "lookback_days": 40000, "max_duration_minutes": 60000000}


def _non_negative(value, name):
    number = em_values.finite_number(value)
    if number is None:
        raise ComplianceInputError("%s must be a number, got %r" % (name, value))
    if number < 0:
        raise ComplianceInputError("%s must not be negative, got %r" % (name, value))
    if number > MAXIMA[name]:
        raise ComplianceInputError("%s must be at most %d, got %r" % (name, MAXIMA[name], value))
    return int(number) if number.is_integer() else number


def matches_any(value, patterns):
    """True when value matches one of the shell-style globs, ignoring case.

    Case is ignored because VM and server names are typed by people (CMDB, vars files) who do
    not reliably preserve the hypervisor's capitalisation.
    """
    if value is None or not patterns:  # no pattern (the default): nothing to lower (issue 18: 4 calls a session)
        return False
    text = str(value).lower()
    # a pattern equal to the name matches it: "sql01 [DR]" (vSphere allows brackets) is a glob whose "[DR]" is a
    # set of two characters, so the VM named literally in include_vms was never judged (found by attack)
    return any(text == str(pattern).lower() or fnmatch.fnmatchcase(text, str(pattern).lower()) for pattern in patterns)


def may_match_a_name_starting(pattern, prefix):
    """Whether the glob ``pattern`` matches some name that starts with ``prefix`` (case ignored): may a CMDB's
    short name "sql02" stand for a VM in the scope "*.corp.example.com" (EM names it "sql02.corp.example.com")?
    Over-approximate (a bracket set is taken to match some character), never under: a CMDB entry is kept in
    the scope when in doubt (expected._expected_in_scope). Hand-written because fnmatch answers for whole
    names only (the ``regex`` package's partial matches would be a dependency for this one question): the
    pattern read as fnmatch.translate reads it (a "[" without its "]" is a character) and compared with the
    prefix token by token; a "*" reached may take the rest of the prefix, so the answer is yes from there."""
    tokens = _glob_tokens(str(pattern).lower())
    for position, char in enumerate(str(prefix).lower()):
        if position >= len(tokens):
            return False
        token = tokens[position]
        if token == "*":
            return True
        if token not in ("?", char) and not (len(token) > 1 and fnmatch.fnmatchcase(char, token)):
            return False
    return True


def _glob_tokens(pattern):
    """fnmatch's pattern as a list of "*", "?", bracket sets ("[a-z]", "[!0-9]") and characters."""
    tokens, index = [], 0
    while index < len(pattern):
        char, index = pattern[index], index + 1
        if char == "[":
            end = index + (pattern[index:index + 1] == "!")
            end += pattern[end:end + 1] == "]"
            end = pattern.find("]", end)
            if end >= 0:
                tokens.append(pattern[index - 1:end + 1])
                index = end + 1
                continue
        tokens.append(char)
    return tokens


def in_scope(value, include, exclude):
    """Include wins only when it matches; an empty include list means 'everything'."""
    if include and not matches_any(value, include):
        return False
    return not matches_any(value, exclude)


def session_in_scope(session, policy):
    """Apply the VM, job and backup-server include/exclude globs to one session."""
    return (in_scope(session.get("vm_display_name"), policy["include_vms"], policy["exclude_vms"])
            and in_scope(session.get("job_name"), policy["include_jobs"], policy["exclude_jobs"])
            and in_scope(session.get("backup_server_name"), policy["include_servers"],
                         policy["exclude_servers"]))


def normalise_expected(entries):
    """CMDB entries are names or {'name', 'backup_server'} dicts; return dicts."""
    result = []
    for entry in entries or []:
        if isinstance(entry, dict):
            name = entry.get("name") or entry.get("vm") or entry.get("vm_display_name")
            server = entry.get("backup_server") or entry.get("backup_server_name")
        else:
            name, server = entry, None
        if name is None or str(name).strip() == "":
            raise ComplianceInputError("expected_vms entry without a name: %r" % (entry,))
        # stripped as the patterns are (_patterns): "sql01, sql02" from a survey is ["sql01", " sql02"]
        server = str(server).strip() if server is not None else None
        result.append({"name": str(name).strip(), "backup_server": server or None})
    return result


def scope_filtered(policy):
    """Whether the VM or job patterns narrow the scope below whole backup servers."""
    return bool(policy["include_vms"] or policy["exclude_vms"] or policy["include_jobs"] or policy["exclude_jobs"])


def build_policy(overrides):
    """Merge the caller's options over the defaults and validate them."""
    policy = dict(DEFAULT_POLICY)
    for key, value in overrides.items():
        if key not in DEFAULT_POLICY:
            raise ComplianceInputError("unknown option %r (known: %s)" % (key, ", ".join(sorted(DEFAULT_POLICY))))
        if value is not None:
            policy[key] = value
    for key in ("backup_rpo_hours", "replica_rpo_hours", "lookback_days", "recent_hours",
                "max_duration_minutes", "stuck_hours", "copy_rpo_hours"):
        policy[key] = _non_negative(policy[key], key)
    policy["failed_job_severity"] = _choice(policy["failed_job_severity"], "failed_job_severity",
                                            FAILED_JOB_SEVERITIES)
    policy["expected_vm_match"] = _choice(policy["expected_vm_match"], "expected_vm_match", EXPECTED_VM_MATCHES)
    policy["accept_warnings"] = _as_bool(policy["accept_warnings"], "accept_warnings")
    policy["allow_partial_view"] = _as_bool(policy["allow_partial_view"], "allow_partial_view")
    for key in ("include_vms", "exclude_vms", "include_jobs", "exclude_jobs", "include_servers",
                "exclude_servers", "known_backup_servers", "read_errors", "view_limits"):
        policy[key] = _as_list(policy[key], key)
    for key in PATTERN_OPTIONS:
        policy[key] = _patterns(policy[key], key)
    policy["expected_vms"] = normalise_expected(_as_list(policy["expected_vms"], "expected_vms"))
    return policy


# The options of names and globs a person types, often as one comma-separated text (an AWX survey, -e): Ansible's
# list type splits "sql*, web*" on the comma only, and " web*" matched no VM - every web VM, a failed one too, was
# out of the scope without a word (found by attack).
PATTERN_OPTIONS = ("include_vms", "exclude_vms", "include_jobs", "exclude_jobs", "include_servers", "exclude_servers",
                   "known_backup_servers")


def _patterns(values, name):
    """The patterns without the spaces around them; an empty one (a trailing comma) is refused, naming it."""
    found = []
    for value in values:
        if isinstance(value, (dict, list)):
            raise ComplianceInputError("%s must be a list of names or glob patterns, got %r" % (name, value))
        text = str(value).strip()
        if not text:
            raise ComplianceInputError("%s holds an empty pattern (%r; a trailing comma?): give names or glob "
                                       "patterns only" % (name, values))
        found.append(text)
    return found


def _choice(value, name, choices):
    text = str(value).strip().lower()
    if text not in choices:
        raise ComplianceInputError("%s must be one of %s, got %r" % (name, ", ".join(choices), value))
    return text


def _as_bool(value, name):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ComplianceInputError("%s must be a boolean, got %r" % (name, value))


def _as_list(value, name):
    if value is None or value == "":
        return []
    if isinstance(value, (str, dict)):
        return [value]
    try:
        return list(value)
    except TypeError:
        raise ComplianceInputError("%s must be a list, got %r" % (name, value))
