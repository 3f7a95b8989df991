"""Benchmark of the fleet run (issue 19): N Enterprise Managers in parallel against one EM of the same size.

    python tests/performance/fleet_bench.py            # 8 EMs x 1,000 VMs vs 1 EM x 8,000 VMs; merge at 50 EMs
    python tests/performance/fleet_bench.py --quick    # 2 x 50 VMs vs 1 x 100 VMs; merge at 5 EMs (CI)

Every emulator answers over HTTPS with an added per-request latency (20 ms, as bench.py), a fixed
clock and 30 days of history. Measured, once each (the machine is shared: the figures are noisy):
  fleet   playbooks/fleet_compliance.yml over N EM hosts with --forks N (no report files, like
          bench.py; the merge step with every EM's VM rows included)
  single  playbooks/nightly_compliance.yml against one EM of N x the VMs (VEEAM_EM_* environment)
  alone   playbooks/nightly_compliance.yml against one EM of the fleet by itself: the requests one
          EM needs, which the fleet run must not exceed per EM
  merge   playbooks/fleet_compliance_merge.yml with M synthetic per-EM parts given as extra vars
          (as AWX passes the slices' artifacts to the merge node), and em_fleet.merge + render in
          Python for M EMs with 1,000 VM rows each
Wall time, requests per EM (the emulators' own counters) and peak memory: the summed RSS of the
ansible-playbook process tree (controller, workers, modules), sampled every 50 ms from /proc.
Nothing here asserts a speed. Figures go to results/fleet_latest.json (quick: fleet_quick.json).
"""
import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests"))

from collection_layout import ansible_env, link_collection  # noqa: E402
from emulator.harness import Emulator  # noqa: E402
from fleet_support import (ANSIBLE_PLAYBOOK, MERGE_PLAYBOOK, em_host_vars, emulators,  # noqa: E402
                           write_inventory)

NOW = "2026-11-01T06:00:00Z"
LOOKBACK_DAYS = 7
NIGHTLY = os.path.join(REPO_ROOT, "playbooks", "nightly_compliance.yml")
FLEET_PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "fleet_compliance.yml")
RESULTS = os.path.join(HERE, "results", "fleet_latest.json")
PAGE = os.sysconf("SC_PAGE_SIZE")
ROLE_VARS = {"veeam_em_compliance_fail_on_violation": False, "veeam_em_compliance_now": NOW,
             "veeam_em_compliance_lookback_days": LOOKBACK_DAYS}


# --- measuring -----------------------------------------------------------------------------------

