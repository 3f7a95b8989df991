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
    return "\n".join("[%s] %s: %s" % (f["severity"], f["code"], f["message"]) for f in findings)


def _failure(case, findings):
    """``<error>`` for findings of severity error (EM not read, or only in part: the test could
    not run), ``<failure>`` for violations (it ran and failed), warnings as ``system-out``."""
    errors = [f for f in findings if f["severity"] == "error"]
    if errors:
        error = ET.SubElement(case, "error", {
            "message": xml_text("; ".join(sorted(set(f["code"] for f in errors)))),
            "type": xml_text(errors[0]["code"]),
        })
        error.text = xml_text(_findings_text(errors))
    violations = [f for f in findings if f["severity"] == "violation"]
    if violations:
        failure = ET.SubElement(case, "failure", {
            "message": xml_text("; ".join(sorted(set(f["code"] for f in violations)))),
            "type": xml_text(violations[0]["code"]),
        })
        failure.text = xml_text(_findings_text(violations))
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


def to_junit(result):
    """The JUnit XML document (str) of a compliance result."""
    _check_result(result)
    timestamp = result.get("generated_at") or ""
    root = ET.Element("testsuites", {"name": "Veeam EM backup compliance"})
    tests = failures = errors = 0
    for name, cases in junit_cases(result):
        suite_failures, suite_errors = _suite(root, name, cases, timestamp)
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

