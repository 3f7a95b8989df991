"""Reports written by the module (issue 17/18): names, dated copies, history, states, atomic writes."""
import json
import re
import os
import stat

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_report as report
from ansible_collections.backupops.veeam_em.plugins.module_utils._report import files
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate
from unit.plugins.module_utils.compliance.conftest import build_session


def night(day, failing=(), vms=("vm01", "vm02", "vm03")):
    """The evaluation of one night: every VM backed up at 01:00, those in ``failing`` failed."""
    now = "2025-06-%02dT06:00:00Z" % day
    sessions = [build_session(vm=vm, vm_uid="urn:VMware:Vm:x.%s" % vm, created="2025-06-%02dT01:00:00Z" % day,
                              result="Failed" if vm in failing else "Success",
                              reason="disk full" if vm in failing else "")
                for vm in vms]
    return evaluate(sessions, now=now, lookback_days=1)


def options(directory, **extra):
    values = dict(report_dir=str(directory), report_formats=["json", "junit", "html"], report_basename="compliance",
                  report_history=30, report_trend_days=30, report_html_max_rows=2000, report_mode=0o644,
                  report_title="Veeam backup compliance")
    values.update(extra)
    return values


def test_latest_dated_copies_and_state_are_written_with_the_mode(tmp_path):
    written = files.write_reports(night(5, failing=["vm02"]), options(tmp_path / "new" / "dir"))
    directory = tmp_path / "new" / "dir"
    assert sorted(os.listdir(directory)) == sorted([
        "compliance.json", "compliance.xml", "compliance.html", "compliance.state.json", "compliance.trend.json",
        "compliance-20250605T060000Z.json", "compliance-20250605T060000Z.xml", "compliance-20250605T060000Z.html",
        "compliance-20250605T060000Z.state.json", "compliance-20250605T060000Z.trend.json"])
    assert written["files"]["html"] == str(directory / "compliance.html")
    assert written["dated"]["json"] == str(directory / "compliance-20250605T060000Z.json")
    for name in os.listdir(directory):
        assert stat.S_IMODE(os.stat(directory / name).st_mode) == 0o644, name
    assert json.loads((directory / "compliance.json").read_text())["summary"]["vms_violation"] == 1
    assert written["changes"] == {"first_report": True, "previous_generated_at": None, "new": 0, "recurring": 0,
                                  "resolved": 0}


def test_dated_copy_survives_the_next_run_replacing_the_latest(tmp_path):
    files.write_reports(night(5, failing=["vm02"]), options(tmp_path))
    files.write_reports(night(6), options(tmp_path))
    first = json.loads((tmp_path / "compliance-20250605T060000Z.json").read_text())
    latest = json.loads((tmp_path / "compliance.json").read_text())
    assert first["summary"]["vms_violation"] == 1
    assert latest["summary"]["vms_violation"] == 0


def test_history_keeps_the_newest_runs_of_every_format(tmp_path):
    for day in (1, 2, 3, 4):
        written = files.write_reports(night(day), options(tmp_path, report_history=2))
    stamps = sorted(set(name.split("-")[1].split(".")[0] for name in os.listdir(tmp_path) if "-" in name))
    assert stamps == ["20250603T060000Z", "20250604T060000Z"]
    assert sorted(os.path.basename(path) for path in written["removed"]) == [
        "compliance-20250602T060000Z.html", "compliance-20250602T060000Z.json",
        "compliance-20250602T060000Z.state.json", "compliance-20250602T060000Z.trend.json",
        "compliance-20250602T060000Z.xml"]


def test_history_zero_writes_no_dated_copy_and_deletes_none(tmp_path):
    (tmp_path / "compliance-20200101T000000Z.json").write_text("{}")
    files.write_reports(night(5), options(tmp_path, report_history=0))
    assert sorted(os.listdir(tmp_path)) == ["compliance-20200101T000000Z.json", "compliance.html",
                                            "compliance.json", "compliance.state.json", "compliance.trend.json",
                                            "compliance.xml"]


def test_only_the_asked_formats_are_written(tmp_path):
    written = files.write_reports(night(5), options(tmp_path, report_formats=["junit"], report_history=0))
    assert sorted(written["files"]) == ["junit", "state", "trend"]
    assert sorted(os.listdir(tmp_path)) == ["compliance.state.json", "compliance.trend.json", "compliance.xml"]


def test_a_failed_write_leaves_the_previous_latest_and_no_temporary_file(tmp_path, monkeypatch):
    files.write_reports(night(5, failing=["vm02"]), options(tmp_path, report_history=0))
    before = (tmp_path / "compliance.json").read_text()

    def broken(result, scrub=None):
        yield "{"
        raise IOError(28, "No space left on device")

    monkeypatch.setattr(files, "iter_json", broken)
    with pytest.raises(files.ReportWriteError, match=r"report_dir=.*: the reports could not be written: .*No space"):
        files.write_reports(night(6), options(tmp_path, report_history=0))
    assert (tmp_path / "compliance.json").read_text() == before
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".")]


def test_an_unwritable_directory_is_an_error_naming_report_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(files.ReportWriteError, match="report_dir=%s: the reports could not be written" % (blocker / "sub")):
        files.write_reports(night(5), options(blocker / "sub"))


def test_streamed_json_is_the_same_document_as_to_json_and_scrubbed(tmp_path):
    result = night(5, failing=["vm02"])
    result["vms"][0]["findings"][0]["message"] = "logon as admin with password S3cretPw failed"
    streamed = "".join(report.iter_json(result, scrub=lambda text: text.replace("S3cretPw", "********")))
    assert streamed == report.to_json(result).replace("S3cretPw", "********")
    assert "S3cretPw" not in streamed


