"""Every playbook in playbooks/examples shows something against the bundled emulator.

Half of them used to print ``[]`` or ``{}`` there (VM and server names the emulator's fleet does not
have; a task example that never started a task), which reads as "the module is broken". Each is
run unchanged with ansible-playbook, the connection from VEEAM_EM_* as the examples say, against
the demo's fleet (tools/demo.py): rc 0, at least one ``msg`` shown and none of them empty, and
no logon session left open.
"""
import glob
import os
import re
import subprocess
import sys

import pytest

from collection_layout import REPO_ROOT, ansible_env
from emulator.harness import Emulator

pytestmark = pytest.mark.slow

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
EXAMPLES = sorted(glob.glob(os.path.join(REPO_ROOT, "playbooks", "examples", "*.yml")))
EMPTY = re.compile(r'^\s*"msg": (\[\]|\{\}|""|"\[\]"|"\{\}")\s*$', re.MULTILINE)


@pytest.fixture(scope="module")
def em():
    with Emulator(tls=True, vms=300, days=30, seed=2026) as emulator:  # the demo's fleet
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
