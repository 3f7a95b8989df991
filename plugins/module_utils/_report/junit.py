# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The JUnit XML report: one test case per VM, backup server and job (CI reads it)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import xml.etree.ElementTree as ET

from ansible_collections.backupops.veeam_em.plugins.module_utils._report.common import (
    GENERIC_REMEDIATION, REMEDIATION, check_result, job_label, row_findings, server_label, vm_label, xml_text)

GLOBAL_SUITE = "veeam_em_compliance"
SERVER_SUITE = "backup servers"
JOB_SUITE = "jobs"


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
    rows = result["vms"]
    return _small_suites(result) + [(label, _vm_cases(rows, label, indexes)) for label, indexes, _f, _e in _vm_groups(rows)]


def _small_suites(result):
    """The global, servers and jobs suites (junit_cases)."""
    global_findings = [e for e in result.get("errors", []) if e.get("scope") == "global"]
    global_findings += [v for v in result.get("violations", []) if v.get("scope") == "global"]
    global_findings += [w for w in result.get("warnings", []) if w.get("scope") == "global"]
    suites = [(GLOBAL_SUITE, [(GLOBAL_SUITE, "Enterprise Manager was read in full", global_findings)])]
    suites.append((SERVER_SUITE, [
        (SERVER_SUITE, server_label(server.get("backup_server_name")), server.get("findings", []))
        for server in result.get("servers", [])]))
    if result.get("jobs"):
        suites.append((JOB_SUITE, [(JOB_SUITE, job_label(job), job.get("findings", [])) for job in result["jobs"]]))
    return suites


def _vm_groups(rows):
    """[(backup server label, positions of its rows, failures, errors)], the labels sorted ignoring case:
    one pass over the rows (em_rows.PackedRows: each a decompression), positions rather than rows kept."""
    groups = {}
    for index, row in enumerate(rows):
        group = groups.setdefault(server_label(row.get("backup_server_name")), [[], 0, 0])
        group[0].append(index)
        findings = row_findings(row)
        group[1] += any(f["severity"] == "violation" for f in findings)
        group[2] += any(f["severity"] == "error" for f in findings)
    return [(label,) + tuple(groups[label]) for label in sorted(groups, key=lambda s: s.lower())]


def _vm_cases(rows, label, indexes):
    cases = []
    for index in indexes:
        row = rows[index]
        cases.append((label, vm_label(row), row_findings(row)))
    return cases


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


def iter_junit(result):
    """The JUnit XML document of a compliance result in pieces: the declaration and the root's start
    tag (its totals counted first), one test suite at a time, the end tag.

    Issue 18: at 50,000 VMs the document was one ElementTree of 50,000 test cases, then one string;
    here one suite's elements are alive at a time. The text is the one ElementTree writes for the
    whole document (ET.indent of a suite at level 1 is what indenting the document does to it)."""
    check_result(result)
    timestamp = result.get("generated_at") or ""
    small, rows = _small_suites(result), result["vms"]
    groups = _vm_groups(rows)
    tests = sum(len(cases) for _name, cases in small) + sum(len(group[1]) for group in groups)
    failures = sum(_counts(cases)[0] for _name, cases in small) + sum(group[2] for group in groups)
    errors = sum(_counts(cases)[1] for _name, cases in small) + sum(group[3] for group in groups)
    root = ET.Element("testsuites", {"name": "Veeam EM backup compliance"})
    root.set("tests", str(tests))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    root.text = "-"
    start = ET.tostring(root, encoding="unicode")
    indented = hasattr(ET, "indent")  # Python 3.9+: one element per line, readable and diff-friendly
    yield u'<?xml version="1.0" encoding="UTF-8"?>\n' + start[:start.rindex(">-</testsuites>") + 1]
    suites = list(small) + [(group[0], None, group[1]) for group in groups]
    for suite in suites:
        cases = suite[1] if suite[1] is not None else _vm_cases(rows, suite[0], suite[2])
        yield (u"\n  " if indented else u"") + _suite_text(suite[0], cases, timestamp, result, indented)
        cases = None
    yield (u"\n" if indented else u"") + u"</testsuites>\n"


def _counts(cases):
    """(failures, errors) of a suite's cases, as _suite counts them."""
    return (sum(1 for _c, _n, findings in cases if any(f["severity"] == "violation" for f in findings)),
            sum(1 for _c, _n, findings in cases if any(f["severity"] == "error" for f in findings)))


def _suite_text(name, cases, timestamp, result, indented):
    holder = ET.Element("testsuites")
    _suite(holder, name, cases, timestamp)
    suite = holder[0]
    if name == GLOBAL_SUITE:
        _properties(suite, result)
    if indented:
        ET.indent(suite, level=1)
    return ET.tostring(suite, encoding="unicode")


def to_junit(result):
    """The JUnit XML document (str) of a compliance result (the pieces of iter_junit joined)."""
    return u"".join(iter_junit(result))
