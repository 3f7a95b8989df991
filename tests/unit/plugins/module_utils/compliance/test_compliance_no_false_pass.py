"""Issue 14, no false pass - the rules with hand-made sessions and a fixed clock.

* the VMs to judge are those of the history EM keeps, not only of the window (a stopped VM is
  rpo_exceeded with its real age), and digest_history keeps what the rules need;
* what the account cannot see (view_limits) is a partial_view: error, or a warning when allowed;
* include/exclude patterns apply to VM rows, job rows, server rows and server_silent alike;
* an outage (read_errors) is status error, never a violation; the reports say so (JUnit
  <error>, HTML banner of its own).
"""
import xml.etree.ElementTree as ET

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_report as report
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import digest_history, evaluate
from unit.plugins.module_utils.compliance.conftest import build_session as session

NOW = "2025-06-05T06:00:00Z"          # window of 7 days: from 2025-05-29T06:00:00Z


def rows_by_vm(result):
    return {row["vm_display_name"]: row for row in result["vms"]}


def daily(vm, first_day, last_day, server="vbr01.example.com", job="Backup Job 1", result="Success", hour=1):
    """One backup per day of May 2025 from first_day to last_day, at hour:00Z."""
    return [session(vm=vm, server=server, job=job, result=result, created="2025-05-%02dT%02d:00:00Z" % (day, hour))
            for day in range(first_day, last_day + 1)]


# --- item 1: every VM of EM's history is judged -------------------------------------------------

def test_a_vm_whose_backups_stopped_before_the_window_is_rpo_exceeded_with_its_real_age():
    # daily backups for three weeks, then nothing since the run of 2025-05-28 01:00-01:10: its data is
    # 197 h old at NOW (the age counts from the start of the run, issue 22)
    sessions = daily("stopped01", 7, 28) + daily("ok01", 7, 31) + [session(vm="ok01", created="2025-06-05T01:00:00Z")]
    result = evaluate(sessions, now=NOW)
    rows = rows_by_vm(result)
    assert set(rows) == {"stopped01", "ok01"}
    stopped = rows["stopped01"]
    assert stopped["status"] == "violation" and stopped["reasons"] == ["rpo_exceeded"]
    assert stopped["in_window"] is False
    assert stopped["backup"]["last_success_time"] == "2025-05-28T01:00:00Z"
    assert stopped["backup"]["last_success_end_time"] == "2025-05-28T01:10:00Z"
    assert stopped["backup"]["last_success_age_hours"] == 197.0
    assert stopped["backup"]["sessions"] == 0  # counts are of the window
    assert stopped["findings"][0]["message"].startswith(
        "no backup session in the 7-day window, the last one was created 2025-05-28T01:00:00Z; ")
    assert stopped["findings"][0]["message"].endswith(
        "; data of the last successful backup is 197h old (RPO 24h)")
    assert result["summary"]["vms_total"] == 2 and result["summary"]["vms_from_history"] == 1
    assert rows["ok01"]["status"] == "compliant" and rows["ok01"]["in_window"] is True


def test_a_vm_that_only_failed_in_the_history_is_judged_too():
    result = evaluate(daily("broken01", 10, 20, result="Failed") + [session(vm="ok01", created="2025-06-05T01:00:00Z")],
                      now=NOW)
    row = rows_by_vm(result)["broken01"]
    assert row["reasons"] == ["rpo_exceeded"] and row["backup"]["last_success_time"] is None
    assert "no successful backup in the history EM keeps (RPO 24h)" in row["findings"][0]["message"]


def test_backups_that_stopped_while_replicas_go_on_are_stopped_backups():
    replicas = [session(vm="mixed01", kind="replica", created="2025-06-05T02:00:00Z")]
    row = rows_by_vm(evaluate(daily("mixed01", 10, 20), replica_sessions=replicas, now=NOW))["mixed01"]
    assert row["in_window"] is True
    assert row["reasons"] == ["rpo_exceeded"] and row["findings"][0]["kind"] == "backup"
    assert row["backup"]["last_success_time"] == "2025-05-20T01:00:00Z"
    assert row["replica"]["sessions"] == 1


def test_a_chronic_failure_gets_the_real_age_of_its_last_success_from_the_history():
    sessions = daily("chronic01", 20, 27) + daily("chronic01", 28, 31, result="Failed") + [
        session(vm="chronic01", created="2025-06-0%dT01:00:00Z" % day, result="Failed") for day in range(1, 6)]
    row = rows_by_vm(evaluate(sessions, now=NOW))["chronic01"]
    assert row["reasons"] == ["rpo_exceeded", "last_backup_failed"]
    # The data time (start of the run, issue 22), as the RPO rule of the window counts it.
    assert row["backup"]["last_success_time"] == "2025-05-27T01:00:00Z"
    assert row["backup"]["last_success_end_time"] == "2025-05-27T01:10:00Z"
    assert row["backup"]["last_success_age_hours"] == 221.0
    assert row["findings"][0]["message"].endswith(
        "; the data of the last successful backup, before the window, is 221h old (2025-05-27T01:00:00Z)")
    assert row["findings"][0]["time"] == "2025-05-27T01:00:00Z"


