"""Unit tests of the JUnit and HTML report filters (plugins/filter/veeam_em_compliance_report.py)."""
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate
from ansible_collections.backupops.veeam_em.plugins.filter.veeam_em_compliance_report import FilterModule
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance_report import (
    ReportInputError, to_html, to_junit, xml_text)

NOW = "2025-06-05T06:00:00Z"
HOSTILE = u'evil"<script>alert(1)</script>&\'vm \u00e9\u00e8\u4e2d\x01'


@pytest.fixture
def mixed_result(session):
    sessions = [
        session(vm="ok01", server="vbr01", created="2025-06-05T01:00:00Z"),
        session(vm="warn01", server="vbr01", created="2025-06-05T01:00:00Z", result="Warning"),
        session(vm=HOSTILE, server="vbr01", created="2025-06-05T01:00:00Z", result="Failed",
                reason="Error: <b>quota</b> & \"full\""),
        session(vm="old01", server='vbr<02>&"', created="2025-06-02T01:00:00Z"),
    ]
    return evaluate(sessions, now=NOW, expected_vms=["ghost01"], known_backup_servers=["vbr03"])


def junit_counts(document):
    root = ET.fromstring(document.encode("utf-8"))
    cases = root.findall(".//testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    return root, cases, failed


def test_filter_module_exposes_the_documented_names():
    assert set(FilterModule().filters()) == {"veeam_em_compliance_junit", "veeam_em_compliance_html"}


def test_reports_reject_other_input():
    with pytest.raises(ReportInputError):
        to_junit({"foo": 1})
    with pytest.raises(ReportInputError):
        to_html([])


def test_junit_parses_and_counts_match_the_summary(mixed_result):
    summary = mixed_result["summary"]
    root, cases, failed = junit_counts(to_junit(mixed_result))
    expected_tests = summary["vms_total"] + summary["servers_total"] + 1
    expected_failures = summary["vms_violation"] + summary["servers_silent"] + int(summary["no_data"])
    assert len(cases) == expected_tests == int(root.get("tests"))
    assert len(failed) == expected_failures == int(root.get("failures"))
    assert sum(int(s.get("tests")) for s in root.findall("testsuite")) == expected_tests
    assert sum(int(s.get("failures")) for s in root.findall("testsuite")) == expected_failures


def test_junit_has_one_case_per_vm_in_a_suite_per_server(mixed_result):
    root, cases, _failed = junit_counts(to_junit(mixed_result))
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"veeam_em_compliance", "backup servers", "vbr01", 'vbr<02>&"',
                           "(unknown backup server)"}
    vbr01 = sorted(c.get("name") for c in suites["vbr01"].findall("testcase"))
    assert vbr01 == sorted(["ok01", "warn01", xml_text(HOSTILE)])
    ghost = suites["(unknown backup server)"].find("testcase")
    assert ghost.get("name") == "ghost01"
    assert ghost.find("failure").get("type") == "never_backed_up"
    silent = [c for c in suites["backup servers"].findall("testcase") if c.find("failure") is not None]
    assert sorted(c.get("name") for c in silent) == ['vbr03', 'vbr<02>&"']


def test_junit_escapes_hostile_names_and_replaces_control_characters(mixed_result):
    document = to_junit(mixed_result)
    assert "<script>" not in document
    assert "\x01" not in document
    root, cases, _failed = junit_counts(document)
    hostile = [c for c in cases if c.get("name", "").startswith("evil")][0]
    assert hostile.get("name") == HOSTILE.replace("\x01", u"\ufffd")
    failure = hostile.find("failure")
    assert "last_backup_failed" in failure.get("message")
    assert 'Error: <b>quota</b> & "full"' in failure.text


def test_junit_warnings_go_to_system_out_and_pass(mixed_result):
    _root, cases, _failed = junit_counts(to_junit(mixed_result))
    warn = [c for c in cases if c.get("name") == "warn01"][0]
    assert warn.find("failure") is None
    assert "last_backup_warning" in warn.find("system-out").text


