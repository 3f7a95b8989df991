"""veeam_em_compliance_info: what it sends, what it returns, and how it fails.

The fake EM serves different items per query type, so the tests see which queries were sent
(filters, sort, projection does not matter on the wire) and that the verdicts are those of the
shared evaluation over exactly those items.
"""
import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance
from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_compliance_info as module
from unit.plugins.module_utils.em_fake import FakeEM, Reply, error_body, paged_handler, synthetic_task_session
from unit.plugins.modules.module_runner import CONNECTION, install_fake, run_module

NOW = "2025-06-29T06:00:00Z"
BACKUPS = [synthetic_task_session(i) for i in range(25)]
REPLICAS = [synthetic_task_session(i, kind="Replica") for i in range(6)]
SERVERS = [{"Name": "vbr-known.example.com", "UID": "urn:veeam:BackupServer:7445e6ce-86f5-4171-b909-dac209c66563",
            "Href": "https://em:9398/api/backupServers/7445e6ce-86f5-4171-b909-dac209c66563", "Type": "BackupServer",
            "Port": 9392, "Version": "12.3.1.1139", "Links": []}]
SERVED = {
    "BackupTaskSession": (BACKUPS, "BackupTaskSessions", "BackupTaskSession"),
    "ReplicaTaskSession": (REPLICAS, "ReplicaTaskSessions", "ReplicaTaskSession"),
    "BackupServer": (SERVERS, "BackupServers", "BackupServer"),
    "BackupJobSession": ([], "BackupJobSessions", "BackupJobSession"),
    "ReplicaJobSession": ([], "ReplicaJobSessions", "ReplicaJobSession"),
    # the account-reach probe (type=Job, page size 1): served means Portal Administrator
    "Job": ([{"Name": "Backup Job 1", "UID": "urn:veeam:Job:0b5b5d2e-1b1e-4a36-9d0e-5f0b7c1d2a01", "Links": []}],
            "Jobs", "Job"),
}
# The queries of one default run: the probe, the window, the history before it (the fake ignores
# the filter, so it serves the same items again), the servers and the job sessions.
DEFAULT_QUERIES = (["Job"] + ["BackupTaskSession"] * 3 + ["ReplicaTaskSession"] + ["BackupTaskSession"] * 3
                   + ["ReplicaTaskSession", "BackupServer", "BackupJobSession", "BackupJobSession", "ReplicaJobSession"])


def by_type(fail_type=None, deny_type=None):
    def handler(call):
        if call.path != "/api/query":
            return None
        query_type = call.query["type"]
        if query_type == fail_type:
            return Reply(500, error_body("json", 500, "The database is not available"))
        if query_type == deny_type:
            return Reply(403, error_body("json", 403, "Access denied."))
        items, list_tag, item_tag = SERVED[query_type]
        return paged_handler(items, "json", list_tag, item_tag)(call)
    return handler


@pytest.fixture
def fake(monkeypatch):
    fake = FakeEM("json", by_type())
    install_fake(monkeypatch, fake)
    return fake


def run(args, capsys):
    return run_module(module, dict(dict(CONNECTION, now=NOW), **args), capsys)


def query_types(fake):
    return [call.query["type"] for call in fake.api_calls()]


