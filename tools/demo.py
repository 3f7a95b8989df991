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


TOP_N = 10  # failing VMs named at the end of the demo


def say(text):
    print("demo: " + text, flush=True)


def run_playbook(em):
    env = ansible_env()
    env.update({
        "VEEAM_EM_SERVER": em.host,
        "VEEAM_EM_PORT": str(em.port),
        "VEEAM_EM_USERNAME": em.username,
        "VEEAM_EM_PASSWORD": em.password,
        "VEEAM_EM_CA_PATH": em.ca_file,
        "VEEAM_EM_VALIDATE_CERTS": "true",
        # the fail tasks are skipped on purpose (fail_on_violation: false below): do not list them
        "ANSIBLE_DISPLAY_SKIPPED_HOSTS": "false",
    })
    extra_vars = {
        "veeam_em_compliance_fail_on_violation": False,
        "veeam_em_compliance_report_dir": REPORT_DIR,
    }
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               PLAYBOOK, "-e", json.dumps(extra_vars)]
    say("running ansible-playbook {0} (as the AWX job template would; VEEAM_EM_* point at the emulator)".format(
        os.path.relpath(PLAYBOOK, REPO_ROOT)))
    return subprocess.run(command, env=env, cwd=REPO_ROOT, check=False).returncode


def _age(row):
    """Hours since the VM's last successful backup; never backed up sorts first."""
    age = (row.get("backup") or {}).get("last_success_age_hours")
    return float("inf") if age is None else age


def _shorten(text, width=110):
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 1] + "\u2026"


def print_summary():
    """Say what a person needs: the verdict, the failing VMs and jobs, the report to open.

    Returns the number of VMs judged."""
    path = os.path.join(REPORT_DIR, "compliance.json")
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    summary = report["summary"]
    print("\nResult: {0}. VMs judged: {1} of the fleet's {2} - {3} in violation, {4} with warnings, "
          "{5} compliant.".format(report.get("status"), summary["vms_total"], DEMO_FLEET["vms"],
                                  summary["vms_violation"], summary["vms_warning"], summary["vms_compliant"]))
    changes = report.get("changes")
    if changes:  # written by the module: compared with the previous run's report in the same directory
        print("Since the last report: " + ("first report in {0}/ - nothing to compare with.".format(
            os.path.relpath(REPORT_DIR, REPO_ROOT)) if changes["first_report"] else
            "{0} new, {1} recurring, {2} resolved finding(s) (previous report {3}).".format(
                len(changes["new"]), len(changes["recurring"]), len(changes["resolved"]),
                changes["previous_generated_at"])))
    for error in report.get("errors") or []:
        print("  EM could not be read in full: " + _shorten(error.get("message") or error.get("text")))
    failing = sorted((row for row in report.get("vms", []) if row.get("status") == "violation"),
                     key=lambda row: (-_age(row), row.get("vm_display_name") or ""))
    if failing:
        print("\nFailing VMs ({0} of {1}, longest without a good backup first):".format(
            min(TOP_N, len(failing)), len(failing)))
        shown = failing[:TOP_N]
        width = max(len("{0} ({1})".format(row.get("vm_display_name"), row.get("backup_server_name"))) for row in shown)
        for row in shown:
            worst = [f for f in row.get("findings", []) if f.get("severity") == "violation"] or row.get("findings", [])
            print("  {0:<{width}}  {1}".format(
                "{0} ({1})".format(row.get("vm_display_name"), row.get("backup_server_name")),
                _shorten(worst[0].get("code") + ": " + worst[0].get("message"), 150 - width) if worst
                else ", ".join(row.get("reasons") or []), width=width))
    jobs = [job for job in report.get("jobs", []) if job.get("failed")]
    if jobs:
        print("\nJobs whose last run failed ({0}):".format(len(jobs)))
        for job in sorted(jobs, key=lambda job: -(job.get("failed_sessions") or 0))[:TOP_N]:
            print("  {0} ({1}): {2} of {3} runs failed".format(
                job.get("job_name"), job.get("backup_server_name"), job.get("failed_sessions"), job.get("sessions")))
    html_report = os.path.join(REPORT_DIR, "compliance.html")
    print("\nOpen the report: {0}  (file://{1})".format(os.path.relpath(html_report, REPO_ROOT), html_report))
    print("Also in {0}/: compliance.json (the full evaluation), compliance.xml (JUnit), dated copies of each run; "
          "compliance.state.json and compliance.trend.json (what the next run compares with), "
          "compliance.history-cache.json.gz (EM's history, so the next night reads only what changed).".format(
              os.path.relpath(REPORT_DIR, REPO_ROOT)))
    print("The demo runs with veeam_em_compliance_fail_on_violation=false, so it ends well; a real nightly run "
          "with violations fails the play after writing the reports (ansible-playbook exits 2), as AWX should see it.")
    print("Next: . {0}/bin/activate; ansible-doc -t role backupops.veeam_em.veeam_em_compliance".format(
        os.path.relpath(os.path.dirname(os.path.dirname(sys.executable)), REPO_ROOT)))
    return summary["vms_total"]


def main():
    os.makedirs(REPORT_DIR, exist_ok=True)
    say("starting the EM emulator over HTTPS with a generated fleet of {vms} VMs and {days} days of "
        "history (violations on purpose)...".format(**DEMO_FLEET))
    with Emulator(tls=True, **DEMO_FLEET) as em:
        say("emulator at {0} (its CA: {1}; certificate validation on)".format(em.base_url, em.ca_file))
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
