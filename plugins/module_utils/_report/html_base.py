# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""HTML building blocks: page style and script, escaping, times, cells and tables."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from html import escape

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_time
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.common import GENERIC_REMEDIATION, REMEDIATION, unique, xml_text

# One page for screen (fits 1280 px: wide tables scroll inside their own box, never the page)
# and for print (A4, no navigation, colours kept so the status cells still say something).
CSS = u"""
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:1em auto;padding:0 1em;max-width:1600px;color:#1d1d1f;background:#fff}
h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.4em 0 .5em;border-bottom:1px solid #ddd}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1em 1em;margin:.2em 0 .6em;font-size:.92em}
.meta dt{color:#555}.meta dd{margin:0;overflow-wrap:anywhere}
nav{font-size:.9em;margin:.4em 0}nav a{margin-right:1em}
.banner{padding:.7em 1em;border-radius:6px;font-weight:600;margin:.6em 0 1em}
.banner.violation{background:#fde2e1;color:#8a1c14}.banner.warning{background:#fff3cd;color:#6b4e00}
.banner.compliant{background:#dcf5e3;color:#145a2a}
.banner.error{background:#3b3b52;color:#fff}.banner small{display:block;font-weight:400;margin-top:.3em}
.scroll{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:.3em 0 1em;font-size:.88em;width:100%}
th,td{border:1px solid #d0d0d0;padding:.25em .45em;text-align:left;vertical-align:top;overflow-wrap:break-word}
td.text{min-width:14em}td.todo{min-width:16em;max-width:26em}td.names{font-size:.9em;min-width:14em}
th{background:#f3f3f3}td.num{text-align:right;white-space:nowrap}td.time{white-space:nowrap}
table.grid{width:auto}
.cards{display:flex;flex-wrap:wrap;gap:.5em}
.card{border:1px solid #d0d0d0;border-radius:6px;padding:.4em .8em;min-width:7em;font-size:.9em}
.card b{display:block;font-size:1.45em}.card.bad{border-color:#b3261e;background:#fdf0ef}
.status{font-weight:600;white-space:nowrap}.status.error{color:#3b3b52}.status.violation{color:#b3261e}.status.warning{color:#8a6100}.status.compliant{color:#1e7b3a}
.todo{color:#144a8a}
td.cell{width:2.2em;text-align:center;font-size:.8em;padding:.2em;overflow-wrap:normal}
td.cell.success{background:#bfe8c9}td.cell.warning{background:#ffe08a}td.cell.recovered{background:#cde3ff}
td.cell.failed{background:#f4a29c}td.cell.running{background:#e3d4ff}td.cell.none{background:#fafafa;color:#999}
.legend .success{background:#bfe8c9}.legend .warning{background:#ffe08a}.legend .recovered{background:#cde3ff}
.legend .failed{background:#f4a29c}.legend .running{background:#e3d4ff}.legend .none{background:#fafafa;color:#999}
.legend span{display:inline-block;padding:.1em .5em;margin-right:.4em;border:1px solid #ccc}
.muted{color:#666;font-size:.85em}
td.tag{white-space:nowrap;font-size:.85em}td.tag.new{background:#ffe2b8;font-weight:600}td.tag.since{color:#555}
td.marks{font-family:ui-monospace,Consolas,monospace;font-size:.8em;white-space:nowrap}
.omitted{background:#eef4ff;padding:.4em .7em;border-radius:4px}code{font-size:.9em}
input.filter{display:none;margin:.2em 0;padding:.2em .4em;width:20em;max-width:100%}
.js input.filter{display:inline-block}.js th{cursor:pointer}
@media print{
@page{size:A4;margin:12mm}
body{margin:0;padding:0;max-width:none;font-size:8.5pt}
nav,input.filter{display:none!important}
.scroll{overflow:visible}table{font-size:8pt}tr{break-inside:avoid}h2{break-after:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""

# Sorting (click a header) and filtering (type in the box above a table), for tables marked
# "sortable". Inline and small, so that the page stays self-contained; without JavaScript the
# tables are complete and already in the order that matters (what is wrong first).
SCRIPT = u"""
document.documentElement.className+=' js';
document.querySelectorAll('table.sortable').forEach(function(t){
var b=t.tBodies[0],f=t.parentNode.previousElementSibling;
t.querySelectorAll('th').forEach(function(th,i){var up=true;th.title='sort';th.onclick=function(){
var rows=Array.prototype.slice.call(b.rows);rows.sort(function(x,y){
var r=x.cells[i].textContent.localeCompare(y.cells[i].textContent,undefined,{numeric:true});return up?r:-r;});
up=!up;rows.forEach(function(r){b.appendChild(r);});};});
if(f&&f.classList.contains('filter')){f.oninput=function(){var q=f.value.toLowerCase();
Array.prototype.forEach.call(b.rows,function(r){r.style.display=r.textContent.toLowerCase().indexOf(q)<0?'none':'';});};}
});
"""

CELL_SYMBOLS = {"success": u"\u2713", "warning": "W", "recovered": "R", "failed": u"\u2717",
                "running": u"\u2026", "none": u"\u00b7"}
CELL_TITLES = {"success": "success", "warning": "warning", "recovered": "failed, then recovered",
               "failed": "failed", "running": "in progress / pending", "none": "no session"}


def h(value):
    """HTML-escape any value (None as empty), quotes included, so names cannot break out.

    Control characters are replaced as in XML: they are parse errors in HTML too.
    """
    return escape(xml_text(value), quote=True)


_ISO = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)?$")


def show_time(value):
    """An EM time as people read it: '2025-06-05 01:00:00' (UTC, as the page header says),
    without microseconds; anything that is not an ISO time is shown as it is."""
    if not value:
        return ""
    match = _ISO.match(str(value))
    if not match:
        return str(value)
    zone = match.group(3)
    suffix = "" if zone in (None, "Z", "+00:00", "+0000") else " " + zone
    return "%s %s%s" % (match.group(1), match.group(2), suffix)


def local_time(value):
    """The generation time in the controller's local zone (where the report is rendered)."""
    try:
        moment = em_time.parse_iso(str(value)) if value else None
    except ValueError:
        moment = None
    if moment is None:
        return ""
    local = moment.astimezone()
    return "%s %s" % (local.strftime("%Y-%m-%d %H:%M:%S"), local.tzname() or local.strftime("%z"))


def table(headers, rows, css="sortable", filter_label=None):
    """A table in its own scroll box (the page never scrolls sideways); sortable ones get a filter box."""
    head = u"".join(u"<th>%s</th>" % h(x) for x in headers)
    body = u"".join(u"<tr>%s</tr>" % u"".join(row) for row in rows)
    box = u""
    if "sortable" in css:
        box = u'<input class="filter" type="search" placeholder="filter %s" aria-label="filter %s">' % (
            h(filter_label or "rows"), h(filter_label or "rows"))
    return u'%s<div class="scroll"><table class="%s"><thead><tr>%s</tr></thead><tbody>%s</tbody></table></div>' % (
        box, h(css), head, body)


def td(value, css=None):
    return u'<td class="%s">%s</td>' % (h(css), h(value)) if css else u"<td>%s</td>" % h(value)


def time_td(value):
    return td(show_time(value), "time")


def status_td(status):
    return u'<td class="status %s">%s</td>' % (h(status), h(status))


def todo_td(codes):
    lines = [REMEDIATION.get(code, GENERIC_REMEDIATION) for code in unique(codes)]
    return u'<td class="todo">%s</td>' % u"<br>".join(h(line) for line in lines)
