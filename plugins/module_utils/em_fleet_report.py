# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The fleet's reports (JSON, JUnit, HTML) from the merged result of em_fleet.merge (issue 19).

Per-EM reports are the compliance module's own (em_compliance_report); these are the fleet view:
the fleet summary first, then one section (HTML) or suite (JUnit) per Enterprise Manager.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import xml.etree.ElementTree as ET

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance_report import (
    h, show_time, xml_text)
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html_base import status_td
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import FleetInputError
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_fleet import NO_EMS


def to_json(result):
    return json.dumps(result, indent=2, sort_keys=True, separators=(",", ": "), ensure_ascii=False) + "\n"


def _em_label(entry):
    server = entry["source"].get("em_server")
    return "%s (%s)" % (entry["em"], server) if server and server != entry["em"] else entry["em"]


def _case(suite, classname, name, status, lines):
    case = ET.SubElement(suite, "testcase", {"classname": xml_text(classname), "name": xml_text(name), "time": "0"})
    text = xml_text("\n".join(lines))
    if status == "error":
        ET.SubElement(case, "error", {"message": "not read in full", "type": "error"}).text = text
    elif status == "violation":
        ET.SubElement(case, "failure", {"message": "violation", "type": "violation"}).text = text
    elif status == "warning" and lines:
        ET.SubElement(case, "system-out").text = text


def _suite(root, name, timestamp):
    return ET.SubElement(root, "testsuite", {"name": xml_text(name), "timestamp": xml_text(timestamp),
                                             "skipped": "0"})


def _close_suite(suite):
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))


def _em_lines(entry):
    lines = list(entry["first_errors"])
    if entry["errors_omitted"]:
        lines.append("... and %d more errors (see the EM's own report)" % entry["errors_omitted"])
    lines += entry["first_violations"]
    if entry["violations_omitted"]:
        lines.append("... and %d more violations (see the EM's own report)" % entry["violations_omitted"])
    return lines


def to_junit(result):
    """Suite ``fleet`` first (one case per EM: its verdict), then one suite per EM with VM rows.

    VM cases are named ``<backup server> / <VM>`` in the EM's own suite, so the same VM name on two
    EMs is two cases."""
    root = ET.Element("testsuites", {"name": "Veeam EM backup compliance (fleet)"})
    timestamp = result.get("generated_at") or ""
    fleet = _suite(root, "fleet", timestamp)
    properties = ET.SubElement(fleet, "properties")
    for name in ("status", "generated_at"):
        ET.SubElement(properties, "property", {"name": name, "value": xml_text(result.get(name))})
    ET.SubElement(properties, "property", {"name": "ems_total", "value": str(result["summary"]["ems_total"])})
    if not result["ems"]:
        _case(fleet, "fleet", "the fleet has Enterprise Managers", "error", [NO_EMS])
    for entry in result["ems"]:
        _case(fleet, "fleet", _em_label(entry), entry["status"], _em_lines(entry))
    _close_suite(fleet)
    for entry in result["ems"]:
        if entry.get("vms") is None:
            continue
        suite = _suite(root, entry["em"], entry.get("generated_at") or timestamp)
        if entry["status"] == "error":
            # An EM not read in full says so in its own suite too (else: tests="0" errors="0", an empty green suite).
            _case(suite, entry["em"], "%s: Enterprise Manager read" % entry["em"], "error",
                  _em_lines(entry) or ["status error"])
        for row in entry["vms"]:
            _case(suite, "%s.%s" % (entry["em"], row.get("backup_server_name") or "(unknown backup server)"),
                  "%s / %s" % (row.get("backup_server_name") or "(unknown backup server)",
                               row.get("vm_display_name") or row.get("vm_uid") or "(unnamed VM)"),
                  row.get("status"), ["reasons: %s" % ", ".join(row.get("reasons") or [])])
        _close_suite(suite)
    suites = root.findall("testsuite")
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(s.get(key)) for s in suites)))
    if hasattr(ET, "indent"):
        ET.indent(root)
    return u'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + u"\n"


