"""What the evaluation's speed-ups (issue 18, h-evalspeed) must keep: the session tests' truth table, the
key order of the flattened findings (the result's JSON byte for byte), the worst finding of any scope as the
overall status, and the VM rows read in as few passes as the result needs (each pass over em_rows.PackedRows
decompresses every row)."""
import itertools

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance, em_rows
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import sessions as _sessions
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import summary as _summary

from .conftest import build_session

NOW = "2025-06-05T06:00:00Z"

STATES = [None, "", "Completed", "InProgress", "Pending", "Stopped", "completed", " Completed", 0, False]
ENDS = [None, "2025-06-05T01:10:00Z"]
RESULTS = [None, "", "Success", "Warning", "Failed", "success", 0]


@pytest.mark.parametrize("state,end,result,accept,has_state",
                         list(itertools.product(STATES, ENDS, RESULTS, (True, False), (True, False))))
def test_is_finished_and_is_success_keep_their_definitions(state, end, result, accept, has_state):
    """is_finished and is_success ask the state once (inlined for speed): their answers are the documented
    ones, spelled out here independently for every state, end and result (a Success in a state that does
    not say finished is no success: a false compliant)."""
    session = {"_end": end, "result": result}
    if has_state:
        session["state"] = state
    said = session.get("state")
    # session 15: in a state that is not running, an outcome other than a success finishes a session without an
    # end (EM's placeholder end is read as none): a Failed "Stopped" session was neither finished nor running
    # - an outcome that makes it finished and unsuccessful, never a success (a Warning needs an end: accept_warnings)
    outcome = result not in (None, "", "None", "Success", "Warning")
    ended = said not in ("InProgress", "Pending") and (said == "Completed" or end is not None)
    finished = ended or (said not in ("InProgress", "Pending") and outcome)
    says_finished = said is None or said == "" or said == "Completed"
    accepted = result == "Success" or (accept and result == "Warning")
    assert _sessions.is_running(session) is (said in ("InProgress", "Pending"))
    assert _sessions.is_finished(session) is finished
    assert bool(_sessions.is_success(session, accept)) is (ended and says_finished and accepted)
    assert bool(_sessions.is_unsuccessful(session, accept)) is (finished and not (says_finished and accepted))


FINDING_KEYS = ["code", "severity", "kind", "message", "session_uid", "session_name", "job_name", "time"]
PLACE_KEYS = ["scope", "vm_display_name", "vm_uid", "backup_server_name", "backup_server_uid", "text"]


def _finding(code, severity):
    return {"code": code, "severity": severity, "kind": None, "message": code, "session_uid": None,
            "session_name": None, "job_name": None, "time": None}


def _parts():
    rows = [{"vm_display_name": "vm01", "vm_uid": "urn:vm:1", "backup_server_name": "vbr01", "backup_server_uid": "u1",
             "status": "warning", "findings": [_finding("last_backup_warning", "warning")]},
            {"vm_display_name": "vm02", "vm_uid": None, "backup_server_name": "vbr01", "backup_server_uid": "u1",
             "status": "violation", "in_window": False,
             "findings": [_finding("rpo_exceeded", "violation"), _finding("long_running", "warning")]},
            {"vm_display_name": "vm03", "vm_uid": None, "backup_server_name": "vbr02", "backup_server_uid": None,
             "status": "compliant", "findings": []}]
    servers = [{"backup_server_name": "vbr02", "backup_server_uid": None, "findings": [_finding("clock_skew", "warning")]}]
    jobs = [{"backup_server_name": "vbr01", "findings": [_finding("job_failed", "violation")]}]
    return rows, servers, [_finding("partial_view", "error")], jobs


@pytest.mark.parametrize("packed", [False, True])
def test_flatten_all_gives_each_severity_in_order_with_a_fixed_key_order(packed):
    """One pass for the three lists: each in flatten's order (global, servers, VMs, jobs), each item the
    finding's keys then its place in one order (the JSON of the result and reports unchanged)."""
    rows, servers, global_findings, jobs = _parts()
    rows = em_rows.PackedRows(rows) if packed else rows
    counted = _summary.RowCounts()
    lists, worst = _summary.flatten_all(rows, servers, global_findings, jobs, on_row=counted)
    assert worst == "error"
    assert [(item["scope"], item["code"]) for item in lists["violation"]] == [("vm", "rpo_exceeded"), ("job", "job_failed")]
    assert [(item["scope"], item["code"]) for item in lists["warning"]] == [
        ("server", "clock_skew"), ("vm", "last_backup_warning"), ("vm", "long_running")]
    assert [(item["scope"], item["code"]) for item in lists["error"]] == [("global", "partial_view")]
    for items in lists.values():
        for item in items:
            assert list(item) == FINDING_KEYS + PLACE_KEYS
    assert lists["warning"][1]["text"] == "vbr01 / vm01: last_backup_warning - last_backup_warning"
    assert lists["violation"][1]["text"] == "vbr01 / job None: job_failed - job_failed"
    for severity in ("violation", "warning", "error"):
        assert _summary.flatten(rows, servers, global_findings, severity, jobs) == lists[severity]
    assert (counted.total, counted.statuses, counted.from_history) == (3, {"warning": 1, "violation": 1, "compliant": 1}, 1)


@pytest.mark.parametrize("where", ["global", "server", "vm", "job"])
def test_the_worst_finding_of_any_scope_is_the_overall_status(where):
    """status_of over every finding: a violation only on a job, a server, a VM or globally makes the run a
    violation (never compliant), whatever the other scopes say."""
    rows, servers, global_findings, jobs = _parts()
    for part in (rows, servers, jobs):
        for entry in part:
            entry["findings"] = [_finding("x", "warning")]
    global_findings = [_finding("x", "warning")]
    target = {"global": global_findings, "server": servers[0]["findings"], "vm": rows[2]["findings"],
              "job": jobs[0]["findings"]}[where]
    target.append(_finding("y", "violation"))
    _lists, worst = _summary.flatten_all(rows, servers, global_findings, jobs)
    assert worst == "violation"


def test_the_result_reads_the_packed_rows_in_two_passes(monkeypatch):
    """sort_rows (its keys, with the servers' VM counts taken on the way) and the result's lists and counts:
    one pass each over the packed VM rows (the servers and the result's lists, status and counts made six),
    with the same result as the list rows."""
    passes = []
    iterate = em_rows.PackedRows.__iter__

    def counted(self):
        passes.append(len(self))
        return iterate(self)
    monkeypatch.setattr(em_rows.PackedRows, "__iter__", counted)
    sessions = [build_session(vm="vm%02d" % number, vm_uid="urn:vm:%d" % number,
                              result="Failed" if number % 3 == 0 else "Success") for number in range(7)]
    fold = em_compliance.session_fold(NOW)
    fold.add(sessions, em_compliance.KIND_BACKUP)
    result = em_compliance.evaluate_fold(fold, packed=True)
    assert passes == [7, 7]
    expected = em_compliance.evaluate(sessions, now=NOW)
    assert dict(result, vms=list(result["vms"])) == expected
    assert result["summary"]["vms_total"] == 7 and result["summary"]["vms_violation"] == 3
    assert result["status"] == "violation"
    assert [(server["vms"], server["vms_compliant"], server["vms_violation"]) for server in result["servers"]] == [(7, 4, 3)]
    assert sorted(item["code"] for item in result["violations"]) == ["last_backup_failed"] * 3 + ["rpo_exceeded"] * 3
