"""The compliance role with the issue-8 modules: backup servers known to EM, per-job status and
retry information, and the optional retry remediation (veeam_em_job), end to end against the
emulator. The verdicts of test_compliance_role.py stay pinned there; this adds a server EM knows
that never reports, and checks the job rows and the remediation.
"""
import json

import pytest

from emulator.harness import Emulator
from integration.test_compliance_role import NOW, _guid, build_dataset, em_env, read_reports, run_playbook

pytestmark = pytest.mark.slow

IDLE_SERVER = "vbr-idle.test"


@pytest.fixture(scope="module")
def idle_emulator():
    dataset = build_dataset()
    dataset["backup_servers"].append({"id": _guid(99), "name": IDLE_SERVER})
    with Emulator(dataset=dataset, now=NOW, tls=True) as em:
        yield em


def test_servers_known_to_em_and_job_rows(idle_emulator, tmp_path):
    idle_emulator.reset_stats()
    run = run_playbook(em_env(idle_emulator), tmp_path, veeam_em_compliance_now=NOW)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    result, _junit, page = read_reports(tmp_path)
    servers = {s["backup_server_name"]: s for s in result["servers"]}
    assert servers[IDLE_SERVER]["reasons"] == ["server_silent"] and servers[IDLE_SERVER]["known"] is True
    assert servers["vbr01.test"]["known"] is True and servers["vbr01.test"]["reasons"] == []
    assert any(v["backup_server_name"] == IDLE_SERVER and v["code"] == "server_silent" for v in result["violations"])

    jobs = {(job["backup_server_name"], job["job_name"]): job for job in result["jobs"]}
    assert set(jobs) == {("vbr01.test", "Backup Job A"), ("vbr01.test", "Replica Job A"),
                         ("vbr02.test", "Backup Job B"), ("vbr-old.test", "Backup Job C")}
    job_a = jobs[("vbr01.test", "Backup Job A")]
    assert job_a["retries"] == 1 and job_a["last_is_retry"] is True and job_a["recovered_by_retry"] is True
    assert job_a["status"] == "warning" and job_a["failed_sessions"] == 3 and job_a["running"] is False
    assert result["summary"]["jobs_total"] == 4 and result["summary"]["jobs_retried"] == 1
    assert "<h2>Jobs (4)</h2>" in page and "recovered by a retry" in page
    assert "Jobs: 4 total" in run.stdout

    stats = idle_emulator.stats()
    assert stats["sessions_created"] == 1 and stats["open_sessions"] == 0  # still one logon for all reads
    assert stats["requests"].get("GET /api/query", 0) >= 5
    assert not any(key.startswith("POST /api/jobs") for key in stats["requests"])  # remediation is off


def test_known_servers_from_em_can_be_turned_off(idle_emulator, tmp_path):
    run = run_playbook(em_env(idle_emulator), tmp_path, veeam_em_compliance_now=NOW,
                       veeam_em_compliance_known_servers_from_em=False, veeam_em_compliance_check_jobs=False)
    assert run.returncode == 0, run.stdout[-4000:]
    result, _junit, page = read_reports(tmp_path)
    assert IDLE_SERVER not in {s["backup_server_name"] for s in result["servers"]}
    assert result["jobs"] == [] and "No job sessions were read." in page


FAILED_JOBS = 4  # more than every cap tested below, fewer than the default cap (10)