def test_one_logon_one_query_per_resource_one_logoff(fake, capsys):
    result = run({"page_size": 10}, capsys)
    assert "failed" not in result and result["changed"] is False
    assert fake.logons == 1 and fake.logoffs == 1
    # issue 14: + the account-reach probe and the history before the window (4 requests)
    assert query_types(fake) == DEFAULT_QUERIES
    assert result["requests"] == len(fake.calls) == 15
    # the fake serves no job sessions: the three the task sessions name are asked for by UID, in one request
    named = fake.api_calls()[11].query["filter"]
    assert named.count('UID=="urn:veeam:BackupJobSession:') == 3 and named.startswith("(")
    assert result["queries"]["named_job_sessions"] == {"type": "BackupJobSession", "asked": 3, "not_asked": 0,
                                                       "requests": 1, "items": 0}
    probe = fake.api_calls()[0].query
    assert (probe["type"], probe["pageSize"], probe["page"]) == ("Job", "1", "1")
    backup_query = fake.api_calls()[1].query
    assert backup_query["filter"] == 'CreationTime>="2025-06-22T06:00:00Z";CreationTime<"2025-06-29T06:00:00Z"'
    assert backup_query["sortAsc"] == "CreationTime"
    history_query = fake.api_calls()[5].query
    assert history_query["filter"] == 'CreationTime>="2025-05-30T06:00:00Z";CreationTime<"2025-06-22T06:00:00Z"'
    assert history_query["sortDesc"] == "CreationTime"  # newest first: folded page by page
    assert result["queries"]["backup_task_history"]["items"] == 25
    assert result["queries"]["backup_task_history"]["kept"] == 25  # every synthetic session is its own VM
    assert result["queries"]["account_reach"]["administrator"] is True
    assert result["queries"]["backup_task_sessions"]["items"] == 25
    assert result["queries"]["backup_task_sessions"]["pages"] == 3
    assert "backup_task_sessions" not in result  # only verdicts leave the module


def test_verdicts_are_the_shared_evaluation_of_what_was_read(fake, capsys):
    result = run({"backup_rpo_hours": 48, "exclude_vms": ["vm0000[0-4]"]}, capsys)
    compliance = result["compliance"]
    assert compliance["generated_at"] == NOW
    assert compliance["policy"]["backup_rpo_hours"] == 48.0
    assert compliance["policy"]["known_backup_servers"] == ["vbr-known.example.com"]
    names = {row["vm_display_name"] for row in compliance["vms"]}
    assert not names & {"vm00000", "vm00001", "vm00002", "vm00003", "vm00004"}
    in_window = [s for s in BACKUPS if s["CreationTimeUTC"] >= "2025-06-22T06:00:00Z"]
    assert compliance["summary"]["sessions_read"] == len(BACKUPS) + len(REPLICAS)  # the fake ignores the filter
    assert {row["vm_display_name"] for row in compliance["vms"]} >= {
        s["VmDisplayName"] for s in in_window if s["VmDisplayName"] > "vm00004"}
    # issue 14 item 3: with VM patterns a known server without in-scope sessions is out of scope
    # (it was a server_silent violation)
    assert [s for s in compliance["servers"] if s["backup_server_name"] == "vbr-known.example.com"] == []


def test_a_known_server_without_sessions_is_silent_when_the_scope_is_whole_servers(fake, capsys):
    compliance = run({"backup_rpo_hours": 48}, capsys)["compliance"]
    silent = [s for s in compliance["servers"] if s["backup_server_name"] == "vbr-known.example.com"]
    assert silent and silent[0]["reasons"] == ["server_silent"]


def test_switches_leave_reads_out(fake, capsys):
    run({"check_replicas": False, "check_jobs": False, "known_servers_from_em": False, "read_history": False}, capsys)
    assert query_types(fake) == ["Job", "BackupTaskSession"]  # the probe of the account's reach stays


def test_without_now_the_window_has_no_upper_bound(fake, capsys):
    result = run_module(module, dict(CONNECTION, check_replicas=False, check_jobs=False,
                                     known_servers_from_em=False), capsys)
    assert "failed" not in result
    assert "CreationTime<" not in fake.api_calls()[1].query["filter"]
    assert result["compliance"]["generated_at"].endswith("Z")


