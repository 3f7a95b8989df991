# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Findings grouped by cause: the same reason text on many VMs is one row with its VMs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.backupops.veeam_em.plugins.module_utils._report.common import unique
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html_base import status_td, table, td, todo_td


# A run of dotted labels ("esx01.corp.example.com.5"), matched whole: one pass. The host name is the run up
# to its last label of letters (a top-level domain) from the third label on (_host). The single pattern that
# asked for that last label itself (``...(?:\.[A-Za-z0-9-]+)+\.[A-Za-z]{2,}\b``) backtracked over the whole
# run from every start in it: quadratic in EM's reason text (80 KB of dotted text took ~40 s a finding; found
# by attack, session 15).
_DOTTED = re.compile(r"\b[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_TOP_LEVEL = re.compile(r"[A-Za-z]{2,}\Z")

_NORMALISE = [
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"), "<IP>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<id>"),
]


def _host(match):
    """A dotted run with its host name (three labels or more, the last of letters) as <host>; the rest kept."""
    labels = match.group(0).split(".")
    for last in range(len(labels) - 1, 1, -1):
        if _TOP_LEVEL.match(labels[last]):
            return ".".join(["<host>"] + labels[last + 1:])
    return match.group(0)


def normalise_reason(message):
    """The cause of a finding without what varies per VM: 'port 902 on 10.0.0.1' and 'on 10.0.0.7'
    are one cause. VM and host names inside the text are collapsed too, when they contain a dot.
    Linear in the message's length (each pattern matches without backtracking over a run)."""
    text = str(message or "")
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    return _NUMBER.sub("N", _DOTTED.sub(_host, text))


_NUMBER = re.compile(r"\d+")


def grouped_causes(result):
    """Findings (errors, then violations) grouped by (code, normalised message), biggest group first.

    Each group: code, severity, cause (the normalised text), example (one real message), items."""
    groups = {}
    order = []
    for item in list(result.get("errors", [])) + list(result.get("violations", [])):
        key = (item.get("severity"), item.get("code"), normalise_reason(item.get("message")))
        if key not in groups:
            groups[key] = {"severity": key[0], "code": key[1], "cause": key[2], "example": item.get("message"),
                           "items": []}
            order.append(key)
        groups[key]["items"].append(item)
    found = [groups[key] for key in order]
    found.sort(key=lambda g: (0 if g["severity"] == "error" else 1, -len(g["items"])))
    return found


_GROUP_NAMES_SHOWN = 12


def who(item):
    if item.get("vm_display_name"):
        return item["vm_display_name"]
    if item.get("scope") == "job" or item.get("kind") == "job":
        return "job %s" % (item.get("job_name") or "")
    return item.get("backup_server_name") or "(all)"


def causes_section(result):
    groups = grouped_causes(result)
    title = u'<a id="causes"></a><h2>Causes (%d, grouped from %d findings)</h2>' % (
        len(groups), len(result.get("errors", [])) + len(result.get("violations", [])))
    if not groups:
        return title + u"<p>None.</p>"
    rows = []
    for group in groups:
        names = unique(who(item) for item in group["items"])
        shown = ", ".join(names[:_GROUP_NAMES_SHOWN])
        if len(names) > _GROUP_NAMES_SHOWN:
            shown += ", and %d more (see Violations)" % (len(names) - _GROUP_NAMES_SHOWN)
        servers = ", ".join(unique(item.get("backup_server_name") or "" for item in group["items"]))
        rows.append([status_td(group["severity"]), td(group["code"]), td(len(group["items"]), "num"),
                     td(group["example"], "text"), td(servers), td(shown, "names"), todo_td([group["code"]])])
    return title + table(["severity", "reason", "findings", "cause (one example)", "backup servers", "affected",
                          "what to do"], rows, filter_label="causes")
