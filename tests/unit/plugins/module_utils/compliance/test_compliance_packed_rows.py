"""The module's evaluation with its VM rows packed (issue 18, em_rows.PackedRows): the same result as the
list-based rows, for every frozen reference call and for CMDB lists whose entries match twice."""
import json

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_rows import PackedRows
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import summary as _summary

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


def _row(status, server, name, uid):
    return {"status": status, "backup_server_name": server, "vm_display_name": name, "vm_uid": uid}


ROWS = [_row(status, server, name, uid)
        for status in ("compliant", "violation", "warning", "error")
        for server in (None, "vbr01", "VBR01", "vbr0", "vbr01.x", u"vbr\u00e901")
        for name in ("db", "db01", "DB01", "db0", "", "db 01", u"d\u00e9", "db\x01")
        for uid in (None, "urn:vm:1", "urn:vm:10", "urn:vm:1a")]


@pytest.mark.parametrize("packed", [False, True])
def test_sort_rows_with_text_keys_gives_the_order_of_the_tuples(packed):
    """Prefixes, case, control and non-ASCII characters, equal keys (stable): as sorted() by the tuples."""
    import random
    rows = list(ROWS) * 2
    random.Random(5).shuffle(rows)
    expected = sorted(rows, key=_summary._row_order)  # pylint: disable=protected-access
    assert [_summary._row_order(r) for r in expected] != [_summary._row_order(r) for r in rows]  # noqa
    held = PackedRows(rows, block=7) if packed else list(rows)
    assert list(_summary.sort_rows(held)) == expected


def test_a_nul_in_a_name_sorts_by_the_tuples():
    rows = [_row("compliant", "vbr01", "db\x00b", None), _row("compliant", "vbr01", "db", None),
            _row("compliant", "vbr01", "db\x00a", None), _row("violation", "vbr01", "zz", None)]
    assert [row["vm_display_name"] for row in _summary.sort_rows(PackedRows(rows))] == ["zz", "db", "db\x00a", "db\x00b"]
    assert [row["vm_display_name"] for row in _summary.sort_rows(list(rows))] == ["zz", "db", "db\x00a", "db\x00b"]
