"""Benchmark: nightly compliance with the collection vs. the ansible.builtin.uri baseline vs. the floor.

    python tests/performance/bench.py            # 500, 5,000 and 50,000 VMs, 30 days, 20 ms latency
    python tests/performance/bench.py --quick    # small and fast (what CI runs)

For each fleet size it starts the emulator (a real HTTPS server with an injected per-request
latency), then runs, alternating within one invocation so that machine noise hits all three
alike:
  ours      playbooks/nightly_compliance.yml (the compliance role: veeam_em_compliance_info reads and
            evaluates in one process; no report files, like the baseline)
  baseline  tests/performance/baseline_uri.yml (log on, one uri task per page, Jinja RPO, log off)
  floor     the bare client in one Python process: log on, send the role's queries, log off
and prints wall time (median), requests (from the emulator's stats), bytes received, and peak
RSS of the module processes (measured by a wrapper interpreter). Figures are written to
tests/performance/results/latest.json. Nothing here asserts a speed: it measures.
"""
import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests"))

from collection_layout import ansible_env, link_collection  # noqa: E402
from emulator.harness import Emulator  # noqa: E402

NOW = "2026-11-01T06:00:00Z"          # a fixed clock keeps every run's window identical
LOOKBACK_DAYS = 7
RPO_HOURS = 24
BIN = os.path.dirname(sys.executable)
RESULTS = os.path.join(HERE, "results", "latest.json")

RSS_WRAPPER = '''#!{python}
"""Interpreter stand-in: runs the module with the real Python and records its peak RSS (KiB)."""
import os, resource, subprocess, sys
rc = subprocess.call([{python!r}] + sys.argv[1:])
with open(os.environ["VEEAM_EM_BENCH_RSS_FILE"], "a") as handle:
    handle.write("%d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)
'''


def iso_minus(now_iso, hours):
    epoch = time.mktime(time.strptime(now_iso, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch - hours * 3600))


class Bench:
    def __init__(self, em, workdir, page_size):
        self.em = em
        self.workdir = workdir
        self.page_size = page_size
        self.rss_file = os.path.join(workdir, "rss.txt")
        self.interpreter = os.path.join(workdir, "python-rss")
        with open(self.interpreter, "w", encoding="utf-8") as handle:
            handle.write(RSS_WRAPPER.format(python=sys.executable))
        os.chmod(self.interpreter, 0o755)

    def env(self):
        env = ansible_env()
        env.update({
            "VEEAM_EM_SERVER": self.em.host, "VEEAM_EM_PORT": str(self.em.port),
            "VEEAM_EM_USERNAME": self.em.username, "VEEAM_EM_PASSWORD": self.em.password,
            "VEEAM_EM_CA_PATH": self.em.ca_file, "VEEAM_EM_BENCH_RSS_FILE": self.rss_file,
            "BASELINE_WINDOW_START": iso_minus(NOW, LOOKBACK_DAYS * 24),
            "BASELINE_RPO_CUTOFF": iso_minus(NOW, RPO_HOURS),
        })
        return env

    def _measure(self, command):
        if os.path.exists(self.rss_file):
            os.remove(self.rss_file)
        self.em.reset_stats()
        started = time.perf_counter()
        completed = subprocess.run(command, env=self.env(), cwd=REPO_ROOT, capture_output=True, text=True,
                                   check=False)
        wall = time.perf_counter() - started
        if completed.returncode != 0:
            raise RuntimeError("%s failed:\n%s" % (command[:2], (completed.stdout + completed.stderr)[-3000:]))
        stats = self.em.stats()
        rss = 0
        if os.path.exists(self.rss_file):
            with open(self.rss_file, encoding="utf-8") as handle:
                rss = max(int(line) for line in handle if line.strip())
        return {"wall_s": wall, "requests": stats["requests_total"], "bytes": stats.get("bytes_sent", 0),
                "peak_rss_mb": rss / 1024.0, "stdout": completed.stdout}

    def ours(self):
        extra = {"veeam_em_compliance_fail_on_violation": False, "veeam_em_compliance_report_dir": "",
                 "veeam_em_compliance_now": NOW, "veeam_em_compliance_lookback_days": LOOKBACK_DAYS,
                 "veeam_em_compliance_page_size": self.page_size,
                 "ansible_python_interpreter": self.interpreter}
        return self._measure([os.path.join(BIN, "ansible-playbook"),
                              os.path.join(REPO_ROOT, "playbooks", "nightly_compliance.yml"), "-e", json.dumps(extra)])

    def baseline(self):
        extra = {"baseline_page_size": self.page_size, "ansible_python_interpreter": self.interpreter}
        return self._measure([os.path.join(BIN, "ansible-playbook"), os.path.join(HERE, "baseline_uri.yml"),
                              "-e", json.dumps(extra)])

    def floor(self):
        measured = self._measure([sys.executable, os.path.join(HERE, "floor.py"), "--page-size", str(self.page_size),
                                  "--created-after", iso_minus(NOW, LOOKBACK_DAYS * 24), "--created-before", NOW])
        measured.update(json.loads(measured["stdout"].strip().splitlines()[-1]))
        return measured

    def big_module_call(self, limit, days):
        """One info-module call returning ``limit`` sessions, for the peak-RSS figure.

        The window is anchored on the emulator's fixed clock (NOW), not on today's date.
        """
        args = "created_after=%s created_before=%s limit=%d page_size=%d" % (
            iso_minus(NOW, days * 24), NOW, limit, self.page_size)
        command = [os.path.join(BIN, "ansible"), "localhost", "-m",
                   "backupops.veeam_em.veeam_em_backup_task_session_info", "-a", args,
                   "-e", "ansible_python_interpreter=" + self.interpreter, "-o"]
        return self._measure(command)


