"""Attack: two VMs of one name in one job session are one row before EM 13 (no VmUid).

FACTS 5.2: ``VmUid`` is documented from EM 13; older answers name a VM by its display name only, so the
compliance rules key such a VM by (backup server, name). Two VMs of one name (two vCenters or Hyper-V
hosts behind one backup server) in one job are one row: when one fails and the other succeeds in the same
run, the newest session of the pair decides and the failure can be hidden (the row read compliant).
One job session processes each VM once [INF: retries are separate job sessions, FACTS 5.4 IsRetry], so
two task sessions of one name in one job session are two VMs: the row says so (ambiguous_vm), a
violation when their outcomes differ, a warning while they agree.
"""
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate
from unit.plugins.module_utils.compliance.conftest import build_session as session

NOW = "2025-06-05T06:00:00Z"
JOB_SESSION = "urn:veeam:BackupJobSession:11111111-2222-3333-4444-555555555555"


def only_row(result):
    assert len(result["vms"]) == 1
    return result["vms"][0]


def test_a_failed_twin_is_not_hidden_by_the_successful_one():
    failed = session(vm="db01", created="2025-06-05T01:00:00Z", result="Failed", job_session_uid=JOB_SESSION)
    ok = session(vm="db01", created="2025-06-05T01:00:05Z", job_session_uid=JOB_SESSION)
    result = evaluate([failed, ok], now=NOW)
    row = only_row(result)
    # (the pair still reads as a recovered failure to the other rules; the ambiguity decides the status)
    assert row["reasons"] == ["recovered_failure", "ambiguous_vm"] and row["status"] == "violation"
    assert result["compliant"] is False
    finding = row["findings"][-1]
    assert finding["severity"] == "violation" and finding["session_uid"] == failed["uid"]
    assert finding["message"] == (
        "2 backup task sessions of VMs named db01 ran in one job session (%s) with different outcomes "
        "(Failed, Success): EM sends no VmUid (before EM 13), so VMs of one name on one backup server are one "
        "row and one's failure can hide behind another's success" % JOB_SESSION)


def test_twins_that_agree_are_a_warning():
    result = evaluate([session(vm="db01", created="2025-06-05T01:00:00Z", job_session_uid=JOB_SESSION),
                       session(vm="db01", created="2025-06-05T01:00:05Z", job_session_uid=JOB_SESSION)], now=NOW)
    row = only_row(result)
    assert row["reasons"] == ["ambiguous_vm"] and row["status"] == "warning" and result["compliant"] is True


def test_vms_with_a_vm_uid_are_told_apart():
    result = evaluate([session(vm="db01", vm_uid="urn:VMware:Vm:a.vm-1", result="Failed", job_session_uid=JOB_SESSION),
                       session(vm="db01", vm_uid="urn:VMware:Vm:b.vm-2", job_session_uid=JOB_SESSION)], now=NOW)
    assert sorted(row["status"] for row in result["vms"]) == ["compliant", "violation"]
    assert all("ambiguous_vm" not in row["reasons"] for row in result["vms"])


def test_one_vm_in_two_job_sessions_is_one_vm():
    result = evaluate([session(vm="db01", created="2025-06-05T00:00:00Z", result="Failed"),
                       session(vm="db01", created="2025-06-05T01:00:00Z")], now=NOW)
    assert only_row(result)["reasons"] == ["recovered_failure"]


def test_the_same_session_read_twice_is_not_a_twin():
    one = session(vm="db01", created="2025-06-05T01:00:00Z", job_session_uid=JOB_SESSION)
    assert only_row(evaluate([one, dict(one)], now=NOW))["reasons"] == []


# Found (helper attack, session 14), fixed: replica task sessions carry no VmUid on any EM (FACTS 5.3), so two VMs
#  of one name replicated by one backup server are always one row - and the replica read did not read their job
#  session (REPLICA_TASK_SESSION_FIELDS; fold._READ made it None), so ambiguous_vm could never say so: one twin
#  Failed, the other Success in the same run read as a recovered failure, compliant. JobSessionUid is read now.
REPLICA_JOB_SESSION = "urn:veeam:ReplicaJobSession:11111111-2222-3333-4444-555555555555"


def test_replica_twins_in_one_replica_job_session_are_not_one_success():
    failed = session(vm="app01", kind="replica", created="2025-06-05T01:00:00Z", result="Failed",
                     job_session_uid=REPLICA_JOB_SESSION)
    ok = session(vm="app01", kind="replica", created="2025-06-05T01:00:05Z", job_session_uid=REPLICA_JOB_SESSION)
    result = evaluate([], [failed, ok], now=NOW)
    row = only_row(result)
    assert "ambiguous_vm" in row["reasons"] and row["status"] == "violation", row
    assert result["compliant"] is False


def test_one_replicated_vm_in_two_replica_job_sessions_is_one_vm():
    # the control: a VM replicated twice (two runs) is no twin
    first = session(vm="app01", kind="replica", created="2025-06-04T01:00:00Z", result="Failed",
                    job_session_uid=REPLICA_JOB_SESSION)
    second = session(vm="app01", kind="replica", created="2025-06-05T01:00:00Z",
                     job_session_uid=REPLICA_JOB_SESSION.replace("1111", "9999"))
    row = only_row(evaluate([], [first, second], now=NOW))
    assert "ambiguous_vm" not in row["reasons"], row
