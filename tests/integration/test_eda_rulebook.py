"""The sample rulebook end to end: real ansible-rulebook (Java 17), the veeam_em_sessions source,
run_playbook with veeam_em_job, the emulator over HTTPS.

One injected failure (fail01's backup failed 25 minutes ago, the newest run of its job) must give
exactly one retry (one ``POST /api/jobs/{id}?action=retry``) and one ticket, also after the
retry's own sessions (Success) have been polled several times.

ansible-rulebook is found as the ``ansible_rulebook`` module of this Python, else at the path in
VEEAM_EM_TEST_ANSIBLE_RULEBOOK (a virtualenv of its own, e.g. /work/wt/h20-venv/bin/ansible-rulebook,
whose ansible-playbook and ansible-galaxy are used too); the test is skipped when neither exists, and
fails instead when CI is set (requirements-dev.txt brings it, .ci/run the Java runtime).
"""
import importlib.util
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from collection_layout import ansible_env
from emulator.harness import Emulator

RULEBOOK = "backupops.veeam_em.retry_failed_backups"
EXTERNAL = os.environ.get("VEEAM_EM_TEST_ANSIBLE_RULEBOOK")


def rulebook_command():
    if importlib.util.find_spec("ansible_rulebook") is not None:
        return [sys.executable, "-m", "ansible_rulebook"], os.path.dirname(sys.executable)
    if EXTERNAL and os.path.exists(EXTERNAL):
        return [EXTERNAL], os.path.dirname(EXTERNAL)
    return None, None


COMMAND, BIN_DIR = rulebook_command()
MISSING = ("ansible-rulebook is not installed (pip install ansible-rulebook; needs a Java 17 runtime) and "
           "VEEAM_EM_TEST_ANSIBLE_RULEBOOK does not name one")
IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")
# Outside CI a missing tool skips; in CI (where .ci/run installs it) it fails: a CI run that silently
# lacks a tool proves less than it says.
pytestmark = [pytest.mark.slow, pytest.mark.skipif(COMMAND is None and not IN_CI, reason=MISSING)]


@pytest.fixture(autouse=True)
def _rulebook_present():
    if COMMAND is None:
        pytest.fail("CI: " + MISSING)


def _guid(number):
    return str(uuid.UUID(int=number))


def _at(now, minutes_before):
    return (now - timedelta(minutes=minutes_before)).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_dataset(now):
    """Job A: ok01 succeeded 3 h ago, then fail01 failed 25 min ago (the job's newest run). Job B: ok02 fine.

    ``now`` is read when the test starts, not when this file is imported: the source reads with the real
    clock (60 min lookback), so a run more than 35 min after collection (pytest-xdist, make shuffle, a
    long suite) would not see fail01 at all and wait for a ticket that never comes."""
    server = _guid(1)
    rows = [("Backup Job A", 1000, "ok01", 190, "Success", ""),
            ("Backup Job A", 1000, "fail01", 30, "Failed", "Error: There is not enough space on the disk."),
            ("Backup Job B", 1001, "ok02", 20, "Success", "")]
    jobs, vms, job_sessions, task_sessions = {}, [], [], []
    for number, (job_name, job_number, vm, before, result, reason) in enumerate(rows, start=100):
        job = jobs.setdefault(job_name, {"id": _guid(job_number), "name": job_name, "type": "Backup",
                                         "backup_server_id": server, "vms": []})
        vm_id = "urn:VMware:Vm:vc.vm-%d" % number
        vms.append({"id": vm_id, "name": vm, "backup_server_id": server, "size_bytes": 10 ** 9})
        job["vms"].append(vm_id)
        job_sessions.append({"id": _guid(number), "job_id": job["id"], "creation_time": _at(now, before),
                             "end_time": _at(now, before - 5), "state": "Stopped", "result": result, "progress": 100,
                             "is_retry": False})
        task_sessions.append({"id": _guid(5000 + number), "job_session_id": _guid(number), "vm_id": vm_id,
                              "vm_display_name": vm, "creation_time": _at(now, before),
                              "end_time": _at(now, before - 5), "state": "Completed", "result": result,
                              "reason": reason, "total_size": 10 ** 9})
    return {"format": "veeam-em-emulator-dataset/1", "generated_now": _at(now, 0),
            "backup_servers": [{"id": server, "name": "vbr01.test"}], "vms": vms, "jobs": list(jobs.values()),
            "job_sessions": job_sessions, "task_sessions": task_sessions}


def environment(em):
    env = ansible_env()
    env.update({"VEEAM_EM_SERVER": em.host, "VEEAM_EM_PORT": str(em.port), "VEEAM_EM_USERNAME": em.username,
                "VEEAM_EM_PASSWORD": em.password, "VEEAM_EM_VALIDATE_CERTS": "true", "VEEAM_EM_CA_PATH": em.ca_file,
                "PATH": BIN_DIR + os.pathsep + env.get("PATH", ""), "JAVA_TOOL_OPTIONS": "-Xrs"})
    return env


def count(stats, prefix):
    return sum(number for key, number in stats["requests"].items() if key.startswith(prefix))


def wait_for(condition, what, proc, log, limit=180):
    """Wait for a condition of the run (not a timed assertion: the limit only stops a hung run)."""
    deadline = time.monotonic() + limit
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail("%s did not happen; ansible-rulebook output:\n%s" % (what, log.read_text()[-6000:]))
        time.sleep(0.5)


def test_one_failure_is_retried_exactly_once_then_ticketed(tmp_path):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                         "      ansible_python_interpreter: %s\n" % sys.executable, encoding="utf-8")
    variables = tmp_path / "vars.yml"
    variables.write_text("veeam_em_poll_interval: 1\nveeam_em_state_file: %s\n" % (tmp_path / "state.json"),
                         encoding="utf-8")
    log = tmp_path / "rulebook.log"
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with Emulator(dataset=build_dataset(now), tls=True) as em, open(log, "w", encoding="utf-8") as output:
        proc = subprocess.Popen(COMMAND + ["-i", str(inventory), "-r", RULEBOOK, "--vars", str(variables), "-vv"],
                                env=environment(em), cwd=str(tmp_path), stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: "TICKET: backup of fail01" in log.read_text(), "the ticket", proc, log)
            # The retry's own sessions are finished by now (wait: true); let the source poll them a few times.
            polled = count(em.stats(), "GET /api/query")
            wait_for(lambda: count(em.stats(), "GET /api/query") >= polled + 6, "three more polls", proc, log)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stats = em.stats()
    text = log.read_text()
    assert count(stats, "POST /api/jobs/") == 1, stats["requests"]  # exactly one retry
    assert text.count("TICKET: backup of fail01") == 1, text[-6000:]
    assert 'retry: action retry for job \\"Backup Job A\\" sent' in text, text[-6000:]
    assert "TICKET: backup of ok" not in text
    # the source's compliance check (first poll): fail01 has no successful backup at all, once
    assert text.count("RPO: backup of fail01 on ") == 1, text[-6000:]
    assert "RPO: backup of ok" not in text
    assert "There is not enough space on the disk." in text
    assert em.password not in text
    assert stats["open_sessions"] == 0, text[-5000:]  # the source logged off when ansible-rulebook stopped
