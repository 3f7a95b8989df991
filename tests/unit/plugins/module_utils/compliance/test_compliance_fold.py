"""The session fold (issue 18): sessions folded per (server, VM) as pages arrive give the verdicts of
the list-based evaluation, whatever the order of the pages, with nothing counted twice.

The reference is frozen: data/evaluate_reference.json.gz holds every em_compliance.evaluate call
the unit tests made (inputs and result) with the list-based evaluation before the fold (commit
030a9f6); data/fleet_reference.json.gz the module reader's verdicts of an emulator fleet then
(tests/integration/test_compliance_fold_equivalence.py reads the fleet again).
"""
import gzip
import json
import os
import random
import re

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import fold as _fold

from .conftest import build_session, plus_minutes

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
COMPLIANCE_DIR = os.path.dirname(_fold.__file__)
NOW = "2025-06-05T06:00:00Z"


def _reference_calls():
    with gzip.open(os.path.join(DATA, "evaluate_reference.json.gz"), "rt") as handle:
        return json.load(handle)


REFERENCE = _reference_calls()


def test_the_reference_holds_the_unit_datasets():
    """Not an empty comparison: the frozen calls cover the rule tests' datasets."""
    assert len(REFERENCE) == 196
    assert sum(1 for call in REFERENCE if call["result"]["vms"]) > 150


@pytest.mark.parametrize("index", range(len(REFERENCE)))
def test_the_fold_gives_the_list_based_verdicts(index):
    """Every verdict, finding, row, server, job and count of the list-based evaluation."""
    call = REFERENCE[index]
    result = em_compliance.evaluate(*call["args"], **call["kwargs"])
    assert json.loads(json.dumps(result)) == call["result"]


@pytest.fixture
def walk_split(monkeypatch):
    """Every evaluation's VM walk split with a child process (em_compliance._walk_vms ``beside``), from 2 VMs; the
    ``joined`` holds True for each walk joined from a child's answer (not walked again here after a lost child),
    ``plans`` the number of VMs of each walk."""
    joined, plans = [], []
    walk_plan = _fold.SessionFold.walk_plan
    monkeypatch.setattr(_fold.SessionFold, "walk_plan", lambda fold: plans.append(len(walk_plan(fold))) or walk_plan(fold))
    monkeypatch.setattr(em_compliance, "WALK_BESIDE_FROM_VMS", 2)
    walk_vms, join_walk = em_compliance._walk_vms, em_compliance._join_walk
    monkeypatch.setattr(em_compliance, "_walk_vms", lambda *args, **kwargs: walk_vms(*args, **dict(kwargs, beside=True)))
    monkeypatch.setattr(em_compliance, "_join_walk", lambda *args: joined.append(True) or join_walk(*args))
    return joined, plans


@pytest.mark.parametrize("index", range(len(REFERENCE)))
def test_a_walk_split_with_a_child_process_gives_the_same_verdicts(index, walk_split):
    """The module's walk from WALK_BESIDE_FROM_VMS VMs: half of the VMs walked by a child process, its rows,
    servers, jobs and counts joined after the parent's - every verdict, row, server, job and count as one walk."""
    call = REFERENCE[index]
    result = em_compliance.evaluate(*call["args"], **call["kwargs"])
    assert json.loads(json.dumps(result)) == call["result"]
    joined, plans = walk_split
    assert len(plans) == 1 and joined == ([True] if plans[0] >= 2 else [])
    assert sum(1 for call in REFERENCE if len(call["result"]["vms"]) >= 2) > 50   # not a handful split


def _fleet(vms=12, days=10):
    """Backups of a copy job and a backup job, replicas, failures, retries and one running session."""
    sessions, replicas, jobs = [], [], []
    start = "2025-05-26T01:00:00Z"
    for day in range(days):
        for vm in range(vms):
            created = plus_minutes(start, day * 1440 + vm * 7)
            failed = (day + vm) % 5 == 0
            sessions.append(build_session(vm="vm%02d" % vm, created=created, vm_uid="urn:vm:%d" % vm,
                                          result="Failed" if failed else "Success", job="Backup Job 1"))
            if failed and vm % 2:  # the retry
                sessions.append(build_session(vm="vm%02d" % vm, created=plus_minutes(created, 30),
                                              vm_uid="urn:vm:%d" % vm, job="Backup Job 1"))
            if vm % 3 == 0:
                sessions.append(build_session(vm="vm%02d" % vm, created=plus_minutes(created, 120),
                                              vm_uid="urn:vm:%d" % vm, job="Copy Job 1",
                                              result="Warning" if day % 4 == 0 else "Success"))
            if vm % 4 == 0:
                replicas.append(build_session(vm="vm%02d" % vm, created=plus_minutes(created, 60), kind="replica",
                                              result="Success" if day % 3 else "Failed"))
    sessions.append(build_session(vm="vm01", created="2025-06-04T20:00:00Z", vm_uid="urn:vm:1", result=None,
                                  state="InProgress", end=None))
    for job, kind in (("Backup Job 1", "Backup"), ("Copy Job 1", "BackupSync")):
        jobs.append({"uid": "urn:veeam:BackupJobSession:%s" % job, "name": job, "job_name": job, "job_type": kind,
                     "backup_server_name": "vbr01.example.com", "creation_time": "2025-06-04T01:00:00Z",
                     "end_time": "2025-06-04T02:00:00Z", "state": "Stopped", "result": "Success", "is_retry": False})
    return sessions, replicas, jobs


