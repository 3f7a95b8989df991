"""The module's evaluation with its VM rows packed (issue 18, em_rows.PackedRows): the same result as the
list-based rows, for every frozen reference call and for CMDB lists whose entries match twice."""
import json

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_rows import PackedRows

from .conftest import build_session
from .test_compliance_fold import NOW, REFERENCE

_NAMES = ("backup_sessions", "replica_sessions", "now", "job_sessions")


def _evaluate(args, kwargs, packed):
    """em_compliance.evaluate's steps, with evaluate_fold(packed=...)."""
    bound = dict(zip(_NAMES, args))
    bound.update(kwargs)
    options = dict((key, value) for key, value in bound.items() if key not in _NAMES)
    fold = em_compliance.session_fold(bound.get("now"), **options)
    fold.add(bound.get("backup_sessions"), em_compliance.KIND_BACKUP)
    fold.add(bound.get("replica_sessions"), em_compliance.KIND_REPLICA)
    return em_compliance.evaluate_fold(fold, bound.get("job_sessions"), packed=packed)


def _plain(result):
    return json.loads(json.dumps(dict(result, vms=list(result["vms"]))))


@pytest.mark.parametrize("index", range(len(REFERENCE)))
def test_packed_rows_give_the_reference_result(index):
    call = REFERENCE[index]
    packed = _evaluate(call["args"], call["kwargs"], True)
    assert isinstance(packed["vms"], PackedRows)
    assert _plain(packed) == call["result"]


def _sessions():
    return [build_session(vm=name, created="2025-06-04T01:%02d:00Z" % minute, vm_uid="urn:vm:%s" % name)
            for minute, name in enumerate(("db01", "web01", "web02"))]


def test_an_expected_vm_listed_twice_is_marked_twice_and_a_missing_one_gets_one_row():
    """apply_expected in one pass over the rows keeps what one pass per CMDB entry did: a row matched by
    two entries is required to have a backup twice (a replicated-only VM: never_backed_up twice), an
    entry matching nothing gets its row, and a later entry of the same name matches that row."""
    sessions = _sessions()
    replicas = [build_session(vm="rep01", created="2025-06-04T02:00:00Z", kind="replica")]
    expected = ["db01", "db01.corp.example.com", "rep01", "REP01", "ghost01", "ghost01"]
    result = em_compliance.evaluate(sessions, replicas, now=NOW, expected_vms=expected)
    packed = _evaluate((sessions, replicas), dict(now=NOW, expected_vms=expected), True)
    assert _plain(packed) == json.loads(json.dumps(result))
    rows = dict((row["vm_display_name"], row) for row in result["vms"])
    assert rows["db01"]["expected"] is True and rows["web01"]["expected"] is False
    assert [f["code"] for f in rows["rep01"]["findings"]].count("never_backed_up") == 2
    ghosts = [row for row in result["vms"] if row["vm_display_name"] == "ghost01"]
    assert len(ghosts) == 1 and ghosts[0]["expected"] is True
    assert [f["code"] for f in ghosts[0]["findings"]].count("never_backed_up") == 2