def _children():
    """pid -> parent pid of every process (Linux /proc)."""
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name, encoding="utf-8") as handle:
                    parents[int(name)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    return parents


def _tree_rss(root):
    parents = _children()
    tree, grew = {root}, True
    while grew:
        found = set(pid for pid, parent in parents.items() if parent in tree) - tree
        grew = bool(found)
        tree |= found
    total = 0
    for pid in tree:
        try:
            with open("/proc/%d/statm" % pid, encoding="utf-8") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total


def run_measured(command, env):
    """Run ``command``; wall seconds, peak summed RSS (MB) of its process tree, the completed process."""
    import subprocess
    peak = [0]
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            done.wait(0.05)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError("%s failed (rc %s):\n%s" % (os.path.basename(command[1]), proc.returncode,
                                                       (stdout + stderr)[-3000:]))
    return wall, peak[0] / 1e6


def clean_env(extra=None):
    env = dict((k, v) for k, v in ansible_env().items() if not k.startswith("VEEAM_EM_"))
    env.update(extra or {})
    return env


def single_env(em):
    return clean_env({"VEEAM_EM_SERVER": em.host, "VEEAM_EM_PORT": str(em.port), "VEEAM_EM_USERNAME": em.username,
                      "VEEAM_EM_PASSWORD": em.password, "VEEAM_EM_CA_PATH": em.ca_file})


def nightly(em):
    em.reset_stats()
    extra = dict(ROLE_VARS, veeam_em_compliance_report_dir="", ansible_python_interpreter=sys.executable)
    wall, rss = run_measured([ANSIBLE_PLAYBOOK, NIGHTLY, "-i", "localhost,", "-e", json.dumps(extra)], single_env(em))
    return {"wall_s": wall, "peak_rss_mb": rss, "requests": em.stats()["requests_total"]}


# --- the runs ------------------------------------------------------------------------------------

def fleet_run(count, vms, days, latency_ms, workdir):
    specs = dict(("em-%02d" % i, dict(vms=vms, days=days, seed=100 + i, latency_ms=latency_ms, now=NOW,
                                      startup_timeout=900)) for i in range(count))
    with emulators(specs) as ems:
        inventory = write_inventory(os.path.join(workdir, "fleet.json"),
                                    dict((name, em_host_vars(em)) for name, em in ems.items()))
        for em in ems.values():
            em.reset_stats()
        extra = dict(ROLE_VARS, veeam_em_fleet_report_dir="", veeam_em_fleet_fail_on_violation=False)
        wall, rss = run_measured([ANSIBLE_PLAYBOOK, FLEET_PLAYBOOK, "-i", inventory, "--forks", str(count),
                                  "-e", json.dumps(extra)], clean_env())
        requests = dict((name, em.stats()["requests_total"]) for name, em in ems.items())
        alone = nightly(ems["em-00"])
    return {"ems": count, "vms_per_em": vms, "wall_s": wall, "peak_rss_mb": rss, "requests_per_em": requests,
            "requests_em00_alone": alone["requests"], "wall_s_em00_alone": alone["wall_s"],
            "peak_rss_mb_em00_alone": alone["peak_rss_mb"]}


def single_run(vms, days, latency_ms):
    with Emulator(vms=vms, days=days, seed=100, tls=True, latency_ms=latency_ms, now=NOW, startup_timeout=900) as em:
        measured = nightly(em)
    return dict(measured, vms=vms)


def synthetic_part(index, violations=10):
    summary = {"vms_total": 1000, "vms_compliant": 960, "vms_warning": 30, "vms_violation": 10, "servers_total": 3,
               "servers_silent": 0, "jobs_total": 40, "jobs_failed": 2, "violations_total": 12,
               "warnings_total": 35, "errors_total": 0}
    return {"em": "em-%02d" % index, "status": "violation", "summary": summary,
            "source": {"em_server": "https://em-%02d.example.com:9398" % index, "username": "CORP\\svc"},
            "generated_at": NOW, "window": {"start": "2026-10-25T06:00:00Z", "end": NOW},
            "first_violations": ["vbr01.example.com / vm%04d: rpo_exceeded - data of the last successful backup is "
                                 "30.5h old (RPO 24h)" % n for n in range(violations)],
            "violations_omitted": 2, "first_errors": [], "errors_omitted": 0,
            "reports": {"json": "/reports/em-%02d/compliance.json" % index}}


def synthetic_rows(count):
    return [{"vm_display_name": "vm%04d" % n, "vm_uid": "urn:VMware:Vm:vc.vm-%d" % n,
             "backup_server_name": "vbr0%d.example.com" % (n % 3), "status": "violation" if n < 10 else "compliant",
             "reasons": ["rpo_exceeded"] if n < 10 else []} for n in range(count)]


def merge_run(count, workdir):
    """The merge node as AWX runs it: parts as extra vars (one key per EM), fleet reports written."""
    parts = dict(("veeam_em_fleet_em_em_%02d_%08x" % (i, i), synthetic_part(i)) for i in range(count))
    hosts = dict(("em-%02d" % i, {}) for i in range(count))
    inventory = write_inventory(os.path.join(workdir, "merge.json"), hosts)
    extra_path = os.path.join(workdir, "artifacts.json")
    with open(extra_path, "w", encoding="utf-8") as handle:
        json.dump(dict(parts, veeam_em_fleet_report_dir=os.path.join(workdir, "reports"),
                       veeam_em_fleet_fail_on_violation=False), handle)
    wall, rss = run_measured([ANSIBLE_PLAYBOOK, MERGE_PLAYBOOK, "-i", inventory, "-e", "@" + extra_path], clean_env())
    artifact_bytes = len(json.dumps(parts))
    sys.path.insert(0, link_collection())
    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_fleet, em_fleet_report
    rows = synthetic_rows(1000)
    started = time.perf_counter()
    merged = em_fleet.merge(list(parts.values()), now=NOW, vm_rows=dict(("em-%02d" % i, rows) for i in range(count)))
    reports = em_fleet_report.render(merged, ["json", "junit", "html"])
    python_s = time.perf_counter() - started
    return {"ems": count, "wall_s": wall, "peak_rss_mb": rss, "artifacts_bytes": artifact_bytes,
            "python_merge_render_s_with_1000_rows_per_em": python_s,
            "report_bytes_with_rows": dict((k, len(v)) for k, v in reports.items())}


def print_figures(result):
    fleet, single, merge = result["fleet"], result["single"], result["merge"]
    requests = sorted(fleet["requests_per_em"].values())
    print("\n%-44s %10s %12s %s" % ("run", "wall s", "peak MB", "requests"))
    print("%-44s %10.2f %12.0f per EM %d..%d (one EM alone: %d)" % (
        "fleet: %d EMs x %d VMs, forks %d" % (fleet["ems"], fleet["vms_per_em"], fleet["ems"]), fleet["wall_s"],
        fleet["peak_rss_mb"], requests[0], requests[-1], fleet["requests_em00_alone"]))
    print("%-44s %10.2f %12.0f %d" % (
        "single: 1 EM x %d VMs" % single["vms"], single["wall_s"], single["peak_rss_mb"], single["requests"]))
    print("%-44s %10.2f %12.0f %d" % (
        "one fleet EM alone: 1 x %d VMs" % fleet["vms_per_em"], fleet["wall_s_em00_alone"],
        fleet["peak_rss_mb_em00_alone"], fleet["requests_em00_alone"]))
    print("%-44s %10.2f %12.0f artifacts %d bytes; Python merge+render with 1,000 rows/EM %.2f s" % (
        "merge node: %d EMs (synthetic parts)" % merge["ems"], merge["wall_s"], merge["peak_rss_mb"],
        merge["artifacts_bytes"], merge["python_merge_render_s_with_1000_rows_per_em"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny variant (CI)")
    parser.add_argument("--ems", type=int, default=8)
    parser.add_argument("--vms", type=int, default=1000, help="VMs per EM of the fleet")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--merge-ems", type=int, default=50)
    args = parser.parse_args(argv)
    if args.quick:
        args.ems, args.vms, args.days, args.merge_ems = 2, 50, 8, 5
    link_collection()
    with tempfile.TemporaryDirectory() as workdir:
        print("fleet: %d emulators x %d VMs, %d days, %s ms latency..." % (
            args.ems, args.vms, args.days, args.latency_ms), flush=True)
        fleet = fleet_run(args.ems, args.vms, args.days, args.latency_ms, workdir)
        print("single: 1 emulator x %d VMs..." % (args.ems * args.vms), flush=True)
        single = single_run(args.ems * args.vms, args.days, args.latency_ms)
        print("merge: %d synthetic EMs..." % args.merge_ems, flush=True)
        merge = merge_run(args.merge_ems, workdir)
    result = {"fleet": fleet, "single": single, "merge": merge, "latency_ms": args.latency_ms, "days": args.days,
              "lookback_days": LOOKBACK_DAYS, "quick": args.quick,
              "bench_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    print_figures(result)
    path = RESULTS.replace("fleet_latest.json", "fleet_quick.json") if args.quick else RESULTS
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2, sort_keys=True)
    print("figures written to %s" % os.path.relpath(path, REPO_ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