def test_stamp_of_generated_at():
    assert files.stamp_of("2026-11-29T02:00:00.5Z") == "20261129T020000Z"
    assert files.stamp_of("garbage") is None


@pytest.mark.parametrize("name, value, message", [
    ("report_basename", "../x", "report_basename='../x': must be a plain file name"),
    ("report_basename", "", "report_basename='': must be a plain file name"),
    ("report_history", -1, "report_history=-1: must be 0 or more"),
    ("report_trend_days", -2, "report_trend_days=-2: must be 0 or more"),
    ("report_html_max_rows", 0, "report_html_max_rows=0: must be 1 or more"),
    ("report_mode", "rw-r--r--", "report_mode='rw-r--r--': must be an octal file mode"),
])
def test_bad_report_options_are_named(name, value, message):
    params = dict((key, spec.get("default")) for key, spec in report.argument_spec().items())
    params[name] = value
    with pytest.raises(report.ReportInputError) as raised:
        report.check_options(params)
    assert str(raised.value).startswith(message)


def test_write_for_module_without_report_dir_writes_nothing(tmp_path):
    params = dict((key, spec.get("default")) for key, spec in report.argument_spec().items())
    params["report_formats"] = ["json"]
    assert report.write_for_module(params, night(5), lambda text: text) == {}
    params["report_dir"] = str(tmp_path)
    written = report.write_for_module(params, night(5), lambda text: text)
    assert written["files"]["json"] == str(tmp_path / "compliance.json")
    assert stat.S_IMODE(os.stat(tmp_path / "compliance.json").st_mode) == 0o644


def test_json_report_is_the_evaluation_with_one_row_per_line(tmp_path):
    result = night(5, failing=["vm02"])
    text = report.to_json(result)
    assert json.loads(text) == json.loads(json.dumps(result))
    vm_lines = [line for line in text.splitlines() if line.startswith('    {"backup"')]
    assert len(vm_lines) == len(result["vms"]) == 3
    assert text.startswith('{\n  "compliant": false,\n  "errors": [],\n')


def test_json_blocks_never_cut_a_row(monkeypatch):
    """Blocks are scrubbed one by one: a secret inside a row must be whole in one block."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils._report import json_report

    monkeypatch.setattr(json_report, "BLOCK_CHARS", 10)
    result = night(5, failing=["vm02"])
    result["vms"][0]["findings"][0]["message"] = "password S3cretPw echoed"
    blocks = list(json_report.iter_json(result))
    assert len(blocks) > 10
    assert sum("S3cretPw" in block for block in blocks) == "".join(blocks).count("S3cretPw") == 1


def test_a_large_fleet_page_lists_what_is_wrong_and_links_to_the_json_for_the_rest(tmp_path):
    """Issue 18: above report_html_max_rows VM rows the page keeps the VMs not compliant and says how many
    rows are in the JSON report only, with a link to the JSON of the same run."""
    vms = ["vm%02d" % number for number in range(30)]
    files.write_reports(night(5, failing=["vm03", "vm17", "vm29"], vms=vms), options(tmp_path, report_html_max_rows=10))
    page = (tmp_path / "compliance.html").read_text()
    vm_table = page.split('<a id="vms"></a>', 1)[1].split('<a id="servers"></a>', 1)[0]
    assert ('<p class="omitted">3 of 30 rows are shown; the other 27 are in '
            '<a href="compliance-20250605T060000Z.json">compliance-20250605T060000Z.json</a> only.</p>') in vm_table
    assert sorted(re.findall(r"<td>(vm\d\d)</td>", vm_table)) == ["vm03", "vm17", "vm29"]
    grid = page.split('<a id="grid"></a>', 1)[1]
    assert sorted(set(re.findall(r"<td>(vm\d\d)</td>", grid))) == ["vm03", "vm17", "vm29"]
    assert len(json.loads((tmp_path / "compliance-20250605T060000Z.json").read_text())["vms"]) == 30


def test_a_fleet_at_the_row_limit_is_shown_whole(tmp_path):
    vms = ["vm%02d" % number for number in range(10)]
    files.write_reports(night(5, failing=["vm03"], vms=vms), options(tmp_path, report_html_max_rows=10))
    page = (tmp_path / "compliance.html").read_text()
    assert 'class="omitted"' not in page
    vm_table = page.split('<a id="vms"></a>', 1)[1].split('<a id="servers"></a>', 1)[0]
    assert len(re.findall(r"<td>(vm\d\d)</td>", vm_table)) == 10


def test_without_the_json_report_the_page_says_where_the_rest_is_not(tmp_path):
    vms = ["vm%02d" % number for number in range(12)]
    files.write_reports(night(5, failing=["vm03"], vms=vms),
                        options(tmp_path, report_html_max_rows=5, report_formats=["html"]))
    page = (tmp_path / "compliance.html").read_text()
    assert ("1 of 12 rows are shown; the other 11 are not in this page, and no JSON report (which has every row) "
            "was written: add json to the report formats.") in page


@pytest.mark.parametrize("value", ["reports", "./reports", "../reports/veeam"])
def test_a_relative_report_dir_is_refused_before_any_request(value):
    """A relative report_dir was resolved against the module's working directory - the playbook's folder:
    inside the installed collection, AWX's throw-away job folder, or the checkout's playbooks/ (packed into
    the next galaxy build) - exactly the places issue 17 moved the reports out of."""
    params = dict((key, spec.get("default")) for key, spec in report.argument_spec().items())
    params["report_dir"] = value
    with pytest.raises(report.ReportInputError) as raised:
        report.check_options(params)
    assert str(raised.value).startswith("report_dir=%r: must be an absolute path" % value)
