"""AWX compatibility: the nightly playbook through ansible-runner, the engine AWX itself uses.

The environment is not written by hand: it is rendered from the shipped credential type's
injectors (extensions/awx/credential_type_veeam_em.yml) the way AWX renders them, including the
CA certificate written to a file whose path lands in VEEAM_EM_CA_PATH. So the test fails if the
credential type and the modules' environment fallbacks drift apart.
"""
import glob
import json
import os
import shutil
import subprocess
import sys

import jinja2
import pytest
import yaml

from collection_layout import REPO_ROOT, link_collection
from emulator.harness import Emulator

CREDENTIAL_TYPE = os.path.join(REPO_ROOT, "extensions", "awx", "credential_type_veeam_em.yml")
PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "nightly_compliance.yml")


def render_injectors(credential_type, inputs, private_data_dir):
    """Render env and file injectors as AWX does: files first, their paths as tower.filename.*."""
    injectors = credential_type["injectors"]
    filenames = {}
    for key, template in injectors.get("file", {}).items():
        name = key.split(".", 1)[1]
        path = os.path.join(private_data_dir, "env", "cred_" + name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(jinja2.Template(template).render(**inputs))
        filenames[name] = path
    context = dict(inputs, tower={"filename": filenames})
    return {key: jinja2.Template(value).render(**context) for key, value in injectors["env"].items()}


def awx_boolean(value):
    """AWX renders boolean inputs with Python's str(): "True"/"False"."""
    return str(bool(value))


@pytest.fixture(scope="module")
def emulator():
    with Emulator(vms=40, days=8, seed=11, tls=True) as em:
        yield em


def test_nightly_playbook_runs_under_ansible_runner_with_the_credential_type(emulator, tmp_path):
    with open(CREDENTIAL_TYPE, encoding="utf-8") as handle:
        credential_type = yaml.safe_load(handle)
    with open(emulator.ca_file, encoding="utf-8") as handle:
        ca_pem = handle.read()

    private_data_dir = tmp_path / "pdd"
    (private_data_dir / "env").mkdir(parents=True)
    (private_data_dir / "project").mkdir()
    shutil.copy(PLAYBOOK, private_data_dir / "project" / "nightly_compliance.yml")
    inputs = {
        "server": emulator.host, "port": str(emulator.port), "username": emulator.username,
        "password": emulator.password, "validate_certs": awx_boolean(True), "ca_cert": ca_pem,
    }
    envvars = render_injectors(credential_type, inputs, str(private_data_dir))
    assert set(envvars) == {"VEEAM_EM_SERVER", "VEEAM_EM_PORT", "VEEAM_EM_USERNAME",
                            "VEEAM_EM_PASSWORD", "VEEAM_EM_VALIDATE_CERTS", "VEEAM_EM_CA_PATH"}
    # What the execution environment provides besides the credential: the collection itself.
    envvars["ANSIBLE_COLLECTIONS_PATH"] = link_collection()
    envvars["ANSIBLE_NOCOLOR"] = "1"
    (private_data_dir / "env" / "envvars").write_text(json.dumps(envvars))
    report_dir = tmp_path / "reports"
    (private_data_dir / "env" / "extravars").write_text(json.dumps({
        "veeam_em_compliance_fail_on_violation": False,
        "veeam_em_compliance_report_dir": str(report_dir),
    }))
    (private_data_dir / "inventory").mkdir()
    (private_data_dir / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter={0}\n".format(sys.executable))

    bin_dir = os.path.dirname(sys.executable)
    runner_env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    completed = subprocess.run(
        [os.path.join(bin_dir, "ansible-runner"), "run", str(private_data_dir),
         "-p", "nightly_compliance.yml", "--ident", "nightly", "--omit-env-files"],
        capture_output=True, text=True, timeout=600, check=False, env=runner_env)
    output = completed.stdout + completed.stderr

    assert completed.returncode == 0, output[-4000:]
    status = (private_data_dir / "artifacts" / "nightly" / "status").read_text().strip()
    assert status == "successful"
    assert (report_dir / "compliance.json").is_file()
    # What AWX shows people: the job's stdout and its events (runner's own copy of the
    # environment is what --omit-env-files, as AWX uses it, keeps out of the artifacts).
    artifacts = private_data_dir / "artifacts" / "nightly"
    artifacts_text = "".join(
        open(path, encoding="utf-8", errors="replace").read()
        for path in [str(artifacts / "stdout")] + glob.glob(str(artifacts / "job_events" / "*.json")))
    assert emulator.password not in output + artifacts_text
    assert emulator.stats()["open_sessions"] == 0
