# -*- coding: utf-8 -*-
"""The module's VM walk split with a child process (issue 18, em_compliance._walk_vms ``beside``): the servers'
entries of two walks joined as one walk makes them (servers.join_server_notes), the verdicts of a split walk the
same as one walk's, and a child that fails changes nothing but the time. The frozen reference calls run split too:
test_compliance_fold.test_a_walk_split_with_a_child_process_gives_the_same_verdicts."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import random
import signal

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance, em_files
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import servers as _servers

from .conftest import build_session, moment

NOW = "2025-06-05T06:00:00Z"


def _noted(sessions, start):
    servers = {}
    for session in sessions:
        _servers.note_server_session(servers, session, (session["_created"], session.get("uid") or ""), start)
    return servers


def _random_sessions(rng, count):
    """Sessions of three servers, some without a name or a UID, their times in any order, ties included."""
    sessions = []
    for _index in range(count):
        server = rng.choice(["vbr01", "vbr02", "vbr03"])
        session = build_session(vm="vm%d" % rng.randrange(5), server=rng.choice([server, server.upper(), None, ""]),
                                server_uid="urn:veeam:BackupServer:%s" % server,
                                created="2025-06-0%dT0%d:00:00Z" % (rng.randrange(1, 5), rng.randrange(0, 3)))
        if rng.random() < 0.2:
            session["uid"] = None
        session["_created"] = moment(session["creation_time"])
        sessions.append(session)
    return sessions


@pytest.mark.parametrize("seed", range(40))
def test_two_walks_joined_are_one_walk(seed):
    """Any sessions cut anywhere: the earlier part's entries joined with the later part's are the entries of one
    walk over all - the oldest session's UID, the sessions added up, the newest named session's name, the ties
    kept by the part walked first, the new servers' keys after the known ones."""
    rng = random.Random(seed)
    sessions = _random_sessions(rng, rng.randrange(2, 30))
    cut = rng.randrange(len(sessions) + 1)
    start = moment("2025-06-03T00:00:00Z")
    joined = _noted(sessions[:cut], start)
    _servers.join_server_notes(joined, _noted(sessions[cut:], start))
    whole = _noted(sessions, start)
    assert list(joined) == list(whole) and joined == whole


def test_a_tie_keeps_the_part_walked_first():
    """Two sessions of one server (known by its name: no UID) that sort alike (no session UID, one creation time)
    under two spellings of its name: one walk keeps the first walked's, and so does the join of the two parts."""
    sessions = []
    for name in ("vbr01", "VBR01"):
        session = build_session(vm="vm1", server=name, server_uid=None, created="2025-06-04T01:00:00Z")
        session.update(uid=None, _created=moment(session["creation_time"]))
        sessions.append(session)
    start = moment("2025-06-01T00:00:00Z")
    joined = _noted(sessions[:1], start)
    _servers.join_server_notes(joined, _noted(sessions[1:], start))
    assert joined == _noted(sessions, start)
    assert [entry["backup_server_name"] for entry in joined.values()] == ["vbr01"]


# Ten VMs of one backup server renamed on the eighth day: its newest named session is in the later half of the walk
# (a VM's place in it is its oldest session's).
RENAMED = [build_session(vm="vm%02d" % day, vm_uid="urn:vm:%d" % day, server="vbr-new" if day >= 8 else "vbr-old",
                         server_uid="urn:veeam:BackupServer:1",
                         created="2025-05-%02dT01:00:00Z" % (26 + day) if day < 6 else "2025-06-%02dT01:00:00Z" % (day - 5))
           for day in range(10)]


def _renamed_server_fleet():
    fold = em_compliance.session_fold(NOW, lookback_days=10)
    fold.add(copy.deepcopy(RENAMED), em_compliance.KIND_BACKUP)
    return fold


def _evaluated(fold, beside, warn=None):
    return json.loads(json.dumps(em_compliance.evaluate_fold(fold, walk_beside=beside, warn=warn)))


def test_a_split_walk_names_a_server_by_its_newest_session_walked_by_the_child(monkeypatch):
    monkeypatch.setattr(em_compliance, "WALK_BESIDE_FROM_VMS", 2)
    joined = []
    join_walk = em_compliance._join_walk
    monkeypatch.setattr(em_compliance, "_join_walk", lambda *args: joined.append(True) or join_walk(*args))
    fold, warned = _renamed_server_fleet(), []
    split, whole = _evaluated(fold, True, warned.append), _evaluated(_renamed_server_fleet(), False)
    assert joined == [True] and split == whole and warned == []
    assert [server["backup_server_name"] for server in split["servers"]] == ["vbr-new"]
    assert len(split["vms"]) == 10


@pytest.mark.parametrize("how", ["raises", "no fork"])
def test_a_child_that_fails_or_no_fork_leaves_the_walk_to_the_parent(monkeypatch, how):
    """The child's half is walked by the parent (its groups kept until the child answered): the same verdicts."""
    monkeypatch.setattr(em_compliance, "WALK_BESIDE_FROM_VMS", 2)
    if how == "raises":
        monkeypatch.setattr(em_compliance, "_walked_beside", lambda *args: 1 / 0)
    else:
        monkeypatch.setattr(em_files.Beside, "start", classmethod(lambda cls, work, what="working": None))
    fold, warned = _renamed_server_fleet(), []
    whole = _evaluated(_renamed_server_fleet(), False)
    assert _evaluated(fold, True, warned.append) == whole and len(whole["vms"]) == 10
    # a child lost is said (the module's warning), a child never started is not: the walk is one process's then
    assert warned == ([] if how == "no fork" else [
        "the evaluation's second process did not answer (ZeroDivisionError: division by zero): the module walked "
        "its 5 of the 10 VMs itself, the verdicts are the same"])


def test_a_child_the_system_killed_is_said(monkeypatch):
    """A child killed (the out-of-memory killer of a container with a memory limit): the module's walk, and a
    warning naming the signal."""
    monkeypatch.setattr(em_compliance, "WALK_BESIDE_FROM_VMS", 2)
    monkeypatch.setattr(em_compliance, "_walked_beside", lambda *args: os.kill(os.getpid(), signal.SIGKILL))
    warned = []
    assert _evaluated(_renamed_server_fleet(), True, warned.append) == _evaluated(_renamed_server_fleet(), False)
    assert warned == ["the evaluation's second process did not answer (the evaluating process ended without a word "
                      "(signal %d)): the module walked its 5 of the 10 VMs itself, the verdicts are the same"
                      % signal.SIGKILL]


def test_below_the_bound_or_with_packed_rows_nothing_is_forked(monkeypatch):
    started = []
    monkeypatch.setattr(em_files.Beside, "start", classmethod(lambda cls, work, what="working": started.append(what)))
    em_compliance.evaluate_fold(_renamed_server_fleet(), walk_beside=True)          # 10 VMs < 1,000
    monkeypatch.setattr(em_compliance, "WALK_BESIDE_FROM_VMS", 2)
    em_compliance.evaluate_fold(_renamed_server_fleet(), walk_beside=True, packed=True)
    assert started == []
