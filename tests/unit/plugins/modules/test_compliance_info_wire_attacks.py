"""Attacks on the verdict through EM's own answers (session 15), each a night stated as the entities EM holds and
read by the compliance module over the fake EM's wire (wire_em: EM 12 JSON, EM 13 camelCase JSON, XML).

* A Failed task session in a state FACTS 5.2 does not list for task sessions ("Stopped", "Postprocessing",
  "Idle", an empty State or none) with EM's placeholder end time was neither finished nor running: no rule saw
  the failure, and the older success made the VM compliant (sessions.is_finished).
* EM answering the job-session queries with empty lists (200) while the task sessions name their job sessions
  (a narrower view: fewer objects, not an error, FACTS 1.3) made every backup task session a backup: a copy
  job's Success "recovered" a failed backup (fold.kind_of).
* A jobs query answered with an empty list instead of 403 was taken for a Portal Administrator: an account that
  saw one backup server judged it alone, compliant (em_compliance_read.view_limits).
"""
import pytest

from . import wire_em as wire

NOW = "2025-06-29T06:00:00Z"
MEDIA = [("json", False), ("json", True), ("xml", False)]


def _night_with_a_failure(state, end):
    ok = wire.job_session("Job A", "2025-06-28T08:00:00Z", "2025-06-28T09:00:00Z")
    bad = wire.job_session("Job A", "2025-06-29T01:00:00Z", "2025-06-29T02:00:00Z", result="Failed")
    tasks = [wire.task_session("db01", ok, "2025-06-28T08:00:05Z", "2025-06-28T08:30:00Z"),
             wire.task_session("db01", bad, "2025-06-29T01:00:05Z", end, state=state, result="Failed",
                               reason="Error: Failed to create VM snapshot")]
    return {"BackupTaskSession": tasks, "BackupJobSession": [ok, bad], "BackupServer": [wire.server_entity()],
            "Job": [wire.JOB_ENTITY]}


@pytest.mark.parametrize("media, camel", MEDIA)
@pytest.mark.parametrize("state", ["Stopped", "Postprocessing", "Idle", "", None])
@pytest.mark.parametrize("end", ["1900-01-01T00:00:00Z", "0001-01-01T00:00:00"])
def test_a_failed_run_in_an_undocumented_state_with_a_placeholder_end_is_a_failure(monkeypatch, capsys, media, camel,
                                                                                   state, end):
    result, _fake = wire.run(monkeypatch, capsys, _night_with_a_failure(state, end), NOW, media=media, camel=camel,
                             check_replicas=False, check_jobs=False)
    assert wire.verdicts(result)["db01"] == ("violation", ["last_backup_failed"])


@pytest.mark.parametrize("state, end", [("Completed", "1900-01-01T00:00:00Z"), ("Stopped", "2025-06-29T01:20:00Z")])
def test_controls_a_completed_or_ended_failure(monkeypatch, capsys, state, end):
    result, _fake = wire.run(monkeypatch, capsys, _night_with_a_failure(state, end), NOW, check_replicas=False)
    assert wire.verdicts(result)["db01"][0] == "violation"


def test_a_success_in_an_undocumented_state_without_an_end_is_still_no_success(monkeypatch, capsys):
    served = _night_with_a_failure("Completed", "2025-06-29T01:20:00Z")
    served["BackupTaskSession"][1].update(State="Stopped", EndTimeUTC="1900-01-01T00:00:00Z", Result="Success")
    result, _fake = wire.run(monkeypatch, capsys, served, NOW, check_replicas=False, backup_rpo_hours=12)
    assert wire.verdicts(result)["db01"] == ("violation", ["rpo_exceeded"])   # the 08:00 success of the day before


def _night_with_a_copy(job_sessions_served):
    ok = wire.job_session("Job A", "2025-06-28T08:00:00Z", "2025-06-28T09:00:00Z")
    bad = wire.job_session("Job A", "2025-06-29T01:00:00Z", "2025-06-29T02:00:00Z", result="Failed")
    copy = wire.job_session("Copy A", "2025-06-29T03:00:00Z", "2025-06-29T03:30:00Z", job_type="BackupCopy")
    tasks = [wire.task_session("db01", ok, "2025-06-28T08:00:05Z", "2025-06-28T08:30:00Z"),
             wire.task_session("db01", bad, "2025-06-29T01:00:05Z", "2025-06-29T01:30:00Z", result="Failed",
                               reason="Error: Failed to create VM snapshot"),
             wire.task_session("db01", copy, "2025-06-29T03:00:05Z", "2025-06-29T03:20:00Z")]
    return {"BackupTaskSession": tasks, "BackupJobSession": [ok, bad, copy] if job_sessions_served else [],
            "BackupServer": [wire.server_entity()], "Job": [wire.JOB_ENTITY]}


def test_job_sessions_em_does_not_return_never_make_a_copy_a_backup(monkeypatch, capsys):
    control, _fake = wire.run(monkeypatch, capsys, _night_with_a_copy(True), NOW, check_replicas=False)
    assert wire.verdicts(control)["db01"][0] == "violation" and "last_backup_failed" in wire.verdicts(control)["db01"][1]
    result, _fake = wire.run(monkeypatch, capsys, _night_with_a_copy(False), NOW, check_replicas=False)
    named = result["queries"]["named_job_sessions"]
    assert named["asked"] == 3 and named["items"] == 0   # asked again by UID: EM withheld them
    assert wire.verdicts(result)["db01"][0] == "violation" and result["compliance"]["compliant"] is False
    assert "job_type_unknown" in [item["code"] for item in result["compliance"]["warnings"]]