def failing_fleet_dataset():
    """One server, FAILED_JOBS backup jobs whose last run failed and one healthy job, one VM each.

    Hand-written rather than generated: the remediation tests need several failed jobs for a cap
    to limit, and a generated fleet's count depends on the seed (seed 5 has exactly one).
    """
    server = _guid(1)
    dataset = {"format": "veeam-em-emulator-dataset/1", "generated_now": NOW,
               "backup_servers": [{"id": server, "name": "vbr01.test"}], "vms": [], "jobs": [],
               "job_sessions": [], "task_sessions": []}
    for index in range(FAILED_JOBS + 1):
        failed = index < FAILED_JOBS
        vm_id = "urn:VMware:Vm:vc-a.vm-%d" % (index + 1)
        job_id = _guid(1000 + index)
        dataset["vms"].append({"id": vm_id, "name": "vm%02d" % index, "backup_server_id": server, "size_bytes": 10 ** 9})
        dataset["jobs"].append({"id": job_id, "name": "Backup Job %02d" % index, "type": "Backup",
                                "backup_server_id": server, "vms": [vm_id]})
        for number, (created, ended, result) in enumerate([
                ("2025-06-04T01:00:00Z", "2025-06-04T01:10:00Z", "Success"),
                ("2025-06-05T01:00:00Z", "2025-06-05T01:10:00Z", "Failed" if failed else "Success")]):
            session_id = _guid(2000 + 10 * index + number)
            dataset["job_sessions"].append({
                "id": session_id, "job_id": job_id, "creation_time": created, "end_time": ended,
                "state": "Stopped", "result": result, "progress": 100, "is_retry": False})
            dataset["task_sessions"].append({
                "id": _guid(5000 + 10 * index + number), "job_session_id": session_id, "vm_id": vm_id,
                "vm_display_name": "vm%02d" % index, "creation_time": created, "end_time": ended,
                "state": "Completed", "result": result, "reason": "" if result == "Success" else "Error: disk full",
                "total_size": 10 ** 9})
    return dataset


@pytest.fixture
def fleet_emulator():
    """A fresh emulator per test: a remediation run changes EM's state (it starts job sessions),
    so no test may see what another one retried."""
    with Emulator(dataset=failing_fleet_dataset(), now=NOW, tls=True, task_seconds=1) as em:
        yield em


def failed_jobs(report_dir):
    """The jobs the role picks for a retry, in its order (remediate.yml: failed, not running)."""
    with open(str(report_dir / "compliance.json"), encoding="utf-8") as handle:
        result = json.load(handle)
    # Issue 22: a job row's status follows failed_job_severity now; ``failed`` is what the remediation retries.
    return [job for job in result["jobs"] if job["failed"] and not job["running"] and job["job_id"]]


def job_posts(emulator):
    """POST /api/jobs/{id}?action=... requests by path, e.g. {"POST /api/jobs/<guid>": 1}."""
    return {key: count for key, count in emulator.stats()["requests"].items() if key.startswith("POST /api/jobs")}


def posted_job_ids(posts, jobs):
    return sorted(job["job_id"] for job in jobs if any(job["job_id"].lower() in key.lower() for key in posts))


def test_retry_failed_jobs_remediation(fleet_emulator, tmp_path):
    check_dir = tmp_path / "check"
    fleet_emulator.reset_stats()
    run = run_playbook(em_env(fleet_emulator), check_dir, veeam_em_compliance_now=NOW,
                       veeam_em_compliance_retry_failed_jobs=True)
    assert run.returncode == 0, run.stdout[-4000:]
    to_retry = failed_jobs(check_dir)
    assert len(to_retry) == FAILED_JOBS
    posts = job_posts(fleet_emulator)
    assert sum(posts.values()) == len(to_retry)  # every failed job exactly once
    assert posted_job_ids(posts, to_retry) == sorted(job["job_id"] for job in to_retry)
    assert "Show the remediation" in run.stdout and "action retry" in run.stdout
    assert fleet_emulator.stats()["open_sessions"] == 0


@pytest.mark.parametrize("cap", [1, 2])
def test_retry_remediation_respects_the_cap(fleet_emulator, tmp_path, cap):
    fleet_emulator.reset_stats()
    run = run_playbook(em_env(fleet_emulator), tmp_path, veeam_em_compliance_now=NOW,
                       veeam_em_compliance_retry_failed_jobs=True, veeam_em_compliance_retry_max_jobs=cap)
    assert run.returncode == 0, run.stdout[-4000:]
    to_retry = failed_jobs(tmp_path)
    assert len(to_retry) > cap, "the fleet must have more failed jobs than the cap, or the cap limits nothing"
    posts = job_posts(fleet_emulator)
    # Exactly `cap` retries (not fewer: "never retries" must fail), of the first jobs the role lists.
    assert sum(posts.values()) == cap
    assert posted_job_ids(posts, to_retry) == sorted(job["job_id"] for job in to_retry[:cap])
    assert fleet_emulator.stats()["open_sessions"] == 0