@pytest.mark.parametrize("args, words", [
    ({"backup_rpo_hours": -1}, ["backup_rpo_hours", "-1"]),
    ({"now": "yesterday-ish"}, ["now", "yesterday-ish"]),
    ({"page_size": 0}, ["page_size", "0"]),
    ({"concurrency": 99}, ["concurrency", "99"]),
    ({"expected_vms": [{"backup_server": "vbr01"}]}, ["expected_vms"]),
    ({"report_history": -1}, ["report_history", "-1"]),
    ({"report_basename": "../up"}, ["report_basename", "../up"]),
    ({"report_mode": "644x"}, ["report_mode", "644x"]),
    ({"history_cache_overlap_hours": -1}, ["history_cache_overlap_hours", "-1"]),
    ({"history_full_read_days": -0.5}, ["history_full_read_days", "-0.5"]),
    # past what a date can hold (timedelta/datetime overflow: a crash before), and past any use
    ({"history_cache_overlap_hours": 1e12}, ["history_cache_overlap_hours", "1000000000000.0", "8760"]),
    ({"history_cache_overlap_hours": 8761}, ["history_cache_overlap_hours", "8761", "8760"]),
    ({"history_full_read_days": 1e12}, ["history_full_read_days", "1000000000000.0", "3650"]),
    ({"history_full_read_days": 3651}, ["history_full_read_days", "3651", "3650"]),
    # the policy's numbers: nan passed "not negative" and compared false with every age (an RPO never
    # exceeded: a false compliant); 1e12 and inf overflowed a date (a crash)
    ({"backup_rpo_hours": "nan"}, ["backup_rpo_hours", "must be a number", "nan"]),
    ({"replica_rpo_hours": float("nan")}, ["replica_rpo_hours", "must be a number", "nan"]),
    ({"copy_rpo_hours": "NaN"}, ["copy_rpo_hours", "must be a number", "nan"]),
    ({"stuck_hours": "nan"}, ["stuck_hours", "must be a number"]),
    ({"max_duration_minutes": "nan"}, ["max_duration_minutes", "must be a number"]),
    ({"backup_rpo_hours": 1e12}, ["backup_rpo_hours", "must be at most 1000000", "1000000000000.0"]),
    ({"stuck_hours": 1000001}, ["stuck_hours", "must be at most 1000000", "1000001"]),
    ({"recent_hours": "inf"}, ["recent_hours", "must be a number", "inf"]),  # em_values.finite_number: inf is none
    ({"lookback_days": 40001}, ["lookback_days", "must be at most 40000", "40001"]),
    ({"max_duration_minutes": 1e300}, ["max_duration_minutes", "must be at most 60000000"]),
    ({"timeout": "nan"}, ["timeout", "nan", "greater than 0"]),
])
def test_bad_input_is_refused_before_any_request(fake, capsys, args, words):
    result = run(args, capsys)
    assert result["failed"] is True
    for word in words:
        assert word in result["msg"], result["msg"]
    assert fake.calls == []


def test_a_failed_read_fails_with_read_error_verdicts_and_logs_off(monkeypatch, capsys):
    fake = FakeEM("json", by_type(fail_type="ReplicaTaskSession"))
    install_fake(monkeypatch, fake)
    result = run({}, capsys)
    assert result["failed"] is True and "HTTP 500" in result["msg"] and "database is not available" in result["msg"]
    assert fake.logons == 1 and fake.logoffs == 1
    assert query_types(fake) == ["Job", "BackupTaskSession", "ReplicaTaskSession"]  # the reading stops there
    compliance = result["compliance"]
    # issue 14: an outage is status error with a read_error finding (was a no_data violation)
    assert compliance["compliant"] is False and compliance["summary"]["no_data"] is True
    assert compliance["status"] == "error"
    assert [e["code"] for e in compliance["errors"]] == [em_compliance.READ_ERROR]
    assert result["queries"]["replica_task_sessions"] == {"type": "ReplicaTaskSession", "failed": True}
    assert CONNECTION["password"] not in str(result)


@pytest.mark.parametrize("extra", [{"known_backup_servers": ["vbr01.example.com"]},
                                   {"report_dir": "REPORTS"}])   # the history cache: EM's servers read first
def test_a_failed_task_session_read_claims_no_silent_server(monkeypatch, capsys, tmp_path, extra):
    """Known servers (given, or EM's list read before the history cache) and the task sessions not read: no
    server is "silent" (server_silent: no session of it at all, a breach) - nothing was read (issue 14)."""
    fake = FakeEM("json", by_type(fail_type="BackupTaskSession"))
    install_fake(monkeypatch, fake)
    extra = dict((key, str(tmp_path) if value == "REPORTS" else value) for key, value in extra.items())
    result = run(extra, capsys)
    assert result["failed"] is True and "HTTP 500" in result["msg"]
    compliance = result["compliance"]
    assert compliance["status"] == "error" and compliance["violations"] == [], compliance["violations"]
    assert [e["code"] for e in compliance["errors"]] == [em_compliance.READ_ERROR]
    assert compliance["servers"] == []


