"""`make demo-fleet`: three Enterprise Managers in one nightly run and one fleet report.

Three emulators stand in for three EMs (HTTPS, each with its own CA, certificate validation on),
an inventory names them as hosts of the group veeam_em with their connection in host variables
(and a stricter RPO for one of them), and playbooks/fleet_compliance.yml reads them in parallel,
writes each EM's reports to its own folder and one fleet report with a section per EM.
`--wrong-password` makes the third EM refuse the inventory's password: it then shows as an error
for its part (the fleet is error, never compliant) while the other two keep their verdicts.
"""
import argparse
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO_ROOT, "tests"))

from fleet_support import WRONG_PASSWORD, em_host_vars, emulators, run_fleet, write_inventory  # noqa: E402

FLEET = {"em-london": dict(vms=300, days=30, seed=2026), "em-paris": dict(vms=150, days=30, seed=7),
         "em-tokyo": dict(vms=100, days=30, seed=99)}
POLICY = {"em-paris": {"veeam_em_compliance_backup_rpo_hours": 12}}
REPORT_DIR = os.path.join(REPO_ROOT, "reports", "fleet")


def say(text):
    print("demo-fleet: " + text, flush=True)


def inventory(ems, workdir, wrong_password):
    hosts = {}
    for name, em in ems.items():
        password = WRONG_PASSWORD if wrong_password and name == "em-tokyo" else None
        hosts[name] = em_host_vars(em, password=password, **POLICY.get(name, {}))
    return write_inventory(os.path.join(workdir, "fleet_inventory.json"), hosts)


def print_summary():
    with open(os.path.join(REPORT_DIR, "fleet_compliance.json"), encoding="utf-8") as handle:
        fleet = json.load(handle)
    summary = fleet["summary"]
    print("\nFleet: {0}. {1} Enterprise Managers, {2} VMs judged ({3} in violation, {4} with warnings).".format(
        fleet["status"], summary["ems_total"], summary["vms_total"], summary["vms_violation"], summary["vms_warning"]))
    for entry in fleet["ems"]:
        s = entry["summary"]
        print("  {0:<10} {1:<9} {2:>4} VMs, {3:>3} in violation, {4:>2} silent backup servers{5}".format(
            entry["em"], entry["status"], s["vms_total"], s["vms_violation"], s["servers_silent"],
            ("  - " + entry["first_errors"][0][:120]) if entry["first_errors"] else ""))
    page = os.path.join(REPORT_DIR, "fleet_compliance.html")
    print("\nOpen the fleet report: {0}  (file://{1})".format(os.path.relpath(page, REPO_ROOT), page))
    print("Each EM's own reports: {0}/<em>/compliance.html".format(os.path.relpath(REPORT_DIR, REPO_ROOT)))
    return fleet


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wrong-password", action="store_true", help="em-tokyo refuses the inventory's password")
    args = parser.parse_args(argv)
    os.makedirs(REPORT_DIR, exist_ok=True)
    say("starting three EM emulators over HTTPS ({0})...".format(
        ", ".join("{0}: {1} VMs".format(name, spec["vms"]) for name, spec in FLEET.items())))
    with emulators(FLEET) as ems, tempfile.TemporaryDirectory() as workdir:
        for name, em in ems.items():
            say("{0} at {1}".format(name, em.base_url))
        path = inventory(ems, workdir, args.wrong_password)
        say("running ansible-playbook playbooks/fleet_compliance.yml -i <inventory: group veeam_em, one host per EM>")
        run = run_fleet(path, {"veeam_em_fleet_report_dir": REPORT_DIR, "veeam_em_fleet_fail_on_violation": False,
                               "veeam_em_compliance_fail_on_violation": False}, forks=3)
        # the end of the play: from the first task header in its last 3,000 characters (a plain cut began mid-line)
        tail = run.stdout[-3000:]
        print(tail[tail.find("\nTASK ") + 1:] if "\nTASK " in tail else tail)
        open_sessions = sum(em.stats().get("open_sessions") or 0 for em in ems.values())
    if not os.path.isfile(os.path.join(REPORT_DIR, "fleet_compliance.json")):
        print("demo-fleet: the playbook wrote no fleet report (rc={0}):\n{1}".format(run.returncode, run.stderr[-3000:]),
              file=sys.stderr)
        return run.returncode or 1
    fleet = print_summary()
    if open_sessions:
        print("demo-fleet: {0} EM logon session(s) were left open".format(open_sessions), file=sys.stderr)
        return 1
    if args.wrong_password:  # the error is the point: the run fails, the report still has every EM
        return 0 if fleet["status"] == "error" and len(fleet["ems"]) == 3 else 1
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
