"""Attack, by property: evidence of protection can only come from a finished success of the VM's own backup.

Random small session sets of one VM (fixed seeds: the same cases every run), with states and results
EM documents and some it does not, under a few policies. None of these changes may make the VM's status
better: turning a finished success into a failure, removing a finished success, adding a success dated
after the evaluation time (clock_skew), adding a backup-copy run (a copy is not a backup, FACTS 6).
Before the h-attack fixes the third property failed (a success dated ahead satisfied the RPO).
"""
import random

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate
from unit.plugins.module_utils.compliance.conftest import build_session as session
from unit.plugins.module_utils.compliance.test_veeam_em_compliance_jobs import job_session

NOW = "2025-06-05T06:00:00Z"
RANK = {"compliant": 0, "warning": 1, "violation": 2, "error": 3}
RESULTS = ["Success", "Warning", "Failed", None, "None"]
STATES = ["Completed", "Completed", "Completed", "InProgress", "Pending", None, "Idle"]
POLICIES = [{}, {"accept_warnings": False}, {"lookback_days": 2}, {"backup_rpo_hours": 48}]
CASES = 600


def random_session(rng):
    day = rng.randint(25, 36)                        # 2025-05-25 .. 2025-06-05
    month, date = (5, day) if day <= 31 else (6, day - 31)
    hour = rng.randint(0, 5) if (month, date) == (6, 5) else rng.randint(0, 23)
    state = rng.choice(STATES)
    end = rng.choice(["default", None]) if state not in ("InProgress", "Pending") else None
    return session(vm="vm", created="2025-%02d-%02dT%02d:%02d:00Z" % (month, date, hour, rng.randint(0, 59)),
                   result=rng.choice(RESULTS), state=state, job=rng.choice(["J1", "J2"]), end=end)


def status(sessions, **options):
    rows = evaluate(sessions, now=NOW, **options)["vms"]
    return RANK[next(row["status"] for row in rows if row["vm_display_name"] == "vm")]


def cases(seed):
    rng = random.Random(seed)
    for _case in range(CASES):
        yield rng, [random_session(rng) for _i in range(rng.randint(1, 5))], rng.choice(POLICIES)


def finished_successes(sessions):
    return [i for i, s in enumerate(sessions) if s["result"] == "Success" and s["state"] == "Completed"]


@pytest.mark.parametrize("seed", [7, 8])
def test_less_evidence_never_reads_better(seed):
    checked = 0
    for _rng, sessions, options in cases(seed):
        found = finished_successes(sessions)
        if not found:
            continue
        checked += 1
        base = status(sessions, **options)
        failed = [dict(s, result="Failed") if i == found[0] else s for i, s in enumerate(sessions)]
        assert status(failed, **options) >= base, (options, sessions)
        fewer = [s for i, s in enumerate(sessions) if i != found[0]]
        if fewer:
            assert status(fewer, **options) >= base, (options, sessions)
    assert checked > CASES // 6


@pytest.mark.parametrize("seed", [11, 12])
def test_a_success_dated_ahead_or_a_copy_never_reads_better(seed):
    for rng, sessions, options in cases(seed):
        base = status(sessions, **options)
        future = session(vm="vm", created=rng.choice(["2025-06-07T01:00:00Z", "2026-01-01T00:00:00Z"]))
        assert status(sessions + [future], **options) >= base, (options, sessions)
        copy = session(vm="vm", job="Copy", created="2025-06-05T05:00:00Z")
        jobs = [dict(job_session("Copy", "2025-06-05T04:00:00Z", kind="BackupCopy"), uid=copy["job_session_uid"])]
        assert status(sessions + [copy], job_sessions=jobs, **options) >= status(sessions, job_sessions=jobs,
                                                                                 **options), (options, sessions)
