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
    GENERIC_REMEDIATION, REMEDIATION, check_result, job_label, server_label, vm_label, xml_text)

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
    global_findings = [e for e in result.get("errors", []) if e.get("scope") == "global"]
    global_findings += [v for v in result.get("violations", []) if v.get("scope") == "global"]
    global_findings += [w for w in result.get("warnings", []) if w.get("scope") == "global"]
    suites = [(GLOBAL_SUITE, [(GLOBAL_SUITE, "Enterprise Manager was read in full", global_findings)])]
    suites.append((SERVER_SUITE, [
        (SERVER_SUITE, server_label(server.get("backup_server_name")), server.get("findings", []))
        for server in result.get("servers", [])]))
    if result.get("jobs"):
        suites.append((JOB_SUITE, [(JOB_SUITE, job_label(job), job.get("findings", [])) for job in result["jobs"]]))
    per_server = {}
    for row in result["vms"]:
        label = server_label(row.get("backup_server_name"))
        per_server.setdefault(label, []).append(
            (label, vm_label(row), row.get("findings", [])))
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
    check_result(result)
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
