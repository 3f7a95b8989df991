"""`make demo`: the nightly compliance playbook, end to end, against the bundled EM emulator.

It plays the part of the AWX job template: the emulator stands in for Enterprise Manager (HTTPS,
self-signed CA, certificate validation on), the connection reaches the modules the way an AWX
credential injects it (VEEAM_EM_* environment variables), and the playbook is run unchanged.
The demo fleet has violations on purpose, so the play is told not to fail on them; the demo
fails only when something actually broke.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO_ROOT, "tests"))

from collection_layout import ansible_env  # noqa: E402
from emulator.harness import Emulator  # noqa: E402

DEMO_FLEET = {"vms": 300, "days": 30, "seed": 2026}
REPORT_DIR = os.path.join(REPO_ROOT, "reports")
PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "nightly_compliance.yml")


def run_playbook(em):
    env = ansible_env()
    env.update({
        "VEEAM_EM_SERVER": em.host,
        "VEEAM_EM_PORT": str(em.port),
        "VEEAM_EM_USERNAME": em.username,
        "VEEAM_EM_PASSWORD": em.password,
        "VEEAM_EM_CA_PATH": em.ca_file,
        "VEEAM_EM_VALIDATE_CERTS": "true",
    })
    extra_vars = {
        "veeam_em_compliance_fail_on_violation": False,
        "veeam_em_compliance_report_dir": REPORT_DIR,
    }
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               PLAYBOOK, "-e", json.dumps(extra_vars)]
    return subprocess.run(command, env=env, cwd=REPO_ROOT, check=False).returncode


def print_summary():
    """Print the summary; return the number of VMs judged."""
    path = os.path.join(REPORT_DIR, "compliance.json")
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    print("\nStatus: {0}; VMs judged: {1} of the fleet's {2}".format(
        report.get("status"), report["summary"]["vms_total"], DEMO_FLEET["vms"]))
    print("\nCompliance summary:")
    for key, value in sorted(report.get("summary", {}).items()):
        print("  {0:<28} {1}".format(key, value))
    print("\nReports written to {0}/:".format(os.path.relpath(REPORT_DIR, REPO_ROOT)))
    for name in sorted(os.listdir(REPORT_DIR)):
        print("  " + name)
    return report["summary"]["vms_total"]


def main():
    os.makedirs(REPORT_DIR, exist_ok=True)
    print("Starting the EM emulator with {vms} VMs and {days} days of history...".format(**DEMO_FLEET))
    with Emulator(tls=True, **DEMO_FLEET) as em:
        print("Emulator at {0} (CA: {1})".format(em.base_url, em.ca_file))
        rc = run_playbook(em)
        open_sessions = em.stats().get("open_sessions")
    if rc != 0:
        print("demo: the nightly compliance playbook failed (rc={0})".format(rc), file=sys.stderr)
        return rc
    judged = print_summary()
    if judged != DEMO_FLEET["vms"]:
        # Every VM of the fleet has backups in EM's history: one missing is a VM the report hides.
        print("demo: {0} VMs judged, the fleet has {1}".format(judged, DEMO_FLEET["vms"]), file=sys.stderr)
        return 1
    if open_sessions:
        print("demo: {0} EM logon session(s) were left open".format(open_sessions), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
