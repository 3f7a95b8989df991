"""Reports that could not be written, or were rendered from rows without their findings (found by attack, session 15).

* The JUnit report judges VM by VM from each row's findings: the compact rows (detail=compact) carry none, and the
  role rendered them when the module could not write its reports - every VM a passing test case while the JSON
  counted violations. A row without findings is refused now, never read as passing.
* A lone UTF-16 surrogate in a name EM sends as JSON ("\\ud800", half of a pair a .NET serializer cut) stopped
  the module with a traceback while it wrote the JSON report: no verdict, no report_error, yesterday's files the
  latest. em_decode reads it as U+FFFD; a writer that still meets one says so as a report error.
"""
import json
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_report as report
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_decode
from ansible_collections.backupops.veeam_em.plugins.module_utils._report import files
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import compact, evaluate
from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_compliance_info as module
from unit.plugins.module_utils.compliance.conftest import build_session
from unit.plugins.module_utils.em_fake import FakeEM, paged_handler, synthetic_task_session
from unit.plugins.modules.module_runner import CONNECTION, install_fake, run_module

NOW = "2025-06-05T06:00:00Z"


def _options(directory):
    return dict(report_dir=str(directory), report_formats=["json", "junit", "html"], report_basename="compliance",
                report_history=30, report_trend_days=30, report_html_max_rows=2000, report_mode=0o644,
                report_title="t")


def test_the_junit_of_compact_rows_is_refused_not_green():
    result = evaluate([build_session(vm="vm01", result="Failed", reason="disk full"), build_session(vm="vm02")],
                      now=NOW)
    junit = ET.fromstring(report.to_junit(result).encode("utf-8"))
    assert junit.get("failures") == "1" and len(junit.findall(".//failure")) == 1
    slim = compact(result)
    assert slim["summary"]["vms_violation"] == 1 and "findings" not in slim["vms"][0]
    with pytest.raises(report.ReportInputError, match="carries no findings"):
        report.to_junit(slim)


@pytest.mark.parametrize("body, name", [
    (b'{"VmDisplayName": "evil\\ud800"}', u"evil\ufffd"),              # a lone high surrogate
    (b'{"VmDisplayName": "x\\uDC00y"}', u"x\ufffdy"),                 # a lone low one, upper-case hex
    (b'{"VmDisplayName": "\\ud83d\\ude00"}', u"\U0001f600"),           # a pair: one character, kept
    (b'{"VmDisplayName": "a\\\\ud800"}', u"a\\ud800"),                 # an escaped backslash: plain text
])
def test_lone_surrogates_from_em_are_read_as_the_replacement_character(body, name):
    assert em_decode.decode(body).data["VmDisplayName"] == name
    json.dumps(name, ensure_ascii=False).encode("utf-8")   # a UTF-8 writer takes it


def test_a_lone_surrogate_in_keys_and_lists_is_replaced_too():
    data = em_decode.decode(b'{"Refs": ["ok", "bad\\ud801"], "Bad\\udfffKey": 1}').data
    assert data["Refs"] == ["ok", u"bad\ufffd"]
    assert u"Bad\ufffdKey" in data


def test_a_text_no_utf8_writer_takes_is_a_report_error_not_a_traceback(tmp_path):
    """The backstop: an evaluation a caller built (not through em_decode) that holds a lone surrogate."""
    yesterday = evaluate([build_session(vm="vm01", created="2025-06-04T01:00:00Z")], now="2025-06-04T06:00:00Z")
    files.write_reports(yesterday, _options(tmp_path))
    tonight = evaluate([build_session(vm="vm01", created="2025-06-05T01:00:00Z"),
                        build_session(vm=u"evil\ud800", created="2025-06-05T01:00:00Z", result="Failed")],
                       now="2025-06-05T06:00:00Z")
    with pytest.raises(files.ReportWriteError, match="could not be written"):
        files.write_reports(tonight, _options(tmp_path))


def _served(items):
    served = {"BackupTaskSession": (items, "BackupTaskSessions", "BackupTaskSession"),
              "ReplicaTaskSession": ([], "ReplicaTaskSessions", "ReplicaTaskSession"),
              "BackupServer": ([], "BackupServers", "BackupServer"),
              "BackupJobSession": ([], "BackupJobSessions", "BackupJobSession"),
              "ReplicaJobSession": ([], "ReplicaJobSessions", "ReplicaJobSession"),
              "Job": ([{"Name": "j", "UID": "urn:veeam:Job:0b5b5d2e-1b1e-4a36-9d0e-5f0b7c1d2a01", "Links": []}],
                      "Jobs", "Job")}

    def handler(call):
        if call.path != "/api/query":
            return None
        rows, list_tag, item_tag = served[call.query["type"]]
        return paged_handler(rows, "json", list_tag, item_tag)(call)
    return handler


def test_the_module_judges_and_writes_its_reports_with_a_lone_surrogate_from_em(monkeypatch, capsys, tmp_path):
    items = [synthetic_task_session(number) for number in range(6)]
    items[2]["VmDisplayName"] = u"evil\ud800"   # the fake EM's json.dumps sends the escape "\ud800"
    install_fake(monkeypatch, FakeEM("json", _served(items)))
    args = dict(CONNECTION, now="2025-06-29T06:00:00Z", report_dir=str(tmp_path),
                report_formats=["json", "junit", "html"], history_cache=False)
    result = run_module(module, args, capsys)
    assert not result.get("failed"), result.get("msg")
    with open(str(tmp_path / "compliance.json"), encoding="utf-8") as handle:
        names = [row["vm_display_name"] for row in json.load(handle)["vms"]]
    assert u"evil\ufffd" in names and len(names) == 6