def _pages(items, size):
    return [items[index:index + size] for index in range(0, len(items), size)]


def _folded(pages, replica_pages=(), history_pages=(), jobs=None, **options):
    fold = em_compliance.session_fold(NOW, **options)
    for page in pages:
        fold.add(page, em_compliance.KIND_BACKUP)
    for page in replica_pages:
        fold.add(page, em_compliance.KIND_REPLICA)
    for page in history_pages:
        fold.add_history(page, em_compliance.KIND_BACKUP)
    return em_compliance.evaluate_fold(fold, jobs)


def test_pages_in_any_order_give_the_verdicts_of_the_list():
    sessions, replicas, jobs = _fleet()
    expected = em_compliance.evaluate(sessions, replicas, now=NOW, job_sessions=jobs, max_duration_minutes=5)
    assert expected["summary"]["copy_sessions"] > 0 and expected["warnings"] and expected["violations"]
    pages, replica_pages = _pages(sessions, 7), _pages(replicas, 5)
    for seed in range(3):
        random.Random(seed).shuffle(pages)
        random.Random(seed).shuffle(replica_pages)
        assert _folded(pages, replica_pages, jobs=jobs, max_duration_minutes=5) == expected


def test_a_session_read_twice_is_folded_once():
    """EM inserts during the walk (a session on two pages) or a relogon restarts it: counted once."""
    sessions, replicas, jobs = _fleet()
    expected = em_compliance.evaluate(sessions, replicas, now=NOW, job_sessions=jobs)
    pages = _pages(sessions, 10)
    again = pages + pages[:3] + [pages[5][-1:] + pages[6][:1]]
    result = _folded(again, _pages(replicas, 4) * 2, jobs=jobs)
    assert result["summary"]["sessions_read"] == len(sessions) + len(replicas)
    assert result == expected


def test_a_running_session_read_again_finished_keeps_the_finished_one_in_any_order():
    running = build_session(vm="vm01", created="2025-06-05T01:00:00Z", result=None, state="InProgress", end=None)
    finished = dict(running, state="Completed", result="Failed", end_time="2025-06-05T05:00:00Z")
    for pages in ([[running], [finished]], [[finished], [running]]):
        result = _folded(pages)
        row = result["vms"][0]
        assert (row["backup"]["sessions"], row["backup"]["failed"], row["backup"]["running"]) == (1, 1, 0)
        assert row["reasons"] == [em_compliance.RPO_EXCEEDED, em_compliance.LAST_BACKUP_FAILED]


def test_a_vm_whose_only_session_is_in_the_history_is_judged_with_its_real_age():
    old = build_session(vm="gone01", created="2025-05-20T01:00:00Z")
    older = build_session(vm="gone01", created="2025-05-10T01:00:00Z")
    current = build_session(vm="vm01", created="2025-06-05T01:00:00Z")
    result = _folded([[current]], history_pages=[[older], [old]])
    gone = [row for row in result["vms"] if row["vm_display_name"] == "gone01"][0]
    assert gone["in_window"] is False and gone["status"] == em_compliance.STATUS_VIOLATION
    assert gone["backup"]["last_success_time"] == "2025-05-20T01:00:00Z"
    assert gone["findings"][0]["code"] == em_compliance.RPO_EXCEEDED
    assert result["summary"]["vms_from_history"] == 1
    # the older history session of the same VM, job and result is folded away (as before the fold)
    assert result["summary"]["sessions_read"] == 2


def test_the_history_keeps_the_newest_per_vm_job_and_result_whatever_the_page_order():
    history = [build_session(vm="gone01", created="2025-05-%02dT01:00:00Z" % day) for day in range(1, 20)]
    for pages in (_pages(history, 4), list(reversed(_pages(history, 4)))):
        fold = em_compliance.session_fold(NOW)
        for page in pages:
            fold.add_history(page, em_compliance.KIND_BACKUP)
        kept = [fold._packer.unpack(packed) for _created, packed in fold.history.values()]
        assert len(kept) == 1 and _fold.created(kept[0]).day == 19


