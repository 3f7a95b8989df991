"""Every playbook in playbooks/examples shows something against the bundled emulator.

Half of them used to print ``[]`` or ``{}`` there (VM and server names the emulator's fleet does not
have; a task example that never started a task), which reads as "the module is broken". Each is
run unchanged with ansible-playbook, the connection from VEEAM_EM_* as the examples say, against
the demo's fleet (tools/demo.py): rc 0, at least one ``msg`` shown and none of them empty, and
no logon session left open.

The emulator's fleet is laid out relative to the real clock (jobs run at fixed times of day), so the
examples with a relative window (``created_after: 24h``) see different sessions at different hours:
``test_time_bounded_examples_find_sessions_at_any_hour`` checks their queries against the demo fleet
generated at every hour of a day, so a name that only works at some hours fails here, not in one CI run
in twenty-four (session 6: ``sql230`` had no failed session in the last 7 days between 00:00 and 04:00 UTC).
"""
import glob
import os
import re
import subprocess
import sys
import time

import pytest
import yaml

from collection_layout import REPO_ROOT, ansible_env
from emulator.generator import generate
from emulator.harness import Emulator

pytestmark = pytest.mark.slow

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
EXAMPLES = sorted(glob.glob(os.path.join(REPO_ROOT, "playbooks", "examples", "*.yml")))
EMPTY = re.compile(r'^\s*"msg": (\[\]|\{\}|""|"\[\]"|"\{\}")\s*$', re.MULTILINE)


DEMO_FLEET = {"vms": 300, "days": 30, "seed": 2026}
US = 10 ** 6
HOUR_US = 3600 * US


@pytest.fixture(scope="module")
def em():
    with Emulator(tls=True, **DEMO_FLEET) as emulator:  # the demo's fleet
        yield emulator


def test_there_are_examples():
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("playbook", EXAMPLES, ids=[os.path.basename(path) for path in EXAMPLES])
def test_example_shows_something(em, tmp_path, playbook):
    env = ansible_env()
    env.update({"VEEAM_EM_SERVER": em.base_url, "VEEAM_EM_USERNAME": em.username, "VEEAM_EM_PASSWORD": em.password,
                "VEEAM_EM_CA_PATH": em.ca_file, "ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
                "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"), "ANSIBLE_REMOTE_TEMP": str(tmp_path / "tmp"),
                # examples that run the compliance role write their reports here, not into ~/veeam_em_reports
                "VEEAM_EM_REPORT_DIR": str(tmp_path / "reports")})
    for key in ("VEEAM_EM_SESSION_ID", "VEEAM_EM_PORT", "VEEAM_EM_VALIDATE_CERTS"):
        env.pop(key, None)
    proc = subprocess.run([ANSIBLE_PLAYBOOK, playbook], env=env, cwd=str(tmp_path), capture_output=True, text=True,
                          timeout=600, check=False)
    output = proc.stdout[-6000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, output
    assert '"msg":' in proc.stdout, output
    assert EMPTY.search(proc.stdout) is None, output
    assert em.stats()["open_sessions"] == 0


def _example_vars(name):
    with open(os.path.join(REPO_ROOT, "playbooks", "examples", name)) as handle:
        return yaml.safe_load(handle)[0].get("vars", {})


def _time_bounded_queries():
    """What each example with a relative window asks for, as a filter over the generated fleet.

    Each entry: (example, task, collection, predicate(item, module_now_us)). The names come from the
    example files themselves, so changing a name there is checked here.
    """
    task_vars = _example_vars("veeam_em_backup_task_session_info.yml")
    vm, server = task_vars["example_vm"], task_vars["example_server"]
    days = 24 * HOUR_US
    return [
        ("veeam_em_backup_task_session_info.yml", "failed or warning of %s, 7 days" % vm, "backup_ts",
         lambda t, now: t.vm_name == vm and t.ct >= now - 7 * days and t.result in ("Failed", "Warning")),
        ("veeam_em_backup_task_session_info.yml", "InProgress on %s, 2 days" % server, "backup_ts",
         lambda t, now: t.js.job.server.name == server and t.ct >= now - 2 * days and t.state == "InProgress"),
        ("veeam_em_replica_task_session_info.yml", "Replication Job 1, 24 hours", "replica_ts",
         lambda t, now: t.js.job.name == "Replication Job 1" and t.ct >= now - days),
        ("veeam_em_backup_job_session_info.yml", "failed backup job sessions, 24 hours", "backup_js",
         lambda j, now: j.ct >= now - days and j.result == "Failed"),
        ("veeam_em_replica_job_session_info.yml", "replica job sessions, 24 hours", "replica_js",
         lambda j, now: j.ct >= now - days),
        ("veeam_em_session.yml", "failed backup task sessions, 24 hours", "backup_ts",
         lambda t, now: t.ct >= now - days and t.result == "Failed"),
    ]


def test_time_bounded_examples_find_sessions_at_any_hour():
    midnight = (int(time.time()) // 86400) * 86400 * US
    empty = []
    for hour in range(24):
        fleet_now = midnight + hour * HOUR_US
        fleet = generate(now=fleet_now, **DEMO_FLEET)
        # the module runs a little after the emulator generated its fleet (the fixture is shared)
        for module_now in (fleet_now, fleet_now + HOUR_US // 2):
            for example, what, collection, wanted in _time_bounded_queries():
                if not any(wanted(item, module_now) for item in getattr(fleet, collection)):
                    empty.append("%02d:00 UTC %s: %s" % (hour, example, what))
    assert empty == []


def test_time_bounded_queries_can_come_up_empty():
    """The check above is not vacuous: the same query with the module's clock 40 days after the fleet finds nothing."""
    fleet_now = (int(time.time()) // 86400) * 86400 * US
    fleet = generate(now=fleet_now, **DEMO_FLEET)
    (_example, _what, collection, wanted), = [q for q in _time_bounded_queries() if "replica job sessions" in q[1]]
    assert any(wanted(item, fleet_now) for item in getattr(fleet, collection))
    assert not any(wanted(item, fleet_now + 40 * 24 * HOUR_US) for item in getattr(fleet, collection))