_CSS = u"""
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:1.5em;color:#1d1d1f;background:#fff}
h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.6em 0 .5em;border-bottom:1px solid #ddd}
.banner{padding:.7em 1em;border-radius:6px;font-weight:600;margin:.6em 0 1em}
.banner.violation{background:#fde2e1;color:#8a1c14}.banner.warning{background:#fff3cd;color:#6b4e00}
.banner.compliant{background:#dcf5e3;color:#145a2a}
.banner.error{background:#3b3b52;color:#fff}.banner small{display:block;font-weight:400;margin-top:.3em}
table{border-collapse:collapse;margin:.3em 0 1em;font-size:.9em;max-width:100%}
th,td{border:1px solid #d0d0d0;padding:.25em .5em;text-align:left;vertical-align:top}
td.text{overflow-wrap:anywhere;min-width:16em}
th{background:#f3f3f3}td.num{text-align:right}
.cards{display:flex;flex-wrap:wrap;gap:.6em}
.card{border:1px solid #d0d0d0;border-radius:6px;padding:.5em .9em;min-width:7em}
.card b{display:block;font-size:1.5em}
.status{font-weight:600}.status.error{color:#3b3b52}.status.violation{color:#b3261e}.status.warning{color:#8a6100}.status.compliant{color:#1e7b3a}
td.cell{width:2.2em;text-align:center;font-size:.8em;padding:.2em}
td.success{background:#bfe8c9}td.warning{background:#ffe08a}td.recovered{background:#cde3ff}
td.failed{background:#f4a29c}td.running{background:#e3d4ff}td.none{background:#fafafa;color:#999}
.legend span{display:inline-block;padding:.1em .5em;margin-right:.4em;border:1px solid #ccc}
.muted{color:#666;font-size:.85em}code{font-size:.9em}
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


def _table(headers, rows):
    head = u"".join(u"<th>%s</th>" % h(x) for x in headers)
    body = u"".join(u"<tr>%s</tr>" % u"".join(rows_cell for rows_cell in row) for row in rows)
    return u"<table><thead><tr>%s</tr></thead><tbody>%s</tbody></table>" % (head, body)


def _td(value, css=None):
    return u'<td class="%s">%s</td>' % (h(css), h(value)) if css else u"<td>%s</td>" % h(value)


def _status_td(status):
    return u'<td class="status %s">%s</td>' % (h(status), h(status))


def _finding_rows(items):
    rows = []
    for item in items:
        rows.append([
            _td(item.get("backup_server_name") or ("(all)" if item.get("scope") == "global" else "")),
            _td(item.get("vm_display_name") or ""),
            _td(item.get("code")), _td(item.get("kind") or ""),
            _td(item.get("message"), "text"), _td(item.get("job_name") or ""), _td(item.get("time") or ""),
        ])
    return rows


def _summary_cards(summary):
    """Tiles that say what they count: VMs by status, then servers, findings and sessions."""
    cards = [("VMs judged", summary.get("vms_total")), ("VMs compliant", summary.get("vms_compliant")),
             ("VMs with warnings", summary.get("vms_warning")), ("VMs in violation", summary.get("vms_violation")),
             ("VMs seen only before the window", summary.get("vms_from_history", 0)),
             ("backup servers", summary.get("servers_total")), ("silent servers", summary.get("servers_silent")),
             ("jobs", summary.get("jobs_total", 0)), ("jobs whose last run failed", summary.get("jobs_failed", 0)),
             ("violation findings", summary.get("violations_total")), ("warning findings", summary.get("warnings_total")),
             ("read errors", summary.get("errors_total", 0)),
             ("backup sessions", summary.get("backup_sessions")), ("copy sessions", summary.get("copy_sessions", 0)),
             ("replica sessions", summary.get("replica_sessions"))]
    return u'<div class="cards">%s</div>' % u"".join(
        u'<div class="card"><b>%s</b>%s</div>' % (h(value), h(label)) for label, value in cards)


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
                title = "%s %s: %s (%d sessions)" % (day, kind, CELL_TITLES.get(cell["cell"], cell["cell"]),
                                                     cell.get("sessions", 0))
                line.append(u'<td class="cell %s" title="%s">%s</td>' % (
                    h(cell["cell"]), h(title), h(CELL_SYMBOLS.get(cell["cell"], "?"))))
            rows.append(line)
    legend = u'<p class="legend">%s</p>' % u"".join(
        u'<span class="%s">%s %s</span>' % (h(k), h(CELL_SYMBOLS[k]), h(CELL_TITLES[k]))
        for k in ("success", "warning", "recovered", "failed", "running", "none"))
    return legend + _table(headers, rows)


def _vm_rows(result):
    rows = []
    for row in result["vms"]:
        backup = row.get("backup") or {}
        replica = row.get("replica") or {}
        rows.append([
            _status_td(row["status"]), _td(row.get("backup_server_name") or ""), _td(_vm_label(row)),
            _td(", ".join(row.get("reasons", []))),
            _td(backup.get("last_success_time") or ""), _td(backup.get("last_success_age_hours"), "num"),
            _td(replica.get("last_success_time") or ""), _td(", ".join(row.get("jobs", []))),
            _td("yes" if row.get("expected") else ""),
        ])
    return rows


def _server_rows(result):
    return [[_status_td(s["status"]), _td(s.get("backup_server_name") or ""), _td(s.get("sessions"), "num"),
             _td(s.get("last_session_time") or ""), _td(s.get("vms"), "num"), _td(s.get("vms_violation"), "num"),
             _td(s.get("vms_warning"), "num"), _td(", ".join(s.get("reasons", [])))]
            for s in result.get("servers", [])]


def _job_rows(result):
    rows = []
    for job in result.get("jobs", []):
        note = []
        if job.get("running"):
            note.append("running now")
        if job.get("recovered_by_retry"):
            note.append("recovered by a retry")
        elif job.get("last_is_retry"):
            note.append("last run was a retry")
        rows.append([
            _status_td(job["status"]), _td(job.get("backup_server_name") or ""), _td(job.get("job_name") or ""),
            _td(", ".join(job.get("reasons", []))),
            _td(job.get("job_type") or ""), _td(job.get("last_session_time") or ""),
            _td(job.get("last_result") or ""), _td(job.get("sessions"), "num"), _td(job.get("retries"), "num"),
            _td(job.get("failed_sessions"), "num"), _td(", ".join(note)),
        ])
    return rows


def _jobs_section(result):
    """Per-job status (from job sessions); absent from results made without job sessions."""
    if "jobs" not in result:
        return u""
    title = u"<h2>Jobs (%d)</h2>" % len(result["jobs"])
    if not result["jobs"]:
        return title + u"<p>No job sessions were read.</p>"
    return title + _table(["status", "backup server", "job", "reasons", "type", "last run", "last result", "runs",
                           "retries", "failed runs", "note"], _job_rows(result))


BANNER_WORDS = {
    "error": u"ERROR: Enterprise Manager could not be read in full - the verdicts below cover only what was read",
    "violation": u"VIOLATION: VMs, backup servers or jobs are out of policy",
    "warning": u"WARNING: every VM is protected, with warnings",
    "compliant": u"COMPLIANT: every VM judged is protected",
}


def _banner(result):
    """The status in its own colour and words, and counts that say what they count."""
    summary = result["summary"]
    status = result.get("status", "violation")
    jobs_violation = sum(1 for job in result.get("jobs", []) if job.get("status") == "violation")
    counts = u"%d error finding(s), %d violation finding(s) on %d VM(s), %d backup server(s) and %d job(s), " \
             u"%d warning finding(s); %d VM(s) judged" % (
                 summary.get("errors_total", 0), summary.get("violations_total", 0), summary.get("vms_violation", 0),
                 summary.get("servers_silent", 0), jobs_violation, summary.get("warnings_total", 0),
                 summary.get("vms_total", 0))
    errors = u"".join(u"<small>%s</small>" % h(item.get("message")) for item in result.get("errors", []))
    return u'<div class="banner %s">%s<small>%s</small>%s</div>' % (
        h(status), h(BANNER_WORDS.get(status, status.upper())), h(counts), errors)


def _errors_section(result):
    """Errors (EM not read, or only in part) first: they limit every verdict below them."""
    if not result.get("errors"):
        return u""
    return (u"<h2>Errors (%d)</h2>" % len(result["errors"])
            + _table(["backup server", "VM", "reason", "kind", "detail", "job", "time"],
                     _finding_rows(result["errors"])))


def to_html(result, title="Veeam backup compliance"):
    """A self-contained HTML page (inline CSS, no scripts, no external assets)."""
    _check_result(result)
    summary = result["summary"]
    window = result.get("window", {})
    policy = result.get("policy", {})
    finding_headers = ["backup server", "VM", "reason", "kind", "detail", "job", "time"]
    parts = [
        u"<!DOCTYPE html>",
        u'<html lang="en"><head><meta charset="utf-8">',
        u'<meta name="viewport" content="width=device-width, initial-scale=1">',
        u"<title>%s</title><style>%s</style></head><body>" % (h(title), _CSS),
        u"<h1>%s</h1>" % h(title),
        u'<p class="muted">Evaluated at %s over %s \u2192 %s (%s days). Backup RPO %sh, replica RPO %s, '
        u"warnings %s, max duration %s min, stuck after %sh.</p>" % (
            h(result.get("generated_at")), h(window.get("start")), h(window.get("end")),
            h(window.get("lookback_days")), h(policy.get("backup_rpo_hours")),
            h(("%sh" % policy.get("replica_rpo_hours")) if policy.get("replica_rpo_hours") else "off"),
            h("accepted" if policy.get("accept_warnings") else "not accepted"),
            h(policy.get("max_duration_minutes")), h(policy.get("stuck_hours"))),
        _banner(result),
        _summary_cards(summary),
        _errors_section(result),
        u"<h2>Violations (%d)</h2>" % len(result.get("violations", [])),
        _table(finding_headers, _finding_rows(result.get("violations", [])))
        if result.get("violations") else u"<p>None.</p>",
        u"<h2>Warnings (%d)</h2>" % len(result.get("warnings", [])),
        _table(finding_headers, _finding_rows(result.get("warnings", [])))
        if result.get("warnings") else u"<p>None.</p>",
        u"<h2>Results per VM and day (UTC)</h2>",
        _grid(result),
        u"<h2>VMs</h2>",
        _table(["status", "backup server", "VM", "reasons", "last backup point", "age (h)",
                "last replica point", "jobs", "expected"], _vm_rows(result)),
        u"<h2>Backup servers</h2>",
        _table(["status", "backup server", "sessions", "last session", "VMs", "violations", "warnings",
                "reasons"], _server_rows(result)),
        _jobs_section(result),
        u'<p class="muted">Generated by backupops.veeam_em.veeam_em_compliance.</p>',
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