READ_KEYS = ("backup_task_sessions", "replica_task_sessions", "backup_servers", "backup_job_sessions",
             "replica_job_sessions")


def minimum_requests(items_by_key, page_size):
    """One logon, one GET per page of each resource the role needs (at least one each), one logoff."""
    return 2 + sum(max(1, math.ceil(items_by_key[key] / page_size)) for key in READ_KEYS)


def run_size(vms, days, repeat, latency_ms, page_size, with_baseline=True):
    with tempfile.TemporaryDirectory() as workdir, \
            Emulator(vms=vms, days=days, seed=42, tls=True, latency_ms=latency_ms, now=NOW,
                     startup_timeout=900) as em:
        bench = Bench(em, workdir, page_size)
        names = ("ours", "baseline", "floor") if with_baseline else ("ours", "floor")
        runs = {"ours": [], "baseline": [], "floor": []}
        for _round in range(repeat):
            for name in names:
                runs[name].append(getattr(bench, name)())
        if not with_baseline:  # recorded as not measured, never as a made-up figure
            runs["baseline"] = [{"wall_s": float("nan"), "requests": None, "bytes": 0, "peak_rss_mb": 0.0}]
        floor = runs["floor"][-1]
        dataset_sessions = len(em.dataset().get("task_sessions", []))
        row = {
            "vms": vms, "days": days, "sessions": dataset_sessions,
            "window_backup_sessions": floor["backup_task_sessions"],
            "window_replica_sessions": floor["replica_task_sessions"],
            "window_items": {key: floor[key] for key in READ_KEYS},
            "wall_s_ours": statistics.median(r["wall_s"] for r in runs["ours"]),
            "wall_s_baseline": statistics.median(r["wall_s"] for r in runs["baseline"]),
            "wall_s_floor": statistics.median(r["wall_s"] for r in runs["floor"]),
            "requests_ours": runs["ours"][-1]["requests"],
            "requests_baseline": runs["baseline"][-1]["requests"],
            "requests_floor": floor["requests"],
            "requests_minimum": minimum_requests(floor, page_size),
            "bytes_ours": runs["ours"][-1]["bytes"],
            "bytes_baseline": runs["baseline"][-1]["bytes"],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs["ours"]),
            "peak_rss_mb_baseline": max(r["peak_rss_mb"] for r in runs["baseline"]),
        }
        if not with_baseline:
            row["wall_s_baseline"] = row["ratio_baseline_over_ours"] = None
        else:
            row["ratio_baseline_over_ours"] = row["wall_s_baseline"] / row["wall_s_ours"]
        row["ratio_ours_over_floor"] = row["wall_s_ours"] / row["wall_s_floor"]
        return row, bench