def test_a_session_in_the_window_and_the_history_keeps_the_window_read():
    """The history is read with identity keys only: the window's read (its reason) is kept."""
    session = build_session(vm="vm01", created="2025-06-05T01:00:00Z", result="Failed", reason="disk full")
    identity = dict((key, session[key]) for key in em_compliance.BACKUP_HISTORY_FIELDS + ("uid",))
    result = _folded([[session]], history_pages=[[identity]])
    assert result["summary"]["sessions_read"] == 1
    assert result["vms"][0]["findings"][1]["message"] == "last backup ended with Failed: disk full"


def test_copies_are_typed_by_their_job_after_the_pages_are_folded():
    sessions, _replicas, jobs = _fleet()
    result = _folded(_pages(sessions, 9), jobs=jobs)
    copied = [row for row in result["vms"] if row["copy"]]
    start = result["window"]["start"]
    in_window = [s for s in sessions if s["job_name"] == "Copy Job 1" and s["creation_time"] >= start]
    assert len(copied) == 4 and len(in_window) == 24  # 6 days x 4 VMs
    assert sum(row["copy"]["sessions"] for row in copied) == result["summary"]["copy_sessions"] == len(in_window)
    untyped = _folded(_pages(sessions, 9))
    assert not any(row["copy"] for row in untyped["vms"])
    assert untyped["summary"]["backup_sessions_job_type_unknown"] == result["summary"]["backup_sessions"] \
        + result["summary"]["copy_sessions"]


def test_a_running_session_is_kept_and_judged_stuck():
    running = build_session(vm="vm01", created="2025-06-04T01:00:00Z", result=None, state="InProgress", end=None)
    result = _folded([[build_session(vm="vm01", created="2025-06-03T01:00:00Z")], [running]])
    assert em_compliance.STUCK_SESSION in result["vms"][0]["reasons"]
    assert result["vms"][0]["backup"]["running"] == 1


def test_the_fold_keeps_every_key_the_rules_read():
    """A key a rule reads (``.get("...")`` in _compliance/) that the fold drops would read as None."""
    read = set()
    for name in os.listdir(COMPLIANCE_DIR):
        if name.endswith(".py") and name not in ("fold.py", "history_cache.py"):  # the cache reads its own file
            with open(os.path.join(COMPLIANCE_DIR, name)) as handle:
                read.update(re.findall(r'\.get\("([a-z_]+)"', handle.read()))
    # not task-session keys: job sessions, rows, findings, CMDB entries, or the parsed times
    others = {"is_retry", "job_id", "job_type", "job_uid", "end_time", "creation_time", "in_window", "scope",
              "backup_server", "vm", "_end", "_point_created", "restore_point_time", "replica_point_time",
              "jobs"}  # jobs: a VM row's job names (expected.ScopeHits)
    assert read - others <= set(_fold.RECORD_KEYS), read - others - set(_fold.RECORD_KEYS)


@pytest.mark.parametrize("changes", [
    {},
    {"reason": "", "job_name": None, "restore_point_uid": "no-colon", "end_time": None},
    {"reason": "a\x1fb"},              # the separator: kept as a tuple
    {"result": 3},                      # not a string: kept as a tuple
    {"creation_time": "2025-06-05T01:00:00.1234567Z", "restore_point_time": "2025-06-05T00:59:00+02:00"},
])
def test_a_packed_record_unpacks_to_the_same_values(changes):
    item = dict(build_session(vm="vm01", vm_uid="urn:vm:1"), **changes)
    packer = _fold._Packer()
    fold = em_compliance.session_fold(NOW)
    record = fold._record(item, em_compliance.KIND_BACKUP, False)
    packed = packer.pack(record)
    assert isinstance(packed, tuple) == (changes in ({"reason": "a\x1fb"}, {"result": 3}))
    assert packer.unpack(packed) == record
    assert _fold.as_session(packer.unpack(packed), "backup")["reason"] == item["reason"]


def test_vms_of_equal_sort_key_keep_the_order_of_their_oldest_session():
    """Two rows alike for sort_rows (same server name, VM name, no VM UID; two server UIDs): the
    list-based evaluation listed them in the order of their oldest session; so does the fold."""
    older = build_session(vm="vm01", created="2025-06-05T01:00:00Z", server_uid="urn:veeam:BackupServer:b")
    newer = build_session(vm="vm01", created="2025-06-05T02:00:00Z", server_uid="urn:veeam:BackupServer:a")
    newest = build_session(vm="vm01", created="2025-06-05T03:00:00Z", server_uid="urn:veeam:BackupServer:b")
    for pages in ([[newer], [newest], [older]], [[older, newest], [newer]]):
        result = _folded(pages)
        assert [row["status"] for row in result["vms"]] == [em_compliance.STATUS_COMPLIANT] * 2
        servers = [row["backup_server_uid"] for row in result["vms"]]
        assert servers == ["urn:veeam:BackupServer:b", "urn:veeam:BackupServer:a"]
