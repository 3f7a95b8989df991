"""Found by a helper's attack (session 14), fixed: a history cache line made finished (a Success copied from another
line of the VM, given the UID of a session EM still shows running) hid EM's running read - a stuck session - because
"a finished read wins over a running one" came before "EM's later read wins" (fold._better; fold._worse when the
line dropped its VM UID). The writer never writes a running session nor one created after what it covers, so the
line had to keep another creation time; two reads of one session that disagree on it cannot both be EM's, and the
later one (EM's) wins now. The UID is in the report beside the cache (stuck_session names it).
Cold: stuck_session; warm before the fix: compliant (rep01) or the stuck finding gone (db01)."""
import json

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import KIND_BACKUP, KIND_REPLICA
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_read as reader
from .test_compliance_attack_cache_records import (_estate, _nights, _record_of, _row, _task, _t, AT, T2)

pytestmark = pytest.mark.usefixtures("pages_as_given")


def _stuck_estate(kind=KIND_BACKUP, vm="db01"):
    # a session created 30 h before night 2, still running at night 2 (stuck: > 12 h)
    stuck = _task(vm, _t(T2, hours=-30), kind=kind, hours=100)
    return _estate() + [stuck], stuck[1]["uid"]


def _forge_finished(vm, uid, created, vm_uid="keep"):
    def edit(lines):
        number, line = _record_of(lines, vm, created)
        twin = json.loads(json.dumps(line))
        twin[1][AT["uid"]] = uid
        if vm_uid != "keep":
            twin[1][AT["vm_uid"]] = vm_uid
        lines.insert(number, twin)
        lines[-1]["items"] += 1
    return edit


@pytest.mark.parametrize("lines_beside", [False, True], ids=["lines-first", "lines-beside"])
@pytest.mark.parametrize("kind, vm, created, vm_uid", [
    (KIND_BACKUP, "db01", _t(T2, days=-6), "keep"),
    (KIND_BACKUP, "db01", _t(T2, days=-6), None),
    (KIND_REPLICA, "rep01", _t(T2, days=-5, hours=-3), "keep"),
    (KIND_REPLICA, "rep01", _t(T2, days=-5, hours=-3), "urn:vm:forged"),
], ids=["backup", "backup-no-vm-uid", "replica", "replica-forged-vm-uid"])
def test_a_finished_line_of_a_session_em_shows_running_does_not_hide_it(
        tmp_path, monkeypatch, lines_beside, kind, vm, created, vm_uid):
    monkeypatch.setattr(reader, "LINES_BESIDE_READS_BELOW_BYTES", 1 << 30 if lines_beside else 0)
    sessions, uid = _stuck_estate(kind, vm)
    warm, cold, cache = _nights(tmp_path, _forge_finished(vm, uid, created, vm_uid), sessions)
    assert "stuck_session" in _row(cold, vm)["reasons"]
    assert cache.outcome["used"] is True
    assert "stuck_session" in _row(warm, vm)["reasons"]