def test_a_failed_job_session_read_after_the_task_sessions_still_names_a_silent_server(monkeypatch, capsys):
    """The other side of the rule: every task-session query answered, a later read failed (the job sessions): a known
    server with no session at all is server_silent beside the read_error (the sessions were read; it had none)."""
    install_fake(monkeypatch, FakeEM("json", by_type(fail_type="BackupJobSession")))
    result = run({"known_backup_servers": ["vbr-ghost.example.com"]}, capsys)
    assert result["failed"] is True and "HTTP 500" in result["msg"]
    compliance = result["compliance"]
    assert [e["code"] for e in compliance["errors"]] == [em_compliance.READ_ERROR]
    silent = [row["backup_server_name"] for row in compliance["servers"] if "server_silent" in row["reasons"]]
    # the given name and the one EM lists (read before the job sessions), neither with a session
    assert {"vbr-ghost.example.com", "vbr-known.example.com"} <= set(silent), compliance["servers"]


def test_a_failed_logon_still_returns_error_verdicts(monkeypatch, capsys):
    fake = FakeEM("json", by_type(), logon=lambda call: Reply(401, error_body("json", 401, "Unauthorized")))
    install_fake(monkeypatch, fake)
    result = run({}, capsys)
    assert result["failed"] is True and "401" in result["msg"]
    assert fake.api_calls() == [] and fake.logoffs == 0
    # issue 14: status error (was violation): EM could not be read
    assert result["compliance"]["status"] == "error" and result["compliance"]["vms"] == []
    assert result["compliance"]["policy"]["read_errors"] == [result["msg"]]


def test_missing_credentials_are_a_read_error_with_no_request(fake, capsys):
    args = dict(CONNECTION, now=NOW)
    del args["password"]
    result = run_module(module, args, capsys)
    assert result["failed"] is True and "username and password are required" in result["msg"]
    assert fake.calls == [] and result["requests"] == 0
    assert result["compliance"]["summary"]["no_data"] is True


@pytest.mark.parametrize("server", ["https://admin:Zq7-s3cret@em.example.com:9398/api", "ops:Zq7-s3cret@em.example.com"])
def test_a_server_with_a_password_in_it_reaches_neither_the_result_nor_the_reports(fake, capsys, tmp_path, server):
    """The server option is refused before any request (em_connection); the result's source, the
    reports and the message show the host without what stood before the '@'."""
    import json

    result = run({"server": server, "report_dir": str(tmp_path), "report_formats": ["json", "html"]}, capsys)
    assert result["failed"] is True and fake.calls == []
    assert result["compliance"]["source"]["em_server"] in ("https://em.example.com:9398/api", "em.example.com")
    everything = json.dumps(result) + "".join(path.read_text(encoding="utf-8") for path in tmp_path.iterdir()
                                              if path.is_file())
    where = [m.start() for m in __import__("re").finditer("Zq7-s3cret", everything)]
    assert not where, [everything[max(0, i - 200):i + 20] for i in where]


def test_compact_rows_and_rendered_reports(fake, capsys):
    """Reports are rendered from the full evaluation, even when the returned rows are compact."""
    import json

    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance_report import to_html, to_junit

    full = run({}, capsys)["compliance"]
    slim = run({"detail": "compact", "report_formats": ["json", "junit", "html"], "report_title": "Night <1>"},
               capsys)
    assert set(slim["reports"]) == {"json", "junit", "html"}
    assert json.loads(slim["reports"]["json"]) == full
    assert slim["reports"]["junit"] == to_junit(full)
    assert slim["reports"]["html"] == to_html(full, title="Night <1>")
    assert "<title>Night &lt;1&gt;</title>" in slim["reports"]["html"]
    rows = slim["compliance"]["vms"]
    assert rows == [{key: row[key] for key in em_compliance.COMPACT_VM_KEYS} for row in full["vms"]]
    without_vms = dict(slim["compliance"], vms=None)
    assert without_vms == dict(full, vms=None)  # everything else is the full evaluation
    assert run({}, capsys)["reports"] == {}