_CSS = u"""
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:1em auto;padding:0 1em;max-width:1600px;color:#1d1d1f}
h1{font-size:1.5em}h2{font-size:1.15em;margin:1.4em 0 .5em;border-bottom:1px solid #ddd}
.banner{padding:.7em 1em;border-radius:6px;font-weight:600;margin:.6em 0 1em}
.banner.violation{background:#fde2e1;color:#8a1c14}.banner.warning{background:#fff3cd;color:#6b4e00}
.banner.compliant{background:#dcf5e3;color:#145a2a}.banner.error{background:#3b3b52;color:#fff}
.banner small{display:block;font-weight:400;margin-top:.3em}
.scroll{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:.3em 0 1em;font-size:.88em}
th,td{border:1px solid #d0d0d0;padding:.25em .45em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right}
.status{font-weight:600}.status.error{color:#3b3b52}.status.violation{color:#b3261e}.status.warning{color:#8a6100}.status.compliant{color:#1e7b3a}
ul.findings{font-size:.9em}.muted{color:#666;font-size:.85em}
@media print{@page{size:A4;margin:12mm}body{font-size:8.5pt;max-width:none}.scroll{overflow:visible}tr{break-inside:avoid}}
"""

FLEET_BANNER = {
    "error": u"ERROR: at least one Enterprise Manager could not be read in full - the fleet has no full verdict",
    "violation": u"VIOLATION: VMs, backup servers or jobs are out of policy on at least one Enterprise Manager",
    "warning": u"WARNING: every VM judged is protected, with warnings",
    "compliant": u"COMPLIANT: every VM judged on every Enterprise Manager is protected",
}


def _anchor(index):
    return "em-%d" % index


def _link(path, report_dir):
    if not path:
        return u""
    href = os.path.relpath(path, report_dir) if report_dir and os.path.isabs(str(path)) else path
    return u'<a href="%s">%s</a>' % (h(href), h(os.path.basename(str(path))))


def _counts_line(summary):
    return (u"%d of %d VMs in violation, %d with warnings; %d of %d backup servers silent; %d of %d jobs failed; "
            u"%d read errors" % (summary["vms_violation"], summary["vms_total"], summary["vms_warning"],
                                 summary["servers_silent"], summary["servers_total"], summary["jobs_failed"],
                                 summary["jobs_total"], summary["errors_total"]))


def _em_table(result, report_dir):
    head = [u"status", u"Enterprise Manager", u"server", u"VMs", u"in violation", u"with warnings",
            u"silent servers", u"failed jobs", u"read errors", u"generated (UTC)", u"report"]
    rows = []
    for index, entry in enumerate(result["ems"]):
        s = entry["summary"]
        rows.append(u"<tr>%s<td><a href=\"#%s\">%s</a></td><td>%s</td>%s<td>%s</td><td>%s</td></tr>" % (
            status_td(entry["status"]), _anchor(index), h(entry["em"]), h(entry["source"].get("em_server") or ""),
            u"".join(u'<td class="num">%d</td>' % s[k] for k in
                     ("vms_total", "vms_violation", "vms_warning", "servers_silent", "jobs_failed", "errors_total")),
            h(show_time(entry.get("generated_at"))), _link(entry["reports"].get("html"), report_dir)))
    return u'<div class="scroll"><table><thead><tr>%s</tr></thead><tbody>%s</tbody></table></div>' % (
        u"".join(u"<th>%s</th>" % h(x) for x in head), u"".join(rows))


def _list(items, more, what):
    if not items:
        return u""
    tail = u"<li class=\"muted\">and %d more %s (see the EM's own report)</li>" % (more, h(what)) if more else u""
    return u'<ul class="findings">%s%s</ul>' % (u"".join(u"<li>%s</li>" % h(x) for x in items), tail)


