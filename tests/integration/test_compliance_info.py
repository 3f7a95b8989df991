"""veeam_em_compliance_info by real ansible-playbook against the emulator.

The one-step module and the two-step path (info modules with every key, then the filter) must
give the same evaluation of the same night; the module must send the minimum of requests: one
logon, one GET per page of each resource, one logoff.
"""
import math

import pytest

from emulator.harness import Emulator
from integration.test_modules_integration import run_playbook

pytestmark = pytest.mark.slow

NOW = "2026-11-01T06:00:00Z"
PAGE_SIZE = 50


@pytest.fixture(scope="module")
def em():
    with Emulator(vms=80, days=10, seed=23, tls=True, now=NOW) as emulator:
        yield emulator


def test_one_step_equals_two_step_with_minimum_requests(em, tmp_path):
    em.reset_stats()
    proc, results = run_playbook(em, tmp_path, "compliance_info", {"em_now": NOW})
    assert proc.returncode == 0, proc.stdout[-4000:]
    one_step, two_step = results["one_step"], results["two_step"]
    # The module reduces the history before the window to the newest session per VM, job and
    # result (issue 14); the two-step path hands the filter every session of the 30 days. The
    # verdicts are equal; only the counts of sessions read before the window differ.
    history_counts = ("sessions_read", "sessions_outside_window")
    # ``source`` (which EM and account were read) comes from the module's connection; the filter
    # path has none to name (issue 17).
    # ``window.replayed``/``replay_hours``: the module compares ``now`` with its clock (NOW is a past night); the
    # filter has no clock
    window = dict(one_step["compliance"]["window"])
    assert (window.pop("replayed"), window.pop("replay_hours") > 24) == (True, True)
    assert dict(one_step["compliance"], summary=None, source=None, window=window) == dict(two_step, summary=None, source=None)
    assert one_step["compliance"]["source"] == {"em_server": em.base_url, "username": "EMULATOR\\emadmin"}
    assert {k: v for k, v in one_step["compliance"]["summary"].items() if k not in history_counts} \
        == {k: v for k, v in two_step["summary"].items() if k not in history_counts}
    assert two_step["summary"]["sessions_outside_window"] == one_step["queries"]["backup_task_history"]["items"] \
        + one_step["queries"]["replica_task_history"]["items"]
    assert two_step["summary"]["backup_sessions"] > PAGE_SIZE and two_step["summary"]["vms_total"] >= 80
    assert "never-seen-vm" in {v["vm_display_name"] for v in two_step["violations"]}

    queries = dict(one_step["queries"])
    # every job session a window task session names was in the range read: none is asked for by UID
    assert queries.pop("named_job_sessions") == {"type": "BackupJobSession", "asked": 0, "not_asked": 0,
                                                 "requests": 0, "items": 0}
    assert set(queries) == {"account_reach", "backup_task_sessions", "replica_task_sessions", "backup_task_history",
                            "replica_task_history", "backup_servers", "backup_job_sessions", "replica_job_sessions"}
    assert queries["account_reach"]["requests"] == 1 and queries["account_reach"]["administrator"] is True
    pages = sum(max(1, math.ceil(query["items"] / PAGE_SIZE)) for query in queries.values())
    assert sum(query["requests"] for query in queries.values()) == pages
    assert one_step["requests"] == pages + 2  # + logon and logoff
    assert em.stats()["open_sessions"] == 0
