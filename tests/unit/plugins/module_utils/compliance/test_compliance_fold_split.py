# -*- coding: utf-8 -*-
"""A fold split between two processes (issue 18, em_compliance_read.CacheLines with a child process): the child
folds the history cache's lines into a copy of the fold made at the fork, the two number new values apart
(SessionFold.split), and the parent takes the child's fold in (take_portable, then absorb_first). The result must
be the fold of the child's sessions first, then the parent's, in one process - every group, history key and
count. The fork is stood for by a deep copy (a forked child's memory is a copy of its parent's at the fork), the
pipe by pickle, as the reader sends it."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import pickle
import threading

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import fold as _fold

from .conftest import build_session

NOW = "2025-06-05T06:00:00Z"
BACKUP, REPLICA = em_compliance.KIND_BACKUP, em_compliance.KIND_REPLICA


def _sessions(vms, day, **fields):
    return [build_session(vm=vm, vm_uid="urn:vmware:vm:%s" % vm, created="2025-06-%02dT01:00:00Z" % day, **fields)
            for vm in vms]


# Before the fork (numbered by the parent alone), the child's (the cache's lines), the parent's after the fork
# (EM's pages): new VMs, servers and jobs on both sides and shared by both (numbered by each process apart).
BEFORE = _sessions(["vm01"], 4)
CHILD_WINDOW = _sessions(["vm02", "vm03", "vm04"], 3, job="Job B", server="vbr02") + _sessions(["vm05"], 4)
CHILD_HISTORY = _sessions(["vm02", "vm06"], 1, job="Job B", server="vbr02", result="Failed")
PARENT_WINDOW = _sessions(["vm03", "vm07"], 5, job="Job B", server="vbr02") + _sessions(["vm08"], 5, job="Job C")
# the same history keys as the child's (server, VM, job, result), newer: one per key must survive the join
PARENT_HISTORY = _sessions(["vm02", "vm06"], 2, job="Job B", server="vbr02", result="Failed")


def _forked(thing, packer):
    """A copy of ``thing`` as a forked child holds it (its packer's lock a new one: a lock is not copied)."""
    return copy.deepcopy(thing, {id(packer._lock): threading.Lock()})


def _feed(fold, window, history):
    fold.add(copy.deepcopy(window), BACKUP)
    fold.add_history(copy.deepcopy(history), BACKUP)


def _split_fold():
    parent = em_compliance.session_fold(NOW, lookback_days=3)
    _feed(parent, BEFORE, [])
    side = parent.sibling()
    parent.split(1)
    child = _forked(side, side._packer)   # the fork: the child's copy of the sibling and its packer
    child.split(0)
    _feed(child, CHILD_WINDOW, CHILD_HISTORY)
    _feed(parent, PARENT_WINDOW, PARENT_HISTORY)
    side.take_portable(pickle.loads(pickle.dumps(child.portable(), pickle.HIGHEST_PROTOCOL)))
    parent.absorb_first(side)
    return parent


def _one_process_fold():
    fold = em_compliance.session_fold(NOW, lookback_days=3)
    _feed(fold, BEFORE, [])
    _feed(fold, CHILD_WINDOW, CHILD_HISTORY)
    _feed(fold, PARENT_WINDOW, PARENT_HISTORY)
    return fold


def _walked(fold):
    history = sorted(tuple(fold._packer.unpack(kept)) for _created, kept in fold.history.values())
    counts = (fold.read, fold.ignored, fold.window_set_aside, fold.history_set_aside, sorted(fold.last_seen.items()),
              sorted(fold.uids.items()), sorted(fold.job_session_uids))
    fold.settle()
    return history, counts, list(fold.vm_groups())


def test_a_fold_split_between_two_processes_is_the_fold_of_one():
    split, whole = _split_fold(), _one_process_fold()
    assert len(split.history) == len(whole.history) == 2   # one per key: the parent's key and the child's agree
    assert _walked(split) == _walked(whole)


def test_the_two_processes_number_new_values_apart_and_the_parent_takes_the_childs_in():
    parent = em_compliance.session_fold(NOW)
    packer = parent._packer
    packer.key(("backup", "vbr01", "vm01", "Job A", "Success", False))
    before = set(packer.index.values())
    child = _forked(packer, packer)
    packer.split_numbers(1)
    child.split_numbers(0)
    child_key = child.key(("backup", "vbr02", "vm02", "Job B", "Success", False))
    parent_key = packer.key(("backup", "vbr02", "vm03", "Job B", "Failed", False))
    assert (set(child.index.values()) - before).isdisjoint(set(packer.index.values()) - before)
    numbers = packer.join_numbers(child.split_table())
    # "vbr02" and "Job B", numbered by both: the child's numbers become the parent's; "vm02" keeps the child's
    assert sorted(numbers.values()) == sorted(str(packer.index[value]) for value in ("vbr02", "Job B"))
    assert _fold.renumbered_key(child_key, numbers) == packer.key(("backup", "vbr02", "vm02", "Job B", "Success", False))
    assert parent_key == packer.key(("backup", "vbr02", "vm03", "Job B", "Failed", False))
    assert [packer.table[int(field)] for field in child_key.split("\x1f")[:5]] == [
        "backup", "vbr02", "vm02", "Job B", "Success"]   # the child's own numbers still unpack
    assert packer.key(("backup", "vbr09", "vm09", "Job Z", "Success", True)).endswith("\x1f1")  # the split is over


def test_the_state_sent_back_is_all_the_fold_holds():
    """A state attribute added to SessionFold and not to _HELD would be lost on the way back from the child."""
    fold = em_compliance.session_fold(NOW)
    not_held = {"policy", "start", "on_running", "_packer", "now", "options"}
    assert set(vars(fold)) - not_held == set(_fold._HELD)


# Found (helper attack, session 14), fixed: the history cache's lines hold an older Failed F0 of v1 and the session
#  S as Success; EM's history read gives S again, Failed. S (EM's) takes F0's history key (same VM, job, result:
#  newer), whose entry sat BEFORE S (the cache's) in SessionFold.history; settle placed the history in that order,
#  so the cache's S was placed after EM's and unique_records kept it (the later read): v1 compliant, a cold read
#  violation (rpo_exceeded). A replaced history entry now goes last (add_history; absorb_first's _merged(move=True)).
F0 = build_session(vm="v1", vm_uid="urn:vm:1", created="2025-06-07T01:00:00Z", result="Failed")
S_EM = build_session(vm="v1", vm_uid="urn:vm:1", created="2025-06-08T01:00:00Z", result="Failed")
S_CACHED = dict(S_EM, result="Success")
TONIGHT = build_session(vm="v2", vm_uid="urn:vm:2", created="2025-06-10T01:00:00Z")  # the server is not silent


def _v1_status(cached, em, split):
    """v1's status after the cache's history lines ``cached`` then EM's history read ``em`` (lookback 1 day, RPO 96 h),
    folded in one fold or split (the cache's lines in a sibling taken in first, as CacheLines does)."""
    fold = em_compliance.session_fold("2025-06-10T06:00:00Z", lookback_days=1, backup_rpo_hours=96)
    fold.add([copy.deepcopy(TONIGHT)], BACKUP)
    side = fold.sibling() if split else fold
    side.add_history(copy.deepcopy(cached), BACKUP)
    fold.add_history(copy.deepcopy(em), BACKUP)
    if split:
        fold.absorb_first(side)
    result = em_compliance.evaluate_fold(fold)
    return next(row["status"] for row in result["vms"] if row["vm_display_name"] == "v1")


@pytest.mark.parametrize("split", [False, True], ids=["one-fold", "lines-beside"])
@pytest.mark.parametrize("cached", [[F0, S_CACHED], [S_CACHED, F0]], ids=["f0-first", "s-first"])
def test_em_s_history_read_of_a_session_wins_over_the_cache_s_in_any_order(cached, split):
    assert _v1_status([F0, S_EM], [], split=False) == "violation"   # the cold read
    assert _v1_status(cached, [S_EM], split) == "violation"


@pytest.mark.parametrize("split", [False, True], ids=["one-fold", "lines-beside"])
def test_em_s_history_read_wins_the_other_way_too(split):
    # the mirror: the cache's line says Failed, EM now says Success: EM's answer is judged
    assert _v1_status([F0, S_EM], [S_CACHED], split) == "compliant"


# Found (helper attack, session 14), fixed: a backup server's sign of life for the history cache (server_signs) took
#  its name from the session that last raised the newest time, or kept the name before it when that session had
#  none - an order the two folds of the lines beside EM's reads do not keep: the cache's vbr-old (ended 10:00), EM's
#  vbr-new (ended 05:00), then EM's session without a name (20:00) named it vbr-new in the one fold and vbr-old in
#  the split one (absorb_first), and the quiet bound of the cache that night differed (only more cautious). The
#  name is now the newest named session's (the first read of equal times), whatever the order.
def _on_server(vm, created, end, name):
    return build_session(vm=vm, vm_uid="urn:vm:" + vm, created=created, end=end, server=name,
                         server_uid="urn:veeam:BackupServer:one")


SIGN_CACHE = [_on_server("a", "2025-06-03T01:00:00Z", "2025-06-04T10:00:00Z", "vbr-old")]
SIGN_EM = [_on_server("b", "2025-06-04T04:00:00Z", "2025-06-04T05:00:00Z", "vbr-new"),
           _on_server("c", "2025-06-04T19:00:00Z", "2025-06-04T20:00:00Z", "")]


def _signs(cached, em, split):
    parent = em_compliance.session_fold(NOW, lookback_days=3)
    side = parent.sibling() if split else parent
    side.add(copy.deepcopy(cached), BACKUP)
    parent.add(copy.deepcopy(em), BACKUP)
    if split:
        parent.absorb_first(side)
    return parent.server_signs


@pytest.mark.parametrize("cached, em", [(SIGN_CACHE, SIGN_EM), (SIGN_CACHE, SIGN_EM[::-1]), (SIGN_EM, SIGN_CACHE),
                                        (SIGN_EM[1:], SIGN_CACHE + SIGN_EM[:1]), ([], SIGN_CACHE + SIGN_EM)],
                         ids=["renamed", "renamed-reversed", "swapped", "unnamed-first", "em-only"])
def test_a_server_s_sign_of_life_is_the_same_in_one_fold_and_split(cached, em):
    one, split = _signs(cached, em, False), _signs(cached, em, True)
    assert one == split
    (moment, name, named_at), = one.values()
    assert (moment.hour, name, named_at.hour) == (20, "vbr-old", 10)   # the newest time; the newest named session's
