"""Several emulators as one fleet of Enterprise Managers, and the inventory that names them.

Shared by tests/integration/test_fleet_compliance.py, the AWX slicing test, tools/demo_fleet.py
and tests/performance/fleet_bench.py, so they agree on the inventory layout (one host per EM in
the group ``veeam_em``, connection from host variables) that playbooks/fleet_compliance.yml reads.
"""
import contextlib
import json
import os
import socket
import subprocess
import sys

from collection_layout import REPO_ROOT, ansible_env
from emulator.harness import Emulator

FLEET_PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "fleet_compliance.yml")
MERGE_PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "fleet_compliance_merge.yml")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
WRONG_PASSWORD = "not-the-Pass-w0rd"


def free_port():
    """A loopback port nobody listens on (an EM that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def emulators(specs):
    """Start one emulator per spec (name -> Emulator kwargs), yield name -> Emulator."""
    with contextlib.ExitStack() as stack:
        yield dict((name, stack.enter_context(Emulator(tls=True, **kwargs))) for name, kwargs in specs.items())


def em_host_vars(em, password=None, **policy):
    """Host variables of one EM (the connection of playbooks/fleet_compliance.yml), plus policy overrides."""
    host = {"veeam_em_server": em.host, "veeam_em_port": em.port, "veeam_em_username": em.username,
            "veeam_em_password": password or em.password, "veeam_em_ca_path": em.ca_file,
            "ansible_python_interpreter": sys.executable}
    host.update(policy)
    return host


def down_host_vars():
    """An EM that is down: nothing listens on its port."""
    return {"veeam_em_server": "127.0.0.1", "veeam_em_port": free_port(), "veeam_em_username": "emadmin",
            "veeam_em_password": "emadmin-Pass1", "ansible_python_interpreter": sys.executable}


def write_inventory(path, hosts, group="veeam_em", group_vars=None):
    """A YAML (JSON) inventory: the EM hosts in ``group``, and localhost for the merge."""
    inventory = {"all": {"children": {group: {"hosts": hosts, "vars": dict(group_vars or {})}},
                         "hosts": {"localhost": {"ansible_connection": "local",
                                                 "ansible_python_interpreter": sys.executable}}}}
    with open(str(path), "w", encoding="utf-8") as handle:
        json.dump(inventory, handle, indent=2)
    return str(path)


def run_fleet(inventory, extra_vars, playbook=FLEET_PLAYBOOK, env=None, forks=None, limit=None, timeout=900,
              options=()):
    """ansible-playbook over the inventory; no VEEAM_EM_* in the environment unless given."""
    run_env = dict((k, v) for k, v in ansible_env().items() if not k.startswith("VEEAM_EM_"))
    run_env.update(env or {})
    command = [ANSIBLE_PLAYBOOK, playbook, "-i", inventory, "-e", json.dumps(extra_vars)]
    if forks:
        command += ["--forks", str(forks)]
    if limit:
        command += ["--limit", limit]
    command += list(options)
    return subprocess.run(command, env=run_env, capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT,
                          check=False)