def test_junit_of_no_data_fails_the_global_case():
    result = evaluate([], now=NOW)
    root, cases, failed = junit_counts(to_junit(result))
    assert len(cases) == 1 and len(failed) == 1
    assert failed[0].find("failure").get("type") == "no_data"


def test_junit_of_a_compliant_run_has_no_failures(session):
    result = evaluate([session(created="2025-06-05T01:00:00Z")], now=NOW)
    root, cases, failed = junit_counts(to_junit(result))
    assert (len(cases), len(failed), root.get("failures")) == (3, 0, "0")


class _Collector(HTMLParser):
    """Collects tags and text; a stray <script> or broken markup shows up here."""

    def __init__(self):
        HTMLParser.__init__(self)
        self.tags = []
        self.text = []
        self.links = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("href", "src"):
                self.links.append(value)

    def handle_data(self, data):
        self.text.append(data)


def parse_html(document):
    collector = _Collector()
    collector.feed(document)
    collector.close()
    return collector


def test_html_escapes_hostile_names(mixed_result):
    document = to_html(mixed_result)
    page = parse_html(document)
    # issue 17: the page has one inline script of its own (sorting, filtering); a VM name must not add one
    assert page.tags.count("script") == 1
    assert "<script>alert" not in document and "<b>quota" not in document
    text = "".join(page.text)
    assert HOSTILE.replace("\x01", u"\ufffd") in text  # shown to the reader as text
    assert "\x01" not in document
    assert 'vbr<02>&"' in text
    assert "&lt;script&gt;" in document and "&quot;" in document


def test_html_is_self_contained(mixed_result):
    document = to_html(mixed_result)
    page = parse_html(document)
    # issue 17: in-page anchors (#section) and one inline script are allowed; nothing is loaded
    assert page.links and all(link.startswith("#") for link in page.links)
    assert "style" in page.tags and page.tags.count("script") == 1 and "link" not in page.tags
    assert "<script src" not in document
    assert not re.search(r"https?://", document)
    assert '<meta charset="utf-8">' in document


def test_html_lists_violations_first_and_has_the_grid(mixed_result):
    document = to_html(mixed_result)
    assert document.index("Violations (") < document.index("Warnings (") < document.index("Results per VM and day")
    violations_part = document[document.index("Violations ("):document.index("Warnings (")]
    for code in ("last_backup_failed", "never_backed_up", "server_silent", "rpo_exceeded"):
        assert code in violations_part
    assert "recovered" in document and 'class="cell success"' in document
    days = mixed_result["window"]["days"]
    assert document.count('class="cell ') == len(days) * len(mixed_result["vms"])
    assert "VIOLATION" in document


def test_html_title_is_escaped(session):
    result = evaluate([session(created="2025-06-05T01:00:00Z")], now=NOW)
    document = to_html(result, title="<Nightly & co>")
    assert "<title>&lt;Nightly &amp; co&gt;</title>" in document
    assert "COMPLIANT" in document


def test_result_is_json_serialisable(mixed_result):
    assert json.loads(json.dumps(mixed_result)) == mixed_result


def test_report_filters_raise_ansible_filter_errors():
    from ansible.errors import AnsibleFilterError

    filters = FilterModule().filters()
    with pytest.raises(AnsibleFilterError, match="veeam_em_compliance filter"):
        filters["veeam_em_compliance_junit"]({"foo": 1})
    with pytest.raises(AnsibleFilterError):
        filters["veeam_em_compliance_html"]([], title="x")


def test_the_junit_filter_names_the_compact_rows(session):
    """Found by attack (session 15): the role rendered the compact rows (no findings) when the module could not
    write its reports, and the JUnit showed every VM passing; the filter refuses such a row, naming the VM."""
    from ansible.errors import AnsibleFilterError
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import compact
    slim = compact(evaluate([session(vm="vm01", result="Failed")], now=NOW))
    with pytest.raises(AnsibleFilterError, match="vm01.*carries no findings"):
        FilterModule().filters()["veeam_em_compliance_junit"](slim)