def _narrow_view():
    """What a narrower account sees: vbr01 only (the other server and its failing VM are out of its scope)."""
    job_session = wire.job_session("Job A", "2025-06-28T21:00:00Z", "2025-06-28T22:00:00Z")
    tasks = [wire.task_session("db01", job_session, "2025-06-28T21:00:05Z", "2025-06-28T21:30:00Z")]
    return {"BackupTaskSession": tasks, "BackupJobSession": [job_session], "BackupServer": [wire.server_entity()],
            "Job": []}


def test_an_empty_job_list_is_no_proof_of_a_portal_administrator(monkeypatch, capsys):
    refused, _fake = wire.run(monkeypatch, capsys, _narrow_view(), NOW, deny=("Job",), check_replicas=False)
    assert [item["code"] for item in refused["compliance"]["errors"]] == ["partial_view"]   # control: a 403
    result, _fake = wire.run(monkeypatch, capsys, _narrow_view(), NOW, check_replicas=False)
    compliance = result["compliance"]
    assert result["queries"]["account_reach"]["items"] == 0
    assert compliance["status"] == "error" and [item["code"] for item in compliance["errors"]] == ["partial_view"]
    assert "listed no job" in compliance["errors"][0]["message"]
    allowed, _fake = wire.run(monkeypatch, capsys, _narrow_view(), NOW, check_replicas=False, allow_partial_view=True)
    assert allowed["compliance"]["status"] == "warning"


# ---- pages fetched in parallel while EM inserts a session (known gap, session 15) ------------------------------

def _late_collection(racing):
    """Nine window sessions on three pages of three; EM collects one late session (a past time, in page 1's range)
    right after serving page 3 - and, racing, serves page 2 only after that (the pages are fetched in parallel)."""
    import threading
    from unit.plugins.module_utils.em_fake import Reply, paging_info, query_result_json
    job_session = wire.job_session("Job A", "2025-06-28T20:00:00Z", "2025-06-28T23:00:00Z")
    names = ["db01", "app01", "app02", "app03", "app04", "db01", "app05", "app06", "app07"]
    old = []
    for number, name in enumerate(names):
        item = wire.task_session(name, job_session, "2025-06-28T20:%02d:00Z" % (number * 5),
                                 "2025-06-28T20:%02d:30Z" % (number * 5), result="Failed" if number == 5 else "Success")
        old.append(item)
    late = wire.task_session("late01", job_session, "2025-06-28T20:02:00Z", "2025-06-28T20:03:00Z")
    state = {"items": list(old), "page3_served": threading.Event()}

    def hook(call, _items):
        if "sortAsc" not in call.query:
            return None
        page, size = int(call.query["page"]), int(call.query["pageSize"])
        if racing and page == 2:
            state["page3_served"].wait(5)
        items = sorted(state["items"], key=lambda item: item["CreationTimeUTC"])
        body = query_result_json("BackupTaskSessions", items[(page - 1) * size: page * size],
                                 paging_info(page, max(1, -(-len(items) // size)), size))
        if page == 3 and late not in state["items"]:
            state["items"].append(late)
            state["page3_served"].set()
        return Reply(200, body)
    served = {"BackupTaskSession": old, "BackupJobSession": [job_session], "BackupServer": [wire.server_entity()],
              "Job": [wire.JOB_ENTITY]}
    return served, {"BackupTaskSession": hook}


def test_a_late_collected_session_read_in_page_order_loses_nothing(monkeypatch, capsys):
    served, hooks = _late_collection(racing=False)
    result, _fake = wire.run(monkeypatch, capsys, served, NOW, hooks=hooks, check_replicas=False, check_jobs=False,
                             page_size=3, concurrency=1)
    assert wire.verdicts(result)["db01"] == ("violation", ["last_backup_failed"])


@pytest.mark.xfail(strict=True, reason=(
    "known gap, not fixed (session 15): em_pager._walk_parallel fetches pages 2..N at once and drops duplicates by "
    "UID, which holds when EM inserts a session before or after the walk, or while the pages are served in order; "
    "EM serving page 3 before page 2 with a late-collected session (a past time) inserted in between moves the old "
    "page 2's last session onto neither page. Nothing in the pages shows it (no duplicate, no count change). A "
    "sound fix reads again the range between each two pages (a narrow CreationTime query per boundary, in "
    "parallel, after the walk): more requests than one a page, and every request count the tests and the bench "
    "pin changes - left for its own change. The next night reads the window again (the history cache's overlap "
    "too), so the session is not lost for good"))
def test_a_late_collected_session_between_pages_served_out_of_order_is_not_lost(monkeypatch, capsys):
    served, hooks = _late_collection(racing=True)
    result, _fake = wire.run(monkeypatch, capsys, served, NOW, hooks=hooks, check_replicas=False, check_jobs=False,
                             page_size=3, concurrency=4)
    assert wire.verdicts(result)["db01"] == ("violation", ["last_backup_failed"])