def test_a_vm_that_never_succeeded_in_all_of_the_history_says_so():
    sessions = daily("chronic02", 10, 31, result="Failed") + [session(vm="chronic02", created="2025-06-05T01:00:00Z",
                                                                      result="Failed")]
    row = rows_by_vm(evaluate(sessions, now=NOW))["chronic02"]
    assert row["reasons"] == ["rpo_exceeded", "last_backup_failed"]
    assert row["backup"]["last_success_time"] is None
    assert row["findings"][0]["message"].endswith("; none in the history before the window either")


def test_a_success_before_the_window_inside_a_long_rpo_is_no_rpo_violation():
    """RPO 240 h, 7-day window, data of the last success 221 h old: inside the RPO, only the open failure."""
    sessions = daily("chronic01", 20, 27) + [
        session(vm="chronic01", created="2025-06-0%dT01:00:00Z" % day, result="Failed") for day in range(1, 6)]
    row = rows_by_vm(evaluate(sessions, now=NOW, backup_rpo_hours=240))["chronic01"]
    assert row["reasons"] == ["last_backup_failed"]
    assert row["backup"]["last_success_age_hours"] == 221.0


def test_digest_keeps_the_newest_session_per_vm_job_and_result():
    sessions = (daily("vm01", 1, 20) + daily("vm01", 1, 5, result="Failed", hour=3)
                + daily("vm01", 1, 3, job="Backup Job 2", result="Warning", hour=5))
    kept = digest_history(sessions)
    assert sorted((s["job_name"], s["result"], s["creation_time"]) for s in kept) == [
        ("Backup Job 1", "Failed", "2025-05-05T03:00:00Z"),
        ("Backup Job 1", "Success", "2025-05-20T01:00:00Z"),
        ("Backup Job 2", "Warning", "2025-05-03T05:00:00Z"),
    ]


def test_digest_gives_the_same_verdicts_as_every_session():
    history = (daily("vm01", 1, 20) + daily("vm02", 1, 25, result="Failed") + daily("vm03", 1, 10, result="Warning")
               + daily("vm03", 11, 12, result="Failed") + daily("vm04", 1, 15, job="Other Job"))
    window = [session(vm="vm05", created="2025-06-05T01:00:00Z")]
    for options in ({}, {"accept_warnings": False}, {"include_jobs": ["Other*"]}, {"exclude_vms": ["vm01"]}):
        full = evaluate(window + history, now=NOW, **options)
        digest = evaluate(window + digest_history(history), now=NOW, **options)
        assert full["vms"] == digest["vms"], options
        assert full["servers"] == digest["servers"], options


# --- item 2: the account's reach --------------------------------------------------------------

LIMIT = "the EM account CORP\\svc is not a Portal Administrator (EM refused the jobs query with 403)"


def test_a_partial_view_is_an_error_and_not_compliant():
    result = evaluate([session(created="2025-06-05T01:00:00Z")], now=NOW, view_limits=[LIMIT])
    assert result["status"] == "error" and result["compliant"] is False
    assert [e["code"] for e in result["errors"]] == ["partial_view"]
    assert result["errors"][0]["message"].startswith(LIMIT)
    assert result["summary"]["errors_total"] == 1 and result["violations"] == []


def test_an_allowed_partial_view_is_a_named_warning():
    result = evaluate([session(created="2025-06-05T01:00:00Z")], now=NOW, view_limits=[LIMIT],
                      allow_partial_view=True)
    assert result["status"] == "warning" and result["compliant"] is True
    assert result["errors"] == [] and [w["code"] for w in result["warnings"]] == ["partial_view"]


# --- item 3: scope ----------------------------------------------------------------------------

SERVERS = ["vbr01.example.com", "vbr02.example.com", "vbr03.example.com"]


def fleet():
    sessions = []
    for index, server in enumerate(SERVERS):
        for vm in ("app%d" % index, "db%d" % index):
            sessions.append(session(vm=vm, server=server, job="Job %s" % vm, created="2025-06-05T01:00:00Z"))
    # vbr03 went quiet: its last session is 3 days old
    sessions.append(session(vm="old3", server=SERVERS[2], job="Job old3", created="2025-06-02T01:00:00Z"))
    return sessions