def test_report_dir_the_module_writes_the_files_and_returns_their_paths(fake, capsys, tmp_path):
    """Issue 17: the module writes the reports (no text through Ansible) and says where."""
    import json

    full = run({}, capsys)["compliance"]
    result = run({"detail": "compact", "report_formats": ["json", "junit", "html"], "report_dir": str(tmp_path / "r")},
                 capsys)
    assert result.get("failed") is not True and result["reports"] == {}
    files = result["report_files"]["files"]
    assert files == {"json": str(tmp_path / "r" / "compliance.json"), "junit": str(tmp_path / "r" / "compliance.xml"),
                     "html": str(tmp_path / "r" / "compliance.html"),
                     "state": str(tmp_path / "r" / "compliance.state.json"),
                     "trend": str(tmp_path / "r" / "compliance.trend.json")}
    written = json.loads((tmp_path / "r" / "compliance.json").read_text(encoding="utf-8"))
    assert dict(written, changes=None, trend=None) == dict(full, changes=None, trend=None)
    assert result["report_files"]["changes"]["first_report"] is True
    assert sorted(result["report_files"]["dated"]) == ["html", "json", "junit", "state", "trend"]


def test_check_mode_writes_no_report(fake, capsys, tmp_path):
    result = run({"report_formats": ["json"], "report_dir": str(tmp_path / "r"), "_ansible_check_mode": True}, capsys)
    assert result.get("failed") is not True and result["changed"] is False
    assert result["report_files"] == {} and not (tmp_path / "r").exists()


