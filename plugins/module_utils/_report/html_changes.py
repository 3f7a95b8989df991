# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""HTML for what changed since the last report, the nightly trend, and the row limit of large fleets."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools

from ansible_collections.backupops.veeam_em.plugins.module_utils._report.common import plural
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.history import finding_key
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html_base import h, show_time, table, td

# Above this many VM rows the page lists only the VMs that are not compliant (and at most this many
# rows per table); the JSON report has every row. A person reads the violations, not a 50,000-row
# grid, and a browser needs seconds and hundreds of MB for one.
DEFAULT_MAX_ROWS = 2000
_TREND_ROWS = 50  # worst VMs and jobs listed in the trend section; the JSON has all of them


def since_map(result):
    """{finding key: 'new' | first-seen time} when the report was compared with a previous one."""
    changes = result.get("changes")
    if not changes or changes.get("first_report"):
        return None
    tags = dict((entry["key"], "new") for entry in changes.get("new", []))
    tags.update((entry["key"], entry.get("since")) for entry in changes.get("recurring", []))
    return tags


def since_td(item, tags):
    tag = tags.get(finding_key(item))
    if tag is None:
        return td("")
    if tag == "new":
        return u'<td class="tag new">new</td>'
    return u'<td class="tag since">since %s</td>' % h(show_time(tag)[:10])


def changes_section(result):
    """'Since the last report': counts, then the resolved findings (the new ones are tagged in place)."""
    changes = result.get("changes")
    if not changes:
        return u""
    title = u'<a id="changes"></a><h2>Since the last report</h2>'
    if changes.get("first_report"):
        return title + (u"<p>First report in this directory: there is no previous report to compare with, "
                        u"so nothing is marked new or resolved.</p>")
    head = u"<p>Compared with the report of %s UTC: %s, %s, %s.</p>" % (
        h(show_time(changes.get("previous_generated_at"))), h(plural(len(changes["new"]), "new finding")),
        h(plural(len(changes["recurring"]), "recurring finding")), h(plural(len(changes["resolved"]), "resolved finding")))
    resolved = u'<a id="resolved"></a><h3>Resolved since last report (%d)</h3>' % len(changes["resolved"])
    if changes.get("not_read_in_full"):
        return title + head + resolved + (u"<p>Not known: Enterprise Manager was not read in full this time, so a "
                                          u"finding missing from this report may only be unread. The next full "
                                          u"read compares with the findings last seen.</p>")
    if not changes["resolved"]:
        return title + head + resolved + u"<p>None.</p>"
    rows = [[td(entry.get("text"), "text"), td(show_time(entry.get("since"))[:10], "time")]
            for entry in changes["resolved"]]
    return title + head + resolved + table(["finding (as last reported)", "first seen"], rows,
                                           filter_label="resolved findings")


def trend_section(result):
    """Success rate per job and VM over the kept nights, worst first; the rows OK every night are left out."""
    trend = result.get("trend")
    if not trend:
        return u""
    title = u'<a id="trend"></a><h2>Trend over %s (%s to %s)</h2>' % (
        h(plural(trend["nights"], "night")), h(trend.get("first_night") or ""), h(trend.get("last_night") or ""))
    note = (u'<p class="muted">One mark per night, oldest first: + OK, x in violation or error (VM) / last run '
            u'failed (job), . not in that night\'s report. Jobs and VMs OK every night they were seen are not '
            u"listed; the JSON report has every row below 100%.</p>")
    parts = [title, note]
    for name, rows, label in (("Jobs", trend["jobs"], lambda e: e.get("job_name")),
                              ("VMs", trend["vms"], lambda e: e.get("vm_display_name") or e.get("vm_uid"))):
        shown = rows[:_TREND_ROWS]
        parts.append(u"<h3>%s below 100%% (%d%s)</h3>" % (
            h(name), len(rows), (u", the worst %d shown" % len(shown)) if len(shown) < len(rows) else u""))
        parts.append(table(["backup server", name[:-1], "nights OK", "rate %", "nights"], [
            [td(e.get("backup_server_name") or ""), td(label(e)), td("%d of %d" % (e["ok"], e["nights"]), "num"),
             td(e["rate"], "num"), u'<td class="marks">%s</td>' % h(e["marks"])] for e in shown],
            filter_label="trend") if shown else u"<p>None.</p>")
    return u"".join(parts)


def limit_rows(rows, max_rows, keep=lambda row: True):
    """(rows shown, rows left out): all of them up to ``max_rows``, else the kept ones up to it."""
    if max_rows is None or len(rows) <= max_rows:
        return rows, 0
    # at most max_rows rows made (issue 18: the module's rows are em_rows.PackedRows, each read a new dict)
    shown = list(itertools.islice((row for row in rows if keep(row)), max_rows))
    return shown, len(rows) - len(shown)


def omitted_note(omitted, total, json_href):
    """Says how many rows are in the JSON report only, and links to it."""
    if not omitted:
        return u""
    if not json_href:
        return (u'<p class="omitted">%d of %d rows are shown; the other %d are not in this page, and no JSON report '
                u'(which has every row) was written: add json to the report formats.</p>' % (
                    total - omitted, total, omitted))
    return u'<p class="omitted">%d of %d rows are shown; the other %d are in <a href="%s">%s</a> only.</p>' % (
        total - omitted, total, omitted, h(json_href), h(json_href))
