# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a compliance evaluation as JSON, JUnit XML and a self-contained HTML page.

Shared by the report filters (``veeam_em_compliance_junit`` / ``_html``) and by
``veeam_em_compliance_info``, which renders the reports in the process that evaluated, so that
the full evaluation (megabytes at thousands of VMs) never has to pass through Ansible's
templating; only the finished documents do, as plain strings.

Reports are built in Python rather than Jinja templates so that escaping is done by the
standard library (xml.etree, html.escape) and can be tested with hostile VM names: quotes,
``<``, ``&``, non-ASCII and control characters all occur in real inventories.
Documentation of the filters is in the ``.yml`` sidecars of plugins/filter/.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from html import escape


class ReportInputError(ValueError):
    """Raised when the input is not a compliance result."""


# Characters XML 1.0 cannot carry at all, not even escaped.
_XML_INVALID = re.compile(u"[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

GLOBAL_SUITE = "veeam_em_compliance"
SERVER_SUITE = "backup servers"
JOB_SUITE = "jobs"


def xml_text(value):
    """Text safe for XML 1.0: None becomes '', forbidden control characters become U+FFFD."""
    if value is None:
        return ""
    return _XML_INVALID.sub(u"\ufffd", str(value))


def _check_result(result):
    if not isinstance(result, dict) or "vms" not in result or "summary" not in result:
        raise ReportInputError("the input must be the result of the veeam_em_compliance filter")


def _server_label(name):
    return name if name else "(unknown backup server)"


def _vm_label(row):
    return row.get("vm_display_name") or row.get("vm_uid") or "(unnamed VM)"


def _job_label(job):
    return "%s / %s" % (_server_label(job.get("backup_server_name")), job.get("job_name") or "(unnamed job)")


def _findings_text(findings):
    """One line per finding, then one 'what to do' line per reason code (CI shows this text as is)."""
    lines = ["[%s] %s: %s" % (f["severity"], f["code"], f["message"]) for f in findings]
    codes = []
    for finding in findings:
        if finding["code"] not in codes:
            codes.append(finding["code"])
    lines += ["what to do (%s): %s" % (code, REMEDIATION.get(code, GENERIC_REMEDIATION)) for code in codes]
    return "\n".join(lines)


def _failure(case, findings):
    """``<error>`` for findings of severity error (EM not read, or only in part: the test could
    not run), ``<failure>`` for violations (it ran and failed), warnings as ``system-out``."""
    for severity, tag in (("error", "error"), ("violation", "failure")):
        matching = [f for f in findings if f["severity"] == severity]
        if matching:
            element = ET.SubElement(case, tag, {
                "message": xml_text("; ".join(sorted(set(f["code"] for f in matching)))),
                "type": xml_text(matching[0]["code"]),
            })
            element.text = xml_text(_findings_text(matching))
    warnings = [f for f in findings if f["severity"] == "warning"]
    if warnings:
        ET.SubElement(case, "system-out").text = xml_text(_findings_text(warnings))


def _suite(parent, name, cases, timestamp):
    """cases: list of (classname, name, findings); returns (failures, errors)."""
    failures = sum(1 for _c, _n, findings in cases if any(f["severity"] == "violation" for f in findings))
    errors = sum(1 for _c, _n, findings in cases if any(f["severity"] == "error" for f in findings))
    suite = ET.SubElement(parent, "testsuite", {
        "name": xml_text(name), "tests": str(len(cases)), "failures": str(failures),
        "errors": str(errors), "skipped": "0", "timestamp": xml_text(timestamp),
    })
    for classname, case_name, findings in cases:
        case = ET.SubElement(suite, "testcase", {"classname": xml_text(classname), "name": xml_text(case_name),
                                                 "time": "0"})
        _failure(case, findings)
    return failures, errors


def junit_cases(result):
    """(suite name, [(classname, case name, findings)]) in report order.

    One global case (EM read in full, data present), one case per backup server (reporting), one
    case per job with job sessions in the window (its last run; issue 22: a failed job is never
    silent), and one case per VM grouped in a suite per backup server, so CI counts equal the JSON
    summary: tests = vms_total + servers_total + jobs_total + 1,
    failures = vms_violation + servers_silent + jobs with a violation + (1 when a global violation
    such as no_data exists), errors = 1 when EM could not be read in full (read_error, partial_view:
    the global case is an ``<error>``).
    """
    global_findings = [e for e in result.get("errors", []) if e.get("scope") == "global"]
    global_findings += [v for v in result.get("violations", []) if v.get("scope") == "global"]
    global_findings += [w for w in result.get("warnings", []) if w.get("scope") == "global"]
    suites = [(GLOBAL_SUITE, [(GLOBAL_SUITE, "Enterprise Manager was read in full", global_findings)])]
    suites.append((SERVER_SUITE, [
        (SERVER_SUITE, _server_label(server.get("backup_server_name")), server.get("findings", []))
        for server in result.get("servers", [])]))
    if result.get("jobs"):
        suites.append((JOB_SUITE, [(JOB_SUITE, _job_label(job), job.get("findings", [])) for job in result["jobs"]]))
    per_server = {}
    for row in result["vms"]:
        label = _server_label(row.get("backup_server_name"))
        per_server.setdefault(label, []).append(
            (label, _vm_label(row), row.get("findings", [])))
    for label in sorted(per_server, key=lambda s: s.lower()):
        suites.append((label, per_server[label]))
    return suites


def _properties(suite, result):
    """What was read, where and when, as JUnit properties of the global suite (CI shows them per run)."""
    source = result.get("source") or {}
    window = result.get("window") or {}
    values = [("em_server", source.get("em_server")), ("username", source.get("username")),
              ("status", result.get("status")), ("window_start", window.get("start")),
              ("window_end", window.get("end")), ("generated_at", result.get("generated_at"))]
    properties = ET.Element("properties")
    for name, value in values:
        if value is not None:
            ET.SubElement(properties, "property", {"name": name, "value": xml_text(value)})
    suite.insert(0, properties)  # the JUnit schema wants properties before the test cases


def to_junit(result):
    """The JUnit XML document (str) of a compliance result."""
    _check_result(result)
    timestamp = result.get("generated_at") or ""
    root = ET.Element("testsuites", {"name": "Veeam EM backup compliance"})
    tests = failures = errors = 0
    for name, cases in junit_cases(result):
        suite_failures, suite_errors = _suite(root, name, cases, timestamp)
        if name == GLOBAL_SUITE:
            _properties(root[-1], result)
        failures += suite_failures
        errors += suite_errors
        tests += len(cases)
    root.set("tests", str(tests))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    if hasattr(ET, "indent"):  # Python 3.9+: one element per line, readable and diff-friendly
        ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return u'<?xml version="1.0" encoding="UTF-8"?>\n' + body + u"\n"


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

# One page for screen (fits 1280 px: wide tables scroll inside their own box, never the page)
# and for print (A4, no navigation, colours kept so the status cells still say something).
_CSS = u"""
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
.muted{color:#666;font-size:.85em}code{font-size:.9em}
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
_SCRIPT = u"""
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

# What a person does first about each reason code (one line, shown next to the finding). The codes
# are those of module_utils/_compliance/vocabulary.py; a code without a line gets the generic one.
REMEDIATION = {
    "rpo_exceeded": "Find why the VM's job did not run or failed (job history in the Veeam console); "
                    "run the job now, then fix the cause so the next run succeeds.",
    "replica_rpo_exceeded": "Check the replication job's schedule and last runs; start it once the cause is fixed.",
    "copy_rpo_exceeded": "Check the backup copy job (target repository reachable, copy window long enough); "
                         "start a copy now.",
    "last_backup_failed": "Read the failure reason below, fix it (host/credentials/storage), then retry the job "
                          "for this VM.",
    "last_replica_failed": "Read the failure reason, fix it, then retry the replication job.",
    "last_copy_failed": "Read the failure reason, fix it (often the copy target), then retry the copy job.",
    "last_backup_warning": "Read the warning in the session log; it often precedes a failure (disk space, CBT, tools).",
    "last_replica_warning": "Read the warning in the replica session log.",
    "last_copy_warning": "Read the warning in the copy session log.",
    "recovered_failure": "A retry succeeded; look at why the first try failed if it repeats.",
    "stuck_session": "The session has run for too long: check it in the Veeam console and stop it if it hangs "
                     "(locked snapshot, unresponsive proxy).",
    "long_running": "The run exceeds the allowed duration: check proxy/repository load or split the job.",
    "never_backed_up": "The VM is expected but no job covers it: add it to a job (or fix the expected list / name).",
    "server_silent": "The backup server reported nothing: check that it is running, reachable from Enterprise "
                     "Manager and that its jobs are scheduled.",
    "job_failed": "Open the job's last session in the Veeam console, fix the cause, then retry the job.",
    "unreadable_sessions": "Enterprise Manager returned sessions the report cannot read: check the EM version "
                           "and the read errors; the verdicts do not cover them.",
    "read_error": "Enterprise Manager could not be read: fix the connection/credentials named in the message and "
                  "run again - the verdicts are incomplete.",
    "partial_view": "Use an EM account with the Portal Administrator role, or accept the partial view on purpose "
                    "(allow_partial_view).",
    "no_data": "Nothing was read: check the EM address, the account and the window, then run again.",
}
GENERIC_REMEDIATION = "See the message; check the session in the Veeam console."

_STATUS_RANK = {"error": 0, "violation": 1, "warning": 2, "compliant": 3}


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


def _local_time(value):
    """The generation time in the controller's local zone (where the report is rendered)."""
    try:
        moment = datetime.strptime(_ISO.match(str(value)).group(1) + _ISO.match(str(value)).group(2),
                                   "%Y-%m-%d%H:%M:%S").replace(tzinfo=timezone.utc)
    except (AttributeError, TypeError, ValueError):
        return ""
    local = moment.astimezone()
    return "%s %s" % (local.strftime("%Y-%m-%d %H:%M:%S"), local.tzname() or local.strftime("%z"))


def _table(headers, rows, css="sortable", filter_label=None):
    """A table in its own scroll box (the page never scrolls sideways); sortable ones get a filter box."""
    head = u"".join(u"<th>%s</th>" % h(x) for x in headers)
    body = u"".join(u"<tr>%s</tr>" % u"".join(row) for row in rows)
    box = u""
    if "sortable" in css:
        box = u'<input class="filter" type="search" placeholder="filter %s" aria-label="filter %s">' % (
            h(filter_label or "rows"), h(filter_label or "rows"))
    return u'%s<div class="scroll"><table class="%s"><thead><tr>%s</tr></thead><tbody>%s</tbody></table></div>' % (
        box, h(css), head, body)


def _td(value, css=None):
    return u'<td class="%s">%s</td>' % (h(css), h(value)) if css else u"<td>%s</td>" % h(value)


def _time_td(value):
    return _td(show_time(value), "time")


def _status_td(status):
    return u'<td class="status %s">%s</td>' % (h(status), h(status))


def _todo_td(codes):
    lines = [REMEDIATION.get(code, GENERIC_REMEDIATION) for code in _unique(codes)]
    return u'<td class="todo">%s</td>' % u"<br>".join(h(line) for line in lines)


def _unique(values):
    """The values in their first order without repeats (a set beside the list: groups hold thousands)."""
    seen, found = set(), []
    for value in values:
        if value not in seen:
            seen.add(value)
            found.append(value)
    return found


def _plural(count, word, plural=None):
    return "%d %s" % (count, word if count == 1 else (plural or word + "s"))


def _finding_rows(items):
    rows = []
    for item in items:
        rows.append([
            _td(item.get("backup_server_name") or ("(all)" if item.get("scope") == "global" else "")),
            _td(item.get("vm_display_name") or ""),
            _td(item.get("code")), _td(item.get("kind") or ""),
            _td(item.get("message"), "text"), _td(item.get("job_name") or ""), _time_td(item.get("time")),
        ])
    return rows


def _summary_cards(summary):
    """Tiles that say what they count: VMs by status, then servers, jobs, findings and sessions."""
    cards = [("VMs judged", summary.get("vms_total"), False),
             ("VMs compliant", summary.get("vms_compliant"), False),
             ("VMs with warnings", summary.get("vms_warning"), False),
             ("VMs in violation", summary.get("vms_violation"), True),
             ("VMs seen only before the window", summary.get("vms_from_history", 0), False),
             ("backup servers", summary.get("servers_total"), False),
             ("silent backup servers", summary.get("servers_silent"), True),
             ("jobs", summary.get("jobs_total", 0), False),
             ("jobs whose last run failed", summary.get("jobs_failed", 0), True),
             ("violation findings (all VMs, servers, jobs)", summary.get("violations_total"), True),
             ("warning findings", summary.get("warnings_total"), False),
             ("read errors", summary.get("errors_total", 0), True),
             ("backup sessions", summary.get("backup_sessions"), False),
             ("copy sessions", summary.get("copy_sessions", 0), False),
             ("replica sessions", summary.get("replica_sessions"), False)]
    return u'<div class="cards">%s</div>' % u"".join(
        u'<div class="card%s"><b>%s</b>%s</div>' % (u" bad" if bad and value else u"", h(value), h(label))
        for label, value, bad in cards)


def _grid(result):
    days = result.get("window", {}).get("days", [])
    headers = ["status", "backup server", "VM", "kind"] + [d[5:] for d in days]
    rows = []
    for row in result["vms"]:
        for kind in ("backup", "copy", "replica"):
            block = row.get(kind)
            if block is None and not (kind == "backup" and row.get("replica") is None):
                continue
            cells = {c["date"]: c for c in (block or {}).get("daily", [])}
            line = [_status_td(row["status"]), _td(row.get("backup_server_name") or ""),
                    _td(_vm_label(row)), _td(kind)]
            for day in days:
                cell = cells.get(day, {"cell": "none", "sessions": 0})
                title = "%s %s: %s (%s)" % (day, kind, CELL_TITLES.get(cell["cell"], cell["cell"]),
                                            _plural(cell.get("sessions", 0), "session"))
                line.append(u'<td class="cell %s" title="%s">%s</td>' % (
                    h(cell["cell"]), h(title), h(CELL_SYMBOLS.get(cell["cell"], "?"))))
            rows.append(line)
    legend = u'<p class="legend">%s</p>' % u"".join(
        u'<span class="%s">%s %s</span>' % (h(k), h(CELL_SYMBOLS[k]), h(CELL_TITLES[k]))
        for k in ("success", "warning", "recovered", "failed", "running", "none"))
    return legend + _table(headers, rows, css="grid sortable", filter_label="VMs")


def _vm_rows(result):
    rows = []
    for row in result["vms"]:
        backup = row.get("backup") or {}
        replica = row.get("replica") or {}
        rows.append([
            _status_td(row["status"]), _td(row.get("backup_server_name") or ""), _td(_vm_label(row)),
            _td(", ".join(row.get("reasons", []))),
            _time_td(backup.get("last_success_time")), _td(backup.get("last_success_age_hours"), "num"),
            _time_td(replica.get("last_success_time")), _td(", ".join(row.get("jobs", []))),
            _td("yes" if row.get("expected") else ""),
        ])
    return rows


def server_display_status(server):
    """A server's status as shown: never green while VMs on it are in violation or warning.

    The evaluation's own server status judges only the server (does it report?); the page
    colours the row by the worst of that and its VMs, so that a server with violations is not
    read as healthy at a glance.
    """
    status = server.get("status") or "compliant"
    if server.get("vms_violation") and _STATUS_RANK.get(status, 3) > _STATUS_RANK["violation"]:
        return "violation"
    if server.get("vms_warning") and _STATUS_RANK.get(status, 3) > _STATUS_RANK["warning"]:
        return "warning"
    return status


def _server_rows(result):
    servers = sorted(result.get("servers", []),
                     key=lambda s: (_STATUS_RANK.get(server_display_status(s), 3), -(s.get("vms_violation") or 0)))
    return [[_status_td(server_display_status(s)), _td(s.get("backup_server_name") or ""),
             _td(s.get("sessions"), "num"), _time_td(s.get("last_session_time")), _td(s.get("vms"), "num"),
             _td(s.get("vms_violation"), "num"), _td(s.get("vms_warning"), "num"),
             _td(", ".join(s.get("reasons", []))), _todo_td(s.get("reasons", []))]
            for s in servers]


def job_display_status(job):
    """A job's status as shown: a job with failed runs in the window is never green (issue 17)."""
    status = job.get("status") or "compliant"
    if job.get("failed_sessions") and status == "compliant":
        return "warning"
    return status


def failing_jobs(result):
    """Jobs not compliant or with failed runs, worst first: status, then most failed runs, then newest."""
    jobs = [job for job in result.get("jobs", [])
            if job.get("status") != "compliant" or job.get("failed_sessions") or job.get("failed")]
    jobs.sort(key=lambda job: job.get("last_session_time") or "", reverse=True)
    jobs.sort(key=lambda job: -(job.get("failed_sessions") or 0))
    jobs.sort(key=lambda job: _STATUS_RANK.get(job_display_status(job), 3))
    return jobs


def _job_note(job):
    note = []
    if job.get("running"):
        note.append("running now")
    if job.get("recovered_by_retry"):
        note.append("recovered by a retry")
    elif job.get("last_is_retry"):
        note.append("last run was a retry")
    return ", ".join(note)


def _job_row(job):
    return [
        _status_td(job_display_status(job)), _td(job.get("backup_server_name") or ""),
        _td(job.get("job_name") or ""),
        _td("%s of %s" % (job.get("failed_sessions") or 0, job.get("sessions") or 0), "num"),
        _td(", ".join(job.get("reasons", []))), _td(job.get("job_type") or ""),
        _time_td(job.get("last_session_time")), _td(job.get("last_result") or ""),
        _td(job.get("retries"), "num"), _td(_job_note(job)),
    ]


JOB_HEADERS = ["status", "backup server", "job", "failed runs", "reasons", "type", "last run (UTC)", "last result",
               "retries", "note"]


def _failing_jobs_section(result):
    if "jobs" not in result:
        return u""
    jobs = failing_jobs(result)
    title = u'<a id="failing-jobs"></a><h2>Failing jobs (%d of %d)</h2>' % (len(jobs), len(result["jobs"]))
    if not jobs:
        return title + u"<p>No job failed in the window.</p>"
    rows = [_job_row(job) + [_todo_td(job.get("reasons") or ["job_failed"])] for job in jobs]
    return title + _table(JOB_HEADERS + ["what to do"], rows, filter_label="jobs")


def _jobs_section(result):
    """Per-job status (from job sessions); absent from results made without job sessions."""
    if "jobs" not in result:
        return u""
    title = u'<a id="jobs"></a><h2>Jobs (%d)</h2>' % len(result["jobs"])
    if not result["jobs"]:
        return title + u"<p>No job sessions were read.</p>"
    jobs = sorted(result["jobs"], key=lambda job: (_STATUS_RANK.get(job_display_status(job), 3),
                                                   -(job.get("failed_sessions") or 0)))
    return title + _table(JOB_HEADERS, [_job_row(job) for job in jobs], filter_label="jobs")


# Parts of a message that differ between VMs with the same cause: addresses, host names, numbers.
_NORMALISE = [
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"), "<IP>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<id>"),
    (re.compile(r"\b[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\.[A-Za-z]{2,}\b"), "<host>"),
    (re.compile(r"\d+"), "N"),
]


def normalise_reason(message):
    """The cause of a finding without what varies per VM: 'port 902 on 10.0.0.1' and 'on 10.0.0.7'
    are one cause. VM and host names inside the text are collapsed too, when they contain a dot."""
    text = str(message or "")
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    return text


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


def _who(item):
    if item.get("vm_display_name"):
        return item["vm_display_name"]
    if item.get("scope") == "job" or item.get("kind") == "job":
        return "job %s" % (item.get("job_name") or "")
    return item.get("backup_server_name") or "(all)"


def _causes_section(result):
    groups = grouped_causes(result)
    title = u'<a id="causes"></a><h2>Causes (%d, grouped from %d findings)</h2>' % (
        len(groups), len(result.get("errors", [])) + len(result.get("violations", [])))
    if not groups:
        return title + u"<p>None.</p>"
    rows = []
    for group in groups:
        names = _unique(_who(item) for item in group["items"])
        shown = ", ".join(names[:_GROUP_NAMES_SHOWN])
        if len(names) > _GROUP_NAMES_SHOWN:
            shown += ", and %d more (see Violations)" % (len(names) - _GROUP_NAMES_SHOWN)
        servers = ", ".join(_unique(item.get("backup_server_name") or "" for item in group["items"]))
        rows.append([_status_td(group["severity"]), _td(group["code"]), _td(len(group["items"]), "num"),
                     _td(group["example"], "text"), _td(servers), _td(shown, "names"), _todo_td([group["code"]])])
    return title + _table(["severity", "reason", "findings", "cause (one example)", "backup servers", "affected",
                           "what to do"], rows, filter_label="causes")


BANNER_WORDS = {
    "error": u"ERROR: Enterprise Manager could not be read in full - the verdicts below cover only what was read",
    "violation": u"VIOLATION: VMs, backup servers or jobs are out of policy",
    "warning": u"WARNING: every VM is protected, with warnings",
    "compliant": u"COMPLIANT: every VM judged is protected",
}


def banner_counts(result):
    """The banner's count line: each number names what it counts (VMs, servers, jobs or findings)."""
    summary = result["summary"]
    jobs = result.get("jobs", [])
    jobs_violation = sum(1 for job in jobs if job.get("status") == "violation")
    jobs_failing = len(failing_jobs(result))
    parts = ["%d of %d VMs in violation" % (summary.get("vms_violation", 0), summary.get("vms_total", 0)),
             "%d with warnings" % summary.get("vms_warning", 0),
             "%d of %d backup servers silent" % (summary.get("servers_silent", 0), summary.get("servers_total", 0))]
    if "jobs" in result:
        parts.append("%d of %d jobs failing (%d in violation)" % (jobs_failing, len(jobs), jobs_violation))
    parts.append("findings: %s, %s, %s" % (
        _plural(summary.get("violations_total", 0), "violation"), _plural(summary.get("warnings_total", 0), "warning"),
        _plural(summary.get("errors_total", 0), "read error")))
    return "; ".join(parts)


def _banner(result):
    """The status in its own colour and words, and counts that say what they count."""
    status = result.get("status", "violation")
    errors = u"".join(u"<small>%s</small>" % h(item.get("message")) for item in result.get("errors", []))
    return u'<a id="status"></a><div class="banner %s">%s<small>%s</small>%s</div>' % (
        h(status), h(BANNER_WORDS.get(status, status.upper())), h(banner_counts(result)), errors)


def _source(result):
    """Which EM and account were read: the module adds ``source``; the filter's input may not."""
    source = result.get("source") or {}
    servers = source.get("em_servers") or ([source["em_server"]] if source.get("em_server") else [])
    return (", ".join(str(s) for s in servers) or "(not given to the report)",
            source.get("username") or "(not given to the report)")


def _header(result, title):
    window = result.get("window", {})
    policy = result.get("policy", {})
    servers, account = _source(result)
    generated = result.get("generated_at")
    local = _local_time(generated)
    policy_text = (u"backup RPO %sh, replica RPO %s, copy RPO %s, warnings %s, max duration %s min, "
                   u"stuck after %sh, failed jobs are %s" % (
                       policy.get("backup_rpo_hours"),
                       ("%sh" % policy.get("replica_rpo_hours")) if policy.get("replica_rpo_hours") else "off",
                       ("%sh" % policy.get("copy_rpo_hours")) if policy.get("copy_rpo_hours") else "off",
                       "accepted" if policy.get("accept_warnings") else "not accepted",
                       policy.get("max_duration_minutes"), policy.get("stuck_hours"),
                       policy.get("failed_job_severity") or "warnings"))
    rows = [("Enterprise Manager", servers), ("Account", account),
            ("Window (UTC)", u"%s \u2192 %s (%s days)" % (
                show_time(window.get("start")), show_time(window.get("end")), window.get("lookback_days"))),
            ("Policy", policy_text),
            ("Generated", u"%s UTC%s" % (show_time(generated), (" (%s on the controller)" % local) if local else ""))]
    return u'<h1>%s</h1><dl class="meta">%s</dl>' % (
        h(title), u"".join(u"<dt>%s</dt><dd>%s</dd>" % (h(k), h(v)) for k, v in rows))


def _nav(result):
    links = [("causes", "Causes"), ("violations", "Violations"), ("warnings", "Warnings"), ("vms", "VMs"),
             ("servers", "Backup servers"), ("grid", "Day grid")]
    if result.get("errors"):
        links.insert(0, ("errors", "Errors"))
    if "jobs" in result:
        links.insert(0, ("failing-jobs", "Failing jobs"))
        links.append(("jobs", "Jobs"))
    return u"<nav>%s</nav>" % u"".join(u'<a href="#%s">%s</a>' % (h(a), h(t)) for a, t in links)


def _errors_section(result):
    """Errors (EM not read, or only in part) first: they limit every verdict below them."""
    if not result.get("errors"):
        return u""
    return (u'<a id="errors"></a><h2>Errors (%d)</h2>' % len(result["errors"])
            + _table(["backup server", "VM", "reason", "kind", "detail", "job", "time (UTC)"],
                     _finding_rows(result["errors"]), filter_label="errors"))


def _findings_section(anchor, name, items):
    headers = ["backup server", "VM", "reason", "kind", "detail", "job", "time (UTC)"]
    title = u'<a id="%s"></a><h2>%s (%d)</h2>' % (h(anchor), h(name), len(items))
    return title + (_table(headers, _finding_rows(items), filter_label=name.lower()) if items else u"<p>None.</p>")


def to_html(result, title="Veeam backup compliance"):
    """A self-contained HTML page (inline CSS and one small inline script, no external assets).

    What is wrong comes first: the banner, failing jobs, causes grouped with a line on what to do,
    then every finding, the VMs, backup servers, all jobs and the day grid.
    """
    _check_result(result)
    parts = [
        u"<!DOCTYPE html>",
        u'<html lang="en"><head><meta charset="utf-8">',
        u'<meta name="viewport" content="width=device-width, initial-scale=1">',
        u"<title>%s</title><style>%s</style></head><body>" % (h(title), _CSS),
        _header(result, title),
        _banner(result),
        _nav(result),
        _summary_cards(result["summary"]),
        _errors_section(result),
        _failing_jobs_section(result),
        _causes_section(result),
        _findings_section("violations", "Violations", result.get("violations", [])),
        _findings_section("warnings", "Warnings", result.get("warnings", [])),
        u'<a id="vms"></a><h2>VMs (%d)</h2>' % len(result["vms"]),
        _table(["status", "backup server", "VM", "reasons", "last backup point (UTC)", "age (h)",
                "last replica point (UTC)", "jobs", "expected"], _vm_rows(result), filter_label="VMs"),
        u'<a id="servers"></a><h2>Backup servers (%d)</h2>' % len(result.get("servers", [])),
        _table(["status", "backup server", "sessions", "last session (UTC)", "VMs", "VMs in violation",
                "VMs with warnings", "reasons", "what to do"], _server_rows(result), filter_label="servers"),
        _jobs_section(result),
        u'<a id="grid"></a><h2>Results per VM and day (UTC)</h2>',
        _grid(result),
        u'<p class="muted">Generated by backupops.veeam_em.veeam_em_compliance. Times are UTC.</p>',
        u"<script>%s</script>" % _SCRIPT,
        u"</body></html>",
    ]
    return u"\n".join(parts) + u"\n"


def to_json(result):
    """The JSON report: the whole evaluation, keys sorted, indented (what to_nice_json wrote)."""
    _check_result(result)
    return json.dumps(result, indent=2, sort_keys=True, separators=(",", ": "), ensure_ascii=False) + "\n"


RENDERERS = {"json": to_json, "junit": to_junit, "html": to_html}


def render(result, formats, title="Veeam backup compliance"):
    """The asked reports of one evaluation, as text keyed by format."""
    reports = {}
    for name in formats:
        reports[name] = to_html(result, title=title) if name == "html" else RENDERERS[name](result)
    return reports