def test_a_report_dir_that_cannot_be_written_fails_the_module_with_the_verdicts(fake, capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run({"report_formats": ["json"], "report_dir": str(blocker / "sub")}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("report_dir=%s: the reports could not be written: " % (blocker / "sub"))
    assert result["compliance"]["summary"]["vms_total"] > 0
    assert fake.logoffs == 1


def test_a_portal_user_is_named_as_a_partial_view_and_not_compliant(monkeypatch, capsys):
    """The probe (type=Job) refused with 403: the account sees only part of EM (FACTS 1.3)."""
    fake = FakeEM("json", by_type(deny_type="Job"))
    install_fake(monkeypatch, fake)
    result = run({}, capsys)
    assert "failed" not in result  # everything it may see was read
    compliance = result["compliance"]
    assert compliance["status"] == "error" and compliance["compliant"] is False
    assert [e["code"] for e in compliance["errors"]] == [em_compliance.PARTIAL_VIEW]
    message = compliance["errors"][0]["message"]
    assert "not a Portal Administrator" in message and "vbr-known.example.com" in message
    assert result["queries"]["account_reach"]["administrator"] is False


def test_an_allowed_partial_view_is_a_warning(monkeypatch, capsys):
    fake = FakeEM("json", by_type(deny_type="Job"))
    install_fake(monkeypatch, fake)
    compliance = run({"allow_partial_view": True}, capsys)["compliance"]
    assert compliance["errors"] == []
    # and job_type_unknown: this fake serves no job session, so the backup task sessions' jobs are unseen
    # (fold.kind_of: judged as copies, session 15)
    assert [w["code"] for w in compliance["warnings"] if w["scope"] == "global"] == [
        em_compliance.PARTIAL_VIEW, "job_type_unknown"]


@pytest.mark.parametrize("detail", ["full", "compact"])
def test_streamed_vm_rows_equal_exit_json(fake, capsys, monkeypatch, detail):
    """Issue 18: compliance.vms is written batch by batch (em_module.exit_with_items, within compliance),
    the answer is the one exit_json gives (its no_log scrubbing included: the password is nowhere)."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_module

    streamed = run({"detail": detail}, capsys)
    monkeypatch.setattr(em_module, "_exit_prints_to_stdout", lambda module: False)
    plain = run({"detail": detail}, capsys)
    assert streamed == plain
    assert len(streamed["compliance"]["vms"]) == streamed["compliance"]["summary"]["vms_total"] > 0
    assert CONNECTION["password"] not in str(streamed)


@pytest.mark.parametrize("detail", ["full", "compact", "summary"])
def test_rows_held_compressed_or_as_dicts_give_the_same_answer_and_reports(fake, capsys, monkeypatch, tmp_path, detail):
    """A big fleet's rows are held as em_rows.PackedRows (PACK_ROWS_FROM), a smaller one's as dicts: the module's
    answer and every report are the same either way (here the fake's 25 VMs both ways)."""
    import json

    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_module, em_rows

    made = []
    real = em_rows.PackedRows.__init__

    def noted(self, *args, **kwargs):
        made.append(self)
        real(self, *args, **kwargs)
    monkeypatch.setattr(em_rows.PackedRows, "__init__", noted)
    answers, reports = [], []
    for pack_from, where in ((10 ** 9, "dicts"), (0, "packed")):
        monkeypatch.setattr(em_compliance_module, "PACK_ROWS_FROM", pack_from)
        directory = tmp_path / where
        result = run({"detail": detail, "report_dir": str(directory), "report_history": False,
                      "report_formats": ["json", "junit", "html"]}, capsys)
        assert (len(made) > 0) is (where == "packed"), where
        answers.append(json.dumps(result, sort_keys=True).replace(str(directory), "<dir>"))
        reports.append(dict((path.name, path.read_bytes().replace(str(directory).encode(), b"<dir>"))
                            for path in directory.iterdir() if path.is_file() and not path.name.endswith(".gz")))
    assert answers[0] == answers[1] and reports[0] == reports[1]
    assert sorted(reports[0]) == ["compliance.html", "compliance.json", "compliance.state.json",
                                  "compliance.trend.json", "compliance.xml"]


def test_detail_summary_returns_no_vm_rows_and_the_same_rest(fake, capsys):
    """Issue 18: detail=summary leaves the VM rows to the reports: no ``vms`` key (never an empty list
    that reads as "no VM"); everything else is the full evaluation."""
    full = run({}, capsys)["compliance"]
    summary = run({"detail": "summary"}, capsys)
    assert summary.get("failed") is not True
    assert "vms" not in summary["compliance"]
    assert summary["compliance"] == dict((key, value) for key, value in full.items() if key != "vms")
    assert summary["compliance"]["summary"]["vms_total"] == len(full["vms"]) > 0


@pytest.mark.parametrize("detail", ["full", "compact", "summary"])
@pytest.mark.parametrize("streamed", [True, False])
def test_result_format_json_is_the_same_document_as_one_text(fake, capsys, monkeypatch, detail, streamed):
    """result_format=json (the role's): compliance_json is the JSON text of the dict result_format=dict answers,
    key for key, streamed batch by batch (em_module.exit_with_items, as_text) or through exit_json; no compliance."""
    import json

    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_module

    as_dict = run({"detail": detail}, capsys)
    if not streamed:
        monkeypatch.setattr(em_module, "_exit_prints_to_stdout", lambda module: False)
    as_text = run({"detail": detail, "result_format": "json"}, capsys)
    assert "compliance" not in as_text and isinstance(as_text["compliance_json"], str)
    assert json.loads(as_text["compliance_json"]) == as_dict["compliance"]
    assert as_text["invocation"]["module_args"]["result_format"] == "json"
    assert dict((k, v) for k, v in as_text.items() if k not in ("compliance_json", "invocation")) == \
        dict((k, v) for k, v in as_dict.items() if k not in ("compliance", "invocation"))


@pytest.mark.parametrize("streamed", [True, False])
def test_result_format_json_masks_a_password_em_echoes_inside_the_text(monkeypatch, capsys, streamed):
    """A session reason holding the password (EM echoes what it was given): masked inside the text too, in the
    rows written batch by batch and in exit_json's own part."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_module

    echoed = [synthetic_task_session(i, reason="Error: logon as svc with %s refused" % CONNECTION["password"])
              for i in range(20, 28)]

    def handler(call):
        if call.path == "/api/query" and call.query["type"] == "BackupTaskSession":
            return paged_handler(echoed, "json", "BackupTaskSessions", "BackupTaskSession")(call)
        return by_type()(call)
    install_fake(monkeypatch, FakeEM("json", handler))
    if not streamed:
        monkeypatch.setattr(em_module, "_exit_prints_to_stdout", lambda module: False)
    result = run({"result_format": "json", "check_replicas": False}, capsys)
    assert "compliance_json" in result and "logon as svc with" in result["compliance_json"]
    assert CONNECTION["password"] not in str(result)


def test_result_format_json_a_failed_read_answers_the_error_verdicts_as_text(monkeypatch, capsys):
    import json

    install_fake(monkeypatch, FakeEM("json", by_type(fail_type="ReplicaTaskSession")))
    result = run({"result_format": "json"}, capsys)
    assert result["failed"] is True and "HTTP 500" in result["msg"] and "compliance" not in result
    compliance = json.loads(result["compliance_json"])
    assert compliance["status"] == "error" and [e["code"] for e in compliance["errors"]] == [em_compliance.READ_ERROR]


@pytest.mark.parametrize("now", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_a_now_at_the_edge_of_the_calendar_is_an_option_error(monkeypatch, capsys, now):
    """Found (attack, session 15): now of year 9999 or 0001 is accepted, and then 'now - lookback_days' or the
    walk over the window's days overflows: an OverflowError traceback (for 9999-12-31 after reading EM).
    Expected: an error naming the option now and its value, before any request."""
    fake = FakeEM("json", paged_handler([synthetic_task_session(i) for i in range(3)], "json"))
    install_fake(monkeypatch, fake)
    monkeypatch.delenv("VEEAM_EM_SESSION_ID", raising=False)
    result = run_module(module, dict(CONNECTION, now=now), capsys)
    assert result.get("failed") and "option now" in result["msg"] and now in result["msg"]
    assert fake.calls == []


def clock_at(monkeypatch, text):
    """The controller's clock (UTC) the module compares ``now`` with, fixed."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_module, em_time

    monkeypatch.setattr(em_compliance_module, "utc_clock", lambda: em_time.parse_iso(text))


def recorded_warnings(monkeypatch):
    """ansible-core keeps warnings once per process (deduplicated): the calls are recorded instead."""
    from ansible.module_utils.basic import AnsibleModule

    calls = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, message, **kwargs: calls.append(message))
    return calls


def verdicts_of(result):
    """The evaluation without the replay mark."""
    return dict(result["compliance"], window=dict(result["compliance"]["window"], replayed=None, replay_hours=None))


def test_a_now_days_before_the_clock_is_warned_and_marked_as_a_replay_with_the_same_verdicts(fake, capsys, monkeypatch):
    """veeam_em_compliance_now left in group_vars replayed the same past night every night, reported as tonight's
    without a word. It is said (a warning naming the option, the value and the hours) and marked in the window, which
    the JSON report carries; the verdicts stay those of the night replayed."""
    import json

    warned = recorded_warnings(monkeypatch)
    clock_at(monkeypatch, "2025-07-01T06:30:00Z")
    replay = run({"report_formats": ["json", "html"]}, capsys)
    assert (replay["compliance"]["window"]["replayed"], replay["compliance"]["window"]["replay_hours"]) == (True, 48.5)
    assert ("now=2025-06-29T06:00:00Z is 48.5 hours (2.0 days) before the controller's clock (UTC): this run replays "
            "a past night") in json.dumps(warned)
    assert json.loads(replay["reports"]["json"])["window"]["replayed"] is True
    assert "<dt>Replay</dt><dd>a past night: the evaluation time is 48.5 hours before" in replay["reports"]["html"]
    clock_at(monkeypatch, "2025-06-29T06:00:05Z")
    del warned[:]
    tonight = run({}, capsys)
    assert (tonight["compliance"]["window"]["replayed"], tonight["compliance"]["window"]["replay_hours"]) == (False, None)
    assert "replays a past night" not in json.dumps(warned)
    assert verdicts_of(replay) == verdicts_of(tonight)


def test_a_now_a_day_before_the_clock_is_not_a_replay_and_a_second_more_is(fake, capsys, monkeypatch):
    clock_at(monkeypatch, "2025-06-30T06:00:00Z")
    assert run({}, capsys)["compliance"]["window"]["replayed"] is False
    clock_at(monkeypatch, "2025-06-30T06:00:01Z")
    assert run({}, capsys)["compliance"]["window"]["replayed"] is True
