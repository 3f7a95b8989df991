"""New / recurring / resolved against the previous report, and the nightly trend (issue 17)."""
import json
import re

from ansible_collections.backupops.veeam_em.plugins.module_utils._report import files, history
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance_report import to_html

from unit.plugins.module_utils.report.test_report_files import night, options


def run(tmp_path, day, failing=(), **extra):
    written = files.write_reports(night(day, failing=failing), options(tmp_path, **extra))
    return written, json.loads((tmp_path / "compliance.json").read_text()), (tmp_path / "compliance.html").read_text()


def test_first_report_calls_nothing_new(tmp_path):
    written, document, page = run(tmp_path, 1, failing=["vm02"])
    assert document["changes"] == {"first_report": True, "previous_generated_at": None, "new": [], "recurring": [],
                                   "resolved": [], "not_read_in_full": False}
    assert "First report in this directory" in page
    assert ">new<" not in page


def test_a_night_em_could_not_be_read_resolves_nothing_and_the_next_night_keeps_the_since_dates(tmp_path):
    """An unreadable night (read_error) shows no finding of the VMs: that is not 'resolved', and the
    night after it compares with the findings last seen, not with the error night's (all 'new')."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate

    run(tmp_path, 1, failing=["vm02"])
    unread = evaluate([], now="2025-06-02T06:00:00Z", lookback_days=1, read_errors=["HTTP 500 on the query"])
    assert [item["code"] for item in unread["errors"]] == ["read_error"]
    written = files.write_reports(unread, options(tmp_path))
    changes = json.loads((tmp_path / "compliance.json").read_text())["changes"]
    assert changes["resolved"] == [] and changes["not_read_in_full"] is True
    assert [entry["code"] for entry in changes["new"]] == ["read_error"]
    assert "may only be unread" in (tmp_path / "compliance.html").read_text()
    assert written["changes"]["resolved"] == 0
    written, document, page = run(tmp_path, 3, failing=["vm02"])
    changes = document["changes"]
    assert changes["new"] == [] and changes["not_read_in_full"] is False
    assert sorted((e["code"], e["since"]) for e in changes["recurring"]) == [
        ("last_backup_failed", "2025-06-01T06:00:00Z"), ("rpo_exceeded", "2025-06-01T06:00:00Z")]
    assert [entry["text"] for entry in changes["resolved"]] == [next(
        item["text"] for item in unread["errors"])[:300]]


def test_new_recurring_since_and_resolved(tmp_path):
    run(tmp_path, 1, failing=["vm02"])
    run(tmp_path, 2, failing=["vm02", "vm03"])
    written, document, page = run(tmp_path, 3, failing=["vm03"])
    changes = document["changes"]
    assert changes["first_report"] is False
    assert changes["previous_generated_at"] == "2025-06-02T06:00:00Z"
    assert changes["new"] == []
    # a failed VM has two violations: its last backup failed and its RPO is exceeded
    assert sorted((e["code"], e["since"]) for e in changes["recurring"]) == [
        ("last_backup_failed", "2025-06-02T06:00:00Z"), ("rpo_exceeded", "2025-06-02T06:00:00Z")]
    assert sorted((e["text"].split(": ")[0], e["since"]) for e in changes["resolved"]) == [
        ("vbr01.example.com / vm02", "2025-06-01T06:00:00Z"), ("vbr01.example.com / vm02", "2025-06-01T06:00:00Z")]
    assert written["changes"] == {"first_report": False, "previous_generated_at": "2025-06-02T06:00:00Z", "new": 0,
                                  "recurring": 2, "resolved": 2}
    assert '<h3>Resolved since last report (2)</h3>' in page
    assert "since 2025-06-02" in page


def test_a_finding_seen_for_the_first_time_is_tagged_new(tmp_path):
    run(tmp_path, 1)
    written, document, page = run(tmp_path, 2, failing=["vm01"])
    assert sorted(e["code"] for e in document["changes"]["new"]) == ["last_backup_failed", "rpo_exceeded"]
    row = re.search(r"<tr><td class=\"tag new\">new</td><td>vbr01.example.com</td><td>vm01</td>", page)
    assert row is not None
    assert "2 new findings, 0 recurring findings, 0 resolved findings" in page


def test_the_previous_json_report_is_compared_when_no_state_exists(tmp_path):
    run(tmp_path, 1, failing=["vm02"], report_history=0)
    (tmp_path / "compliance.state.json").unlink()
    written, document, page = run(tmp_path, 2, failing=["vm02"], report_history=0)
    assert [e["since"] for e in document["changes"]["recurring"]] == ["2025-06-01T06:00:00Z"] * 2


def test_trend_counts_one_report_per_night_and_marks_each(tmp_path):
    for day, failing in ((1, ["vm02"]), (2, []), (3, ["vm02"]), (4, ["vm02", "vm03"])):
        written, document, page = run(tmp_path, day, failing=failing)
    trend = document["trend"]
    assert (trend["nights"], trend["first_night"], trend["last_night"]) == (4, "2025-06-01", "2025-06-04")
    assert [(e["vm_display_name"], e["nights"], e["ok"], e["rate"], e["marks"]) for e in trend["vms"]] == [
        ("vm02", 4, 1, 25.0, "x+xx"), ("vm03", 4, 3, 75.0, "+++x")]
    assert "<h3>VMs below 100% (2)</h3>" in page
    assert written["trend_nights"] == 4


def test_trend_is_limited_to_the_asked_nights(tmp_path):
    for day in (1, 2, 3):
        written, document, page = run(tmp_path, day, failing=["vm02"], report_trend_days=2)
    assert document["trend"]["nights"] == 2
    assert document["trend"]["vms"][0]["marks"] == "xx"


def test_a_vm_not_in_a_nights_report_is_not_counted_ok():
    states = [history.nights_state_of(night(1, vms=("vm01",)))]
    result = night(2, failing=["vm02"], vms=("vm01", "vm02"))
    trend = history.trend(iter(states), result, history.nights_state_of(result))
    assert [(e["vm_display_name"], e["nights"], e["ok"], e["marks"]) for e in trend["vms"]] == [("vm02", 1, 0, ".x")]


def test_without_changes_the_filter_page_has_no_history_sections():
    page = to_html(night(1, failing=["vm02"]))
    assert 'id="changes"' not in page and 'id="trend"' not in page


def test_the_trend_reads_the_newest_run_of_each_night_and_at_most_the_asked_nights():
    stamps = ["20250601T060000Z", "20250602T050000Z", "20250602T230000Z", "20250603T060000Z", "20250604T010000Z"]
    kept = ["20250601T060000Z", "20250602T230000Z", "20250603T060000Z"]  # the newest of each night before
    assert history.nights_of(stamps, "2025-06-04", 30) == kept
    assert history.nights_of(stamps, "2025-06-04", 3) == ["20250602T230000Z", "20250603T060000Z"]
    assert history.nights_of(stamps, "2025-06-04", 1) == []


def test_trend_days_zero_leaves_the_trend_out(tmp_path):
    run(tmp_path, 1, failing=["vm02"])
    written, document, page = run(tmp_path, 2, failing=["vm02"], report_trend_days=0)
    assert "trend" not in document and written["trend_nights"] == 0
    assert 'id="trend"' not in page


def test_failing_jobs_show_their_nights_ok(tmp_path):
    """The trend beside the failing job, where a person looks first."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate
    from unit.plugins.module_utils.compliance.conftest import build_session

    def job_night(day, result):
        now = "2025-06-%02dT06:00:00Z" % day
        job = {"name": "Nightly@%d" % day, "job_uid": "urn:veeam:Job:n", "job_id": "n", "job_name": "Nightly",
               "job_type": "Backup", "backup_server_name": "vbr01.example.com",
               "creation_time": "2025-06-%02dT01:00:00Z" % day, "end_time": "2025-06-%02dT01:30:00Z" % day,
               "state": "Stopped", "result": result, "is_retry": False}
        sessions = [build_session(vm="vm01", created="2025-06-%02dT01:00:00Z" % day, job="Nightly")]
        return evaluate(sessions, now=now, lookback_days=1, job_sessions=[job])

    for day, result in ((1, "Success"), (2, "Failed"), (3, "Failed")):
        files.write_reports(job_night(day, result), options(tmp_path))
    page = (tmp_path / "compliance.html").read_text()
    failing = page.split('<a id="failing-jobs"></a>', 1)[1].split("<a id=", 1)[0]
    assert "<th>nights OK</th>" in failing
    assert '<td class="marks">1 of 3<br>+xx</td>' in failing
