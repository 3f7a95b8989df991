"""The order the fold walks its VMs in (issue 18): a group keeps only the creation time of its oldest
session (an int), and VMs whose oldest sessions were created at the same time are ordered by the full
sort key (creation time, UID, kind rank) of those sessions, as sorted() of the full keys did.

Seen in the result through two rows alike for sort_rows (same server name, VM name, no VM UID; two
server UIDs), which stay in the walk's order."""
import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance

from .conftest import build_session

NOW = "2025-06-05T06:00:00Z"
SAME = "2025-06-05T01:00:00Z"


def _walked_servers(pages, replica_pages=()):
    fold = em_compliance.session_fold(NOW)
    for page in pages:
        fold.add(page, em_compliance.KIND_BACKUP)
    for page in replica_pages:
        fold.add(page, em_compliance.KIND_REPLICA)
    return [row["backup_server_uid"] for row in em_compliance.evaluate_fold(fold)["vms"]]


def _on(server, uid, created=SAME, kind="backup"):
    item = build_session(vm="vm01", created=created, server_uid="urn:veeam:BackupServer:" + server, kind=kind)
    item["uid"] = uid
    return item


@pytest.mark.parametrize("reverse", [False, True])
def test_oldest_sessions_created_at_the_same_time_are_ordered_by_uid(reverse):
    pages = [[_on("a", "urn:veeam:BackupTaskSession:2")], [_on("b", "urn:veeam:BackupTaskSession:1")],
             [_on("a", "urn:veeam:BackupTaskSession:3", created="2025-06-05T00:30:00Z", kind="replica")]]
    backups = pages[:2][::-1] if reverse else pages[:2]
    # an older session (a replica of vm01 on server a) makes a's VM the oldest: the creation time decides
    assert _walked_servers(backups, [pages[2][0:1]]) == ["urn:veeam:BackupServer:a", "urn:veeam:BackupServer:b"]
    assert _walked_servers(backups) == ["urn:veeam:BackupServer:b", "urn:veeam:BackupServer:a"]


def test_then_by_kind_backup_before_replica():
    """Same creation time and UID: the backup's VM (rank 0) before the replica's (rank 1), whichever
    kind is filed first."""
    backup, replica = _on("a", "urn:veeam:X:1"), _on("b", "urn:veeam:X:1", kind="replica")
    fold = em_compliance.session_fold(NOW)
    for page, kind in ([replica], em_compliance.KIND_REPLICA), ([backup], em_compliance.KIND_BACKUP):
        fold.add(page, kind)
    assert [row["backup_server_uid"] for row in em_compliance.evaluate_fold(fold)["vms"]] == [
        "urn:veeam:BackupServer:a", "urn:veeam:BackupServer:b"]


def test_without_uids_the_first_filed_comes_first():
    """Sessions without a UID: equal keys; the VM filed first (page order) comes first, as sorted() kept it."""
    first, second = _on("b", None), _on("a", None)
    assert _walked_servers([[first], [second]]) == ["urn:veeam:BackupServer:b", "urn:veeam:BackupServer:a"]
    assert _walked_servers([[second], [first]]) == ["urn:veeam:BackupServer:a", "urn:veeam:BackupServer:b"]


def _one_vm(reads):
    fold = em_compliance.session_fold(NOW)
    for page in reads:
        fold.add(page, em_compliance.KIND_BACKUP)
    return em_compliance.evaluate_fold(fold)["vms"]


def test_a_session_read_twice_keeps_the_later_finished_read():
    """The same session (UID) read twice, both finished, with other results: the later read is kept.
    The history cache's lines are folded before EM's pages, so this is EM's answer over the file's
    (an edited cached line that moved a Failed session out of the range EM is asked again and made it a
    Success hid EM's Failed: a false compliant; the attack test is in test_compliance_attack_cache_records).
    A finished read still wins over a running one, in either order."""
    failed = _on("a", "urn:veeam:BackupTaskSession:9", created="2025-06-05T04:00:00Z")
    failed.update(result="Failed", reason="Storage is not available")
    edited = dict(failed, result="Success", reason="", creation_time="2025-06-05T03:00:00Z",
                  end_time="2025-06-05T03:10:00Z")
    rows = _one_vm([[edited], [failed]])
    assert [row["status"] for row in rows] == ["violation"]
    assert "last_backup_failed" in rows[0]["reasons"]
    assert [row["status"] for row in _one_vm([[failed], [edited]])] == ["compliant"]  # the later read, as said
    running = dict(failed, state="InProgress", result="None", end_time=None)
    for reads in ([[failed], [running]], [[running], [failed]]):
        rows = _one_vm(reads)
        assert "last_backup_failed" in rows[0]["reasons"], reads


# ---- a session in two groups of one VM (fold._across_parts) ------------------------------------------------------

def _read_of(result, hours_before, history=False, state="Completed"):
    """The record of one session (one UID) as one read gives it: its result and its end ``hours_before`` T."""
    from datetime import datetime, timedelta, timezone
    from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.packing import RECORD_KEYS
    values = dict((key, None) for key in RECORD_KEYS)
    values.update(uid="urn:veeam:BackupTaskSession:1", result=result, state=state, vm_display_name="db01")
    end = datetime(2025, 6, 5, tzinfo=timezone.utc) - timedelta(hours=hours_before)
    return tuple(values[key] for key in RECORD_KEYS) + (end - timedelta(hours=1), end, None, "backup", history)


@pytest.mark.parametrize("first, second, kept", [
    (("Success", 1), ("Failed", 30), ("Failed", 30)),       # the worse result, wherever its group is
    (("Warning", 1), ("Success", 1), ("Warning", 1)),
    (("Success", 1), ("Success", 30), ("Success", 30)),      # a result alike: the older point in time
    (("Failed", 1), ("Failed", 1), ("Failed", 1)),
], ids=["failed", "warning", "older", "same"])
def test_a_session_in_two_groups_of_one_vm_keeps_its_worse_read_in_either_order(first, second, kept):
    from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import fold
    for parts in ([[_read_of(*first)], [_read_of(*second)]], [[_read_of(*second)], [_read_of(*first)]]):
        assert fold._across_parts(parts) == [_read_of(*kept)]


def test_a_session_in_two_groups_keeps_the_window_s_and_the_finished_read_first():
    # unique_records' two rules come before the worse result: a history copy or a running one never hides the other
    from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import fold
    window, history = _read_of("Success", 1), _read_of("Failed", 30, history=True)
    finished, running = _read_of("Success", 1), _read_of(None, 1, state="InProgress")
    for one, other, kept in ((window, history, window), (finished, running, finished)):
        assert fold._across_parts([[one], [other]]) == [kept]
        assert fold._across_parts([[other], [one]]) == [kept]


def test_a_running_read_wins_over_a_finished_one_of_another_creation_time():
    # a cache line is never running: a finished read that disagrees on the creation time is an edited line, and
    # EM's running read of the session (a stuck one) is kept, in either order (test_compliance_attack_running_lines)
    from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import fold
    running = _read_of(None, 1, state="InProgress")
    forged = _read_of("Success", 150)   # another end, and so another creation time
    assert forged[fold._CREATED] != running[fold._CREATED]
    assert fold._across_parts([[forged], [running]]) == [running]
    assert fold._across_parts([[running], [forged]]) == [running]
    assert fold.unique_records([forged, running]) == [running]   # one group: the later read, EM's