def _vm_table(entry):
    rows = [row for row in entry.get("vms") or [] if row.get("status") != "compliant"]
    if entry.get("vms") is None:
        return u""
    if not rows:
        return u"<p>No VM out of policy (%d VMs).</p>" % len(entry["vms"])
    body = u"".join(u"<tr>%s<td>%s</td><td>%s</td><td>%s</td></tr>" % (
        status_td(row.get("status")), h(row.get("backup_server_name") or ""),
        h(row.get("vm_display_name") or row.get("vm_uid") or ""), h(", ".join(row.get("reasons") or [])))
        for row in rows)
    return (u"<p>VMs not compliant: %d of %d</p>" % (len(rows), len(entry["vms"])) +
            u'<div class="scroll"><table><thead><tr><th>status</th><th>backup server</th><th>VM</th><th>reasons</th>'
            u"</tr></thead><tbody>%s</tbody></table></div>" % body)


def _em_section(index, entry, report_dir):
    window = entry["window"]
    source = entry["source"]
    meta = u"%s; account %s; window %s \u2192 %s (UTC); generated %s UTC; reports: %s" % (
        h(source.get("em_server") or "(no address given)"), h(source.get("username") or "(not given)"),
        h(show_time(window.get("start"))), h(show_time(window.get("end"))), h(show_time(entry.get("generated_at"))),
        u", ".join(_link(path, report_dir) for _fmt, path in sorted(entry["reports"].items())) or u"none")
    return u"".join([
        u'<a id="%s"></a><h2>%s: <span class="status %s">%s</span></h2>' % (
            _anchor(index), h(entry["em"]), h(entry["status"]), h(entry["status"])),
        u'<p class="muted">%s</p>' % meta,
        u"<p>%s</p>" % h(_counts_line(entry["summary"])),
        _list(entry["first_errors"], entry["errors_omitted"], "errors"),
        _list(entry["first_violations"], entry["violations_omitted"], "violations"),
        _vm_table(entry),
    ])


def to_html(result, title="Veeam backup compliance - fleet", report_dir=None):
    """A self-contained page: the fleet banner and one row per EM first, then a section per EM."""
    summary = result["summary"]
    status = result["status"]
    ems_line = u"%d Enterprise Managers: %d error, %d violation, %d warning, %d compliant" % (
        summary["ems_total"], summary["ems_error"], summary["ems_violation"], summary["ems_warning"],
        summary["ems_compliant"])
    errors = u"".join(u"<small>%s: %s</small>" % (h(err["em"] or "(fleet)"), h(err["message"]))
                      for err in result["errors"])
    errors += u"".join(u"<small>warning: %s</small>" % h(warning["message"]) for warning in result.get("warnings", []))
    parts = [
        u"<!DOCTYPE html>", u'<html lang="en"><head><meta charset="utf-8">',
        u'<meta name="viewport" content="width=device-width, initial-scale=1">',
        u"<title>%s</title><style>%s</style></head><body>" % (h(title), _CSS),
        u"<h1>%s</h1>" % h(title),
        u'<p class="muted">Generated %s UTC</p>' % h(show_time(result.get("generated_at"))),
        u'<a id="status"></a><div class="banner %s">%s<small>%s</small><small>%s</small>%s</div>' % (
            h(status), h(FLEET_BANNER.get(status, status.upper())), h(ems_line), h(_counts_line(summary)), errors),
        u'<a id="ems"></a><h2>Enterprise Managers (%d)</h2>' % summary["ems_total"],
        _em_table(result, report_dir),
    ]
    parts += [_em_section(index, entry, report_dir) for index, entry in enumerate(result["ems"])]
    parts += [u'<p class="muted">Generated by backupops.veeam_em.veeam_em_compliance_merge. Times are UTC. '
              u"VMs are counted per Enterprise Manager: the same name on two EMs is two VMs.</p>",
              u"</body></html>"]
    return u"\n".join(parts) + u"\n"


def render(result, formats, title="Veeam backup compliance - fleet", report_dir=None):
    reports = {}
    for name in formats:
        if name == "json":
            reports[name] = to_json(result)
        elif name == "junit":
            reports[name] = to_junit(result)
        elif name == "html":
            reports[name] = to_html(result, title=title, report_dir=report_dir)
        else:
            raise FleetInputError("report_formats: unknown format %r (json, junit, html)" % (name,))
    return reports