def _maybe(pattern, value):
    return "n/a" if value is None else pattern % value


def print_table(rows):
    header = ("VMs", "sessions", "window", "ours s", "baseline s", "floor s", "base/ours", "ours/floor",
              "req ours", "req min", "req base", "MB recv", "RSS MB")
    print(" | ".join("%10s" % h for h in header))
    for r in rows:
        values = (r["vms"], r["sessions"], r["window_backup_sessions"] + r["window_replica_sessions"],
                  "%.2f" % r["wall_s_ours"], _maybe("%.2f", r["wall_s_baseline"]), "%.2f" % r["wall_s_floor"],
                  _maybe("%.1fx", r["ratio_baseline_over_ours"]), "%.2fx" % r["ratio_ours_over_floor"],
                  r["requests_ours"], r["requests_minimum"], r["requests_baseline"],
                  "%.1f" % (r["bytes_ours"] / 1e6), "%.0f" % r["peak_rss_mb"])
        print(" | ".join("%10s" % v for v in values))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one small fleet, one repeat (CI)")
    parser.add_argument("--sizes", default="500,5000,50000", help="fleet sizes in VMs (default 500,5000,50000)")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--baseline-max-vms", type=int, default=5000,
                        help="run the uri baseline only up to this fleet size (at 50,000 VMs one baseline run "
                             "pushes ~430 pages of 1,000 sessions through Ansible and takes tens of minutes)")
    parser.add_argument("--rss-sessions", type=int, default=100000,
                        help="sessions returned by the single module call whose peak RSS is reported")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.days, args.repeat, args.rss_sessions = "200", 10, 1, 2000
    link_collection()
    rows, rss_100k = [], None
    for vms in [int(v) for v in args.sizes.split(",")]:
        print("fleet of %d VMs x %d days: starting emulator..." % (vms, args.days), flush=True)
        large = vms > args.baseline_max_vms
        row, bench = run_size(vms, args.days, 1 if large else args.repeat, args.latency_ms, args.page_size,
                              with_baseline=not large)
        rows.append(row)
        print_table(rows)
    # Enough VMs that the --days window holds the wanted number of backup task sessions.
    rss_vms = int(args.rss_sessions / args.days * 1.25) + 10
    with Emulator(vms=rss_vms, days=args.days, seed=42, tls=True, now=NOW, startup_timeout=900) as em, \
            tempfile.TemporaryDirectory() as workdir:
        measured = Bench(em, workdir, args.page_size).big_module_call(args.rss_sessions, args.days)
        rss_100k = measured["peak_rss_mb"]
    print("\nPeak RSS of one info-module call returning %d sessions: %.0f MB" % (args.rss_sessions, rss_100k))
    result = {"runs": rows, "peak_rss_mb_100k_sessions": rss_100k, "rss_sessions": args.rss_sessions,
              "latency_ms": args.latency_ms, "page_size": args.page_size, "repeat": args.repeat,
              "quick": args.quick, "controller_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    # The quick variant (CI) must not overwrite the recorded full figures.
    path = RESULTS.replace("latest.json", "quick.json") if args.quick else RESULTS
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
    print("figures written to %s" % os.path.relpath(path, REPO_ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