def job_sessions():
    return [{"uid": "urn:veeam:BackupJobSession:%d" % number, "job_uid": "urn:veeam:Job:%d" % number,
             "job_name": "Job %s" % vm, "backup_server_name": server, "creation_time": "2025-06-05T01:00:00Z",
             "end_time": "2025-06-05T01:10:00Z", "state": "Stopped", "result": "Failed", "is_retry": False}
            for number, (vm, server) in enumerate([("app0", SERVERS[0]), ("db1", SERVERS[1]), ("app2", SERVERS[2])])]


def test_one_vm_scope_raises_no_silent_server_and_scopes_job_rows():
    result = evaluate(fleet(), now=NOW, include_vms=["app0"], known_backup_servers=SERVERS,
                      job_sessions=job_sessions())
    assert [row["vm_display_name"] for row in result["vms"]] == ["app0"]
    assert [s["backup_server_name"] for s in result["servers"]] == [SERVERS[0]]
    assert result["summary"]["servers_silent"] == 0
    assert [job["job_name"] for job in result["jobs"]] == ["Job app0"]


def test_one_job_scope_raises_no_silent_server():
    result = evaluate(fleet(), now=NOW, include_jobs=["Job db1"], known_backup_servers=SERVERS,
                      job_sessions=job_sessions())
    assert [s["backup_server_name"] for s in result["servers"]] == [SERVERS[1]]
    assert result["summary"]["servers_silent"] == 0
    assert [job["job_name"] for job in result["jobs"]] == ["Job db1"]


def test_a_stopped_vm_on_a_talking_server_is_the_vms_finding_not_the_servers():
    """Scoped to the quiet VM old3: its server still talks to EM (app2, db2 today), so it is not
    silent; the VM is rpo_exceeded."""
    result = evaluate(fleet(), now=NOW, include_vms=["old3"], known_backup_servers=SERVERS)
    assert [(s["backup_server_name"], s["reasons"]) for s in result["servers"]] == [(SERVERS[2], [])]
    assert rows_by_vm(result)["old3"]["reasons"] == ["rpo_exceeded"]


def test_a_server_whose_every_session_stopped_is_silent_even_in_a_one_vm_scope():
    sessions = fleet() + daily("gone1", 10, 20, server="vbr-gone.example.com")
    result = evaluate(sessions, now=NOW, include_vms=["gone1"], known_backup_servers=SERVERS)
    assert [(s["backup_server_name"], s["reasons"]) for s in result["servers"]] == [
        ("vbr-gone.example.com", ["server_silent"])]


def test_a_known_server_without_any_session_is_silent_when_the_scope_is_whole_servers():
    result = evaluate(fleet(), now=NOW, known_backup_servers=SERVERS + ["vbr-new.example.com"])
    silent = {s["backup_server_name"] for s in result["servers"] if s["reasons"] == ["server_silent"]}
    assert silent == {"vbr-new.example.com"}


# --- item 6: outage vs breach -----------------------------------------------------------------

def test_a_read_error_is_status_error_everywhere_in_the_reports():
    result = evaluate([], now=NOW, read_errors=["HTTP 401 Unauthorized (POST /api/sessionMngr/?v=latest)"])
    assert result["status"] == "error" and result["compliant"] is False
    assert result["violations"] == []  # no no_data violation on top: the read_error says why
    assert [e["code"] for e in result["errors"]] == ["read_error"]
    assert result["errors"][0]["message"] == \
        "Enterprise Manager could not be read: HTTP 401 Unauthorized (POST /api/sessionMngr/?v=latest)"

    junit = ET.fromstring(report.to_junit(result).encode("utf-8"))
    assert (junit.get("errors"), junit.get("failures")) == ("1", "0")
    error = junit.find(".//testcase[@classname='veeam_em_compliance']/error")
    assert error is not None and error.get("type") == "read_error" and "HTTP 401" in error.text
    assert junit.find(".//failure") is None

    page = report.to_html(result)
    assert '<div class="banner error">ERROR: Enterprise Manager could not be read in full' in page
    # issue 17: the banner's count line names what each number counts (VMs, servers, jobs, findings)
    assert "0 of 0 VMs in violation" in page and "findings: 0 violations, 0 warnings, 1 read error" in page
    assert "<h2>Errors (1)</h2>" in page
    assert ".banner.error{" in page  # a colour of its own


def test_banner_and_tiles_say_what_they_count():
    sessions = [session(vm="bad01", created="2025-06-05T01:00:00Z", result="Failed"),
                session(vm="bad01", created="2025-06-04T01:00:00Z", result="Failed")]
    page = report.to_html(evaluate(sessions, now=NOW))
    # two violation findings (rpo_exceeded, last_backup_failed) on one VM
    # issue 17: new wording of the same counts - VMs as "n of total", findings counted apart
    assert "1 of 1 VMs in violation" in page and "findings: 2 violations, 0 warnings, 0 read errors" in page
    assert "<b>1</b>VMs in violation" in page and "<b>2</b>violation findings" in page
