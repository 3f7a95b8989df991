"""Benchmark: nightly compliance with the collection vs. the ansible.builtin.uri baseline vs. the floor.

    python tests/performance/bench.py            # 500, 5,000 and 50,000 VMs, 30 days, 20 ms latency
    python tests/performance/bench.py --quick    # small and fast (what CI runs)

    python tests/performance/bench.py --sizes 50000 --baseline-cap-s 1200   # one point alone

For each fleet size it starts the emulator (a real HTTPS server with an injected per-request
latency), then runs, alternating within one invocation so that machine noise hits all three
alike:
  ours      playbooks/nightly_compliance.yml as users run it: the compliance role, whose
            veeam_em_compliance_info reads and evaluates in one process, writing its reports
            (veeam_em_compliance_report_dir: a fresh temporary directory each run): a cold run,
            the whole 30-day history read from EM
  nightly   the same, the way it runs every night (issue 18): its report_dir already holds the
            previous night's history cache, made by a run with veeam_em_compliance_now = NOW - 24 h
            into the same directory (not timed); the timed run at NOW reads from EM only the
            history after the cached part (from the cached end minus the 48 h overlap)
  baseline  tests/performance/baseline_uri.yml (log on, one uri task per page, Jinja RPO, the
            verdicts written as one JSON file, log off). Above --baseline-max-vms it runs once
            with a time cap (--baseline-cap-s): a run that does not finish is printed "> cap" and
            its ratio as a lower bound (">= x"), never an estimate.
  floor     the bare client in one Python process: log on, send the module's queries (the
            account-reach probe, the window, the history, servers and job sessions), log off
  floor n   the floor of the nightly column: the same, with the warm run's ranges only (floor.py
            --history-from and --window-from: with the window cached too, the window's task sessions from
            the previous run minus the overlap, and no history query when that is inside the window), so
            "night/fl n" compares like with like
and prints wall time (median), requests (from the emulator's stats; the minimum counts one logon,
the probe, one GET per page of every query including the history, one logoff), bytes received, and
peak RSS of every process of the run: the module (a wrapper interpreter's getrusage), the
ansible-playbook controller and the biggest and the sum of the whole process tree (VmHWM / VmRSS
polled from /proc every 0.2 s). Figures are written to tests/performance/results/latest.json.
Nothing here asserts a speed: it measures.
"""
import argparse
import gzip
import json
import math
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests"))

from collection_layout import ansible_env, link_collection  # noqa: E402
from emulator.harness import Emulator  # noqa: E402

sys.path.insert(0, link_collection())
from ansible_collections.backupops.veeam_em.plugins.module_utils import (  # noqa: E402
    em_client, em_compliance_read, em_query, em_resources, em_time)
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import history_cache  # noqa: E402

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


class TreeWatch(threading.Thread):
    """Peak RSS of a process and of its descendants, polled from /proc (Linux) until stopped.

    Per process the kernel's high-water mark (VmHWM) is read, so a peak between two polls is not
    missed while the process lives; a process that starts and ends between two polls is (the module
    is measured exactly by the wrapper interpreter). ``tree_sum`` is the largest sum of the tree's
    VmRSS at one poll.
    """

    def __init__(self, root, interval=0.2):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.hwm = {}        # pid -> (command, peak KiB)
        self.tree_sum = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.poll()
            self.done.wait(self.interval)

    def stop(self):
        self.done.set()
        self.join()

    def poll(self):
        children = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open("/proc/%s/stat" % name, encoding="utf-8", errors="replace") as handle:
                        parent = int(handle.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(parent, []).append(int(name))
        pids, total, stack = [], 0, [self.root]
        while stack:
            pid = stack.pop()
            pids.append(pid)
            stack.extend(children.get(pid, []))
        for pid in pids:
            status = _proc_status(pid)
            if status is None:
                continue
            command, hwm, rss = status
            total += rss
            if hwm > self.hwm.get(pid, ("", 0))[1]:
                self.hwm[pid] = (command, hwm)
        self.tree_sum = max(self.tree_sum, total)

    def figures(self):
        root = self.hwm.get(self.root, ("", 0))[1]
        return {"peak_rss_mb_playbook": root / 1024.0,
                "peak_rss_mb_tree_max": max([peak for _c, peak in self.hwm.values()] or [0]) / 1024.0,
                "peak_rss_mb_tree_sum": self.tree_sum / 1024.0, "processes": len(self.hwm)}


def _proc_status(pid):
    try:
        with open("/proc/%d/status" % pid, encoding="utf-8") as handle:
            fields = dict(line.split(":", 1) for line in handle if ":" in line)
    except OSError:
        return None

    def kib(key):
        return int(fields.get(key, "0 kB").split()[0])
    return fields.get("Name", "").strip(), kib("VmHWM"), kib("VmRSS")


def iso_minus(now_iso, hours):
    epoch = time.mktime(time.strptime(now_iso[:19] + "Z", "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
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

    def _measure(self, command, cap_s=None, extra_env=None):
        """Run one command; wall time, requests, bytes and the peak RSS of its processes.

        With ``cap_s`` a run that is not done after that many seconds is stopped (its whole process
        group) and recorded as ``capped``: its wall time is only a lower bound.
        """
        if os.path.exists(self.rss_file):
            os.remove(self.rss_file)
        self.em.reset_stats()
        env = self.env()
        env.update(extra_env or {})
        started = time.perf_counter()
        proc = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        watch = TreeWatch(proc.pid)
        watch.start()
        capped = False
        try:
            output = proc.communicate(timeout=cap_s)[0]
        except subprocess.TimeoutExpired:
            capped = True
            os.killpg(proc.pid, signal.SIGKILL)
            output = proc.communicate()[0]
        wall = time.perf_counter() - started
        watch.stop()
        if proc.returncode != 0 and not capped:
            raise RuntimeError("%s failed:\n%s" % (command[:2], output[-3000:]))
        stats = self.em.stats()
        rss = 0
        if os.path.exists(self.rss_file):
            with open(self.rss_file, encoding="utf-8") as handle:
                rss = max([int(line) for line in handle if line.strip()] or [0])
        measured = {"wall_s": wall, "requests": stats["requests_total"], "bytes": stats.get("bytes_sent", 0),
                    "peak_rss_mb": rss / 1024.0, "stdout": output, "capped": capped}
        measured.update(watch.figures())
        return measured

    def _ours_command(self, reports, now):
        extra = {"veeam_em_compliance_fail_on_violation": False, "veeam_em_compliance_report_dir": reports,
                 "veeam_em_compliance_now": now, "veeam_em_compliance_lookback_days": LOOKBACK_DAYS,
                 "veeam_em_compliance_page_size": self.page_size,
                 "ansible_python_interpreter": self.interpreter}
        playbook = os.path.join(REPO_ROOT, "playbooks", "nightly_compliance.yml")
        return [os.path.join(BIN, "ansible-playbook"), playbook, "-e", json.dumps(extra)]

    def ours(self):
        reports = tempfile.mkdtemp(dir=self.workdir, prefix="reports-")
        measured = self._measure(self._ours_command(reports, NOW))
        measured["report_files"] = _files(reports)
        shutil.rmtree(reports, ignore_errors=True)
        return measured

    def nightly(self):
        """``ours`` with the previous night's history cache in its report_dir (that night's run not timed)."""
        reports = tempfile.mkdtemp(dir=self.workdir, prefix="nightly-")
        self._measure(self._ours_command(reports, iso_minus(NOW, 24)))
        previous = _cache_document(reports)
        measured = self._measure(self._ours_command(reports, NOW))
        measured["report_files"] = _files(reports)
        # a warm run keeps the full read's time in the cache it writes; a full read writes its own NOW
        measured["used_cache"] = _cache_document(reports).get("full_read_at") == previous.get("full_read_at")
        # the warm run's ranges (history_cache.HistoryCache._fold_lines): the history from read_from to the
        # window start (none when read_from is at or after it), the window's task sessions from window_read_from
        window_start = iso_minus(NOW, LOOKBACK_DAYS * 24)
        read_from = max(iso_minus(NOW, 30 * 24),
                        iso_minus(previous["read_through"], history_cache.DEFAULT_OVERLAP_HOURS))
        measured["history_read_from"] = self.nightly_history_from = read_from
        measured["window_read_from"] = self.nightly_window_from = \
            max(window_start, read_from) if previous.get("window_cached") else window_start
        # the job sessions: from the job part's end minus the overlap (history_cache._job_part), else 30 days
        history_start = em_time.parse_iso(iso_minus(NOW, 30 * 24))
        job_from = history_start if not previous.get("jobs_cached") else max(history_start, em_time.parse_iso(
            previous["job_read_through"]) - timedelta(hours=history_cache.DEFAULT_OVERLAP_HOURS))
        measured["job_read_from"] = self.nightly_job_from = em_time.format_z(job_from)
        shutil.rmtree(reports, ignore_errors=True)
        return measured

    def floor_nightly(self):
        """The floor of the nightly column: the same queries as the warm run (its ranges)."""
        return self.floor(self.nightly_history_from, self.nightly_window_from, self.nightly_job_from)

    def delta_items(self, history_from, window_from, job_from):
        """{task-session query key: items} a warm run reads: the history from ``history_from`` to the window
        start, the window from ``window_from`` to NOW, the job sessions from ``job_from`` to NOW; and the history
        queries it does not send (``skipped``).
        Counted with the bare client after the timed runs."""
        options = em_client.ConnectionOptions(server=self.em.host, port=self.em.port, username=self.em.username,
                                              password=self.em.password, ca_path=self.em.ca_file)
        window_start = iso_minus(NOW, LOOKBACK_DAYS * 24)
        counts, skipped = {}, []
        ranges = (("backup_task_history", em_resources.BACKUP_TASK_SESSION, history_from, window_start),
                  ("replica_task_history", em_resources.REPLICA_TASK_SESSION, history_from, window_start),
                  ("backup_task_sessions", em_resources.BACKUP_TASK_SESSION, window_from, NOW),
                  ("replica_task_sessions", em_resources.REPLICA_TASK_SESSION, window_from, NOW),
                  ("backup_job_sessions", em_resources.BACKUP_JOB_SESSION, job_from, NOW),
                  ("replica_job_sessions", em_resources.REPLICA_JOB_SESSION, job_from, NOW))
        with em_client.EMClient(options) as client:
            for key, base, after, before in ranges:
                if em_time.parse_iso(after) >= em_time.parse_iso(before):
                    skipped.append(key)  # not sent (a history the cache holds whole): no items, no request
                    counts[key] = 0
                    continue
                resource = base.project(["creation_time"])
                window = {"created_after": after, "created_before": before}
                found, _info = client.query(resource, em_query.build_filter(resource, window),
                                            em_query.sort_field(resource, resource.default_sort), "desc",
                                            self.page_size, concurrency=4)
                counts[key] = len(found)
        counts["skipped"] = skipped
        return counts

    def baseline(self, cap_s=None):
        report = os.path.join(self.workdir, "baseline-verdicts.json")
        if os.path.exists(report):
            os.remove(report)
        extra = {"baseline_page_size": self.page_size, "ansible_python_interpreter": self.interpreter,
                 "baseline_report_path": report}
        measured = self._measure([os.path.join(BIN, "ansible-playbook"), os.path.join(HERE, "baseline_uri.yml"),
                                  "-e", json.dumps(extra)], cap_s=cap_s)
        measured["report_files"] = _files(os.path.dirname(report), "baseline-verdicts.json")
        return measured

    def floor(self, history_from=None, window_from=None, job_from=None):
        """The bare client sending the module's queries; with ``history_from`` and ``window_from`` those of a
        warm night."""
        command = [sys.executable, os.path.join(HERE, "floor.py"), "--page-size", str(self.page_size),
                   "--created-after", iso_minus(NOW, LOOKBACK_DAYS * 24), "--created-before", NOW]
        command += ["--history-from", history_from] if history_from else []
        command += ["--window-from", window_from] if window_from else []
        command += ["--job-from", job_from] if job_from else []
        measured = self._measure(command)
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


READ_KEYS = ("backup_task_sessions", "replica_task_sessions", "backup_task_history", "replica_task_history",
             "backup_servers", "backup_job_sessions", "replica_job_sessions")


def _cache_document(reports):
    """The header line of the history cache the module wrote into ``reports`` (basename: compliance)."""
    with gzip.open(os.path.join(reports, "compliance" + history_cache.SUFFIX), "rt", encoding="utf-8") as stream:
        return json.loads(stream.readline())


def _files(directory, only=None):
    """{file name: bytes} of the reports a run wrote (an empty dict: none written)."""
    if not os.path.isdir(directory):
        return {}
    return {name: os.path.getsize(os.path.join(directory, name)) for name in sorted(os.listdir(directory))
            if only is None or name == only}


NAMED_ASKED = "named_job_sessions_asked"


def minimum_requests(items_by_key, page_size):
    """One logon, the account-reach probe (one request), one GET per page of each query the module
    sends (at least one each; the history before the window too, unless not sent: ``skipped``), one per
    em_compliance_read.NAMED_CHUNK job sessions asked for by UID (none when none is), one logoff."""
    return 2 + 1 + sum(max(1, math.ceil(items_by_key.get(key, 0) / page_size)) for key in READ_KEYS
                       if key not in items_by_key.get("skipped", ())) + \
        math.ceil(items_by_key.get(NAMED_ASKED, 0) / em_compliance_read.NAMED_CHUNK)


def run_size(vms, days, repeat, latency_ms, page_size, baseline_cap_s=None):
    """One fleet size. ``baseline_cap_s``: the baseline runs once with that time cap (0: not at all)."""
    with tempfile.TemporaryDirectory() as workdir, \
            Emulator(vms=vms, days=days, seed=42, tls=True, latency_ms=latency_ms, now=NOW,
                     startup_timeout=1800) as em:
        bench = Bench(em, workdir, page_size)
        runs = {"ours": [], "nightly": [], "baseline": [], "floor": [], "floor_nightly": []}
        calibration = []
        for _round in range(repeat):
            calibration.append(machine_speed())
            for name in ("ours", "nightly", "baseline", "floor", "floor_nightly"):
                if name == "baseline" and baseline_cap_s is not None:
                    continue
                runs[name].append(getattr(bench, name)())
        if baseline_cap_s:  # once, capped: "> cap" when it does not finish, never an estimate
            runs["baseline"].append(bench.baseline(cap_s=baseline_cap_s))
        elif baseline_cap_s == 0:  # recorded as not measured, never as a made-up figure
            runs["baseline"] = [{"wall_s": float("nan"), "requests": None, "bytes": 0, "peak_rss_mb": 0.0,
                                 "capped": False, "report_files": {}}]
        floor = runs["floor"][-1]
        dataset_sessions = len(em.dataset().get("task_sessions", []))
        ours, base, nightly = runs["ours"], runs["baseline"], runs["nightly"]
        warm = nightly[-1]
        delta = dict(floor, **bench.delta_items(warm["history_read_from"], warm["window_read_from"],
                                                warm["job_read_from"]))
        # the job sessions asked for by UID: as many as the warm night's own floor asked (its range read less)
        delta[NAMED_ASKED] = runs["floor_nightly"][-1].get(NAMED_ASKED, 0)
        row = {
            "vms": vms, "days": days, "sessions": dataset_sessions,
            "window_backup_sessions": floor["backup_task_sessions"],
            "window_replica_sessions": floor["replica_task_sessions"],
            "window_items": {key: floor.get(key, 0) for key in READ_KEYS},
            "wall_s_ours": statistics.median(r["wall_s"] for r in ours),
            "wall_s_baseline": statistics.median(r["wall_s"] for r in base),
            "baseline_capped": any(r["capped"] for r in base),
            "wall_s_floor": statistics.median(r["wall_s"] for r in runs["floor"]),
            "requests_ours": ours[-1]["requests"],
            "requests_baseline": base[-1]["requests"],
            "requests_floor": floor["requests"],
            "requests_minimum": minimum_requests(floor, page_size),
            "wall_s_nightly": statistics.median(r["wall_s"] for r in nightly),
            "wall_s_floor_nightly": statistics.median(r["wall_s"] for r in runs["floor_nightly"]),
            "requests_floor_nightly": runs["floor_nightly"][-1]["requests"],
            "requests_nightly": nightly[-1]["requests"],
            "requests_minimum_nightly": minimum_requests(delta, page_size),
            "nightly_used_cache": all(r["used_cache"] for r in nightly),
            "nightly_history_from": nightly[-1]["history_read_from"],
            "nightly_window_from": nightly[-1]["window_read_from"],
            "nightly_history_items": {key: delta.get(key, 0)
                                      for key in ("backup_task_history", "replica_task_history")},
            "nightly_window_items": {key: delta[key] for key in ("backup_task_sessions", "replica_task_sessions")},
            "nightly_skipped": delta["skipped"],
            "bytes_nightly": nightly[-1]["bytes"],
            "peak_rss_mb_nightly": max(r["peak_rss_mb"] for r in nightly),
            "bytes_ours": ours[-1]["bytes"],
            "bytes_baseline": base[-1]["bytes"],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in ours),
            "peak_rss_mb_ours_playbook": max(r.get("peak_rss_mb_playbook", 0) for r in ours),
            "peak_rss_mb_ours_tree_max": max(r.get("peak_rss_mb_tree_max", 0) for r in ours),
            "peak_rss_mb_ours_tree_sum": max(r.get("peak_rss_mb_tree_sum", 0) for r in ours),
            "peak_rss_mb_baseline": max(r["peak_rss_mb"] for r in base),
            "peak_rss_mb_baseline_playbook": max(r.get("peak_rss_mb_playbook", 0) for r in base),
            "peak_rss_mb_baseline_tree_sum": max(r.get("peak_rss_mb_tree_sum", 0) for r in base),
            "peak_rss_mb_floor": max(r.get("peak_rss_mb_tree_max", 0) for r in runs["floor"]),
            "report_files_ours": ours[-1]["report_files"],
            "report_files_baseline": base[-1]["report_files"],
            # every run's wall time, and the machine's speed before each round (machine_speed): the figures above
            # are medians, and on a shared machine the same work took 0.84 to 1.43 s of machine_speed an hour apart
            "walls_s": dict((name, [r["wall_s"] for r in done]) for name, done in runs.items()),
            "machine_speed_s": calibration,
        }
        if baseline_cap_s == 0:
            row["wall_s_baseline"] = row["ratio_baseline_over_ours"] = row["ratio_baseline_over_nightly"] = None
        else:
            # a capped baseline ran at least this long: the ratio is a lower bound
            row["ratio_baseline_over_ours"] = row["wall_s_baseline"] / row["wall_s_ours"]
            row["ratio_baseline_over_nightly"] = row["wall_s_baseline"] / row["wall_s_nightly"]
        row["ratio_ours_over_floor"] = row["wall_s_ours"] / row["wall_s_floor"]
        row["ratio_nightly_over_floor"] = row["wall_s_nightly"] / row["wall_s_floor_nightly"]
        return row, bench


def machine_speed():
    """Seconds for a fixed piece of pure-Python work (10 million additions), best of three: how fast this machine
    is right now. A shared machine's speed moves (here 0.84 to 1.43 s within an hour, session 11 of issue 18), and
    every run of a round moves with it; printed beside the figures so that a reader can tell."""
    def once():
        started, total = time.perf_counter(), 0
        for number in range(10000000):
            total += number
        return time.perf_counter() - started
    return min(once() for _attempt in range(3))


def _maybe(pattern, value):
    return "n/a" if value is None else pattern % value


def print_table(rows):
    header = ("VMs", "sessions", "window", "ours s", "nightly s", "baseline s", "floor s", "floor n s", "base/ours",
              "base/night", "ours/floor", "night/fl n", "req ours", "req min", "req night", "req min n", "req base", "MB recv",
              "MB night", "RSS module", "RSS play", "RSS tree")
    print(" | ".join("%10s" % h for h in header))
    for r in rows:
        capped = r.get("baseline_capped")
        values = (r["vms"], r["sessions"], r["window_backup_sessions"] + r["window_replica_sessions"],
                  "%.2f" % r["wall_s_ours"], "%.2f" % r["wall_s_nightly"],
                  ("> %.0f" % r["wall_s_baseline"]) if capped else _maybe("%.2f", r["wall_s_baseline"]),
                  "%.2f" % r["wall_s_floor"], "%.2f" % r["wall_s_floor_nightly"],
                  (">= %.1fx" if capped else "%.1fx") % r["ratio_baseline_over_ours"]
                  if r["ratio_baseline_over_ours"] is not None else "n/a",
                  (">= %.1fx" if capped else "%.1fx") % r["ratio_baseline_over_nightly"]
                  if r["ratio_baseline_over_nightly"] is not None else "n/a",
                  "%.2fx" % r["ratio_ours_over_floor"], "%.2fx" % r["ratio_nightly_over_floor"],
                  r["requests_ours"], r["requests_minimum"], r["requests_nightly"], r["requests_minimum_nightly"],
                  r["requests_baseline"], "%.1f" % (r["bytes_ours"] / 1e6), "%.1f" % (r["bytes_nightly"] / 1e6),
                  "%.0f" % r["peak_rss_mb"],
                  "%.0f" % r.get("peak_rss_mb_ours_playbook", 0), "%.0f" % r.get("peak_rss_mb_ours_tree_sum", 0))
        print(" | ".join("%10s" % v for v in values))
        walls = r.get("walls_s", {})
        if len(walls.get("baseline", [])) == len(walls.get("nightly", [])) > 1:  # runs of one round: alike conditions
            print("   base/night round by round: %s; machine_speed (s) before each round: %s" % (
                ", ".join("%.1fx" % (b / n) for b, n in zip(walls["baseline"], walls["nightly"])),
                ", ".join("%.2f" % c for c in r.get("machine_speed_s", []))))
        if not r["nightly_used_cache"]:  # said, never a silent cold figure in the nightly column
            print("   WARNING: the nightly run at %d VMs did not use the history cache" % r["vms"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one small fleet, one repeat (CI)")
    parser.add_argument("--sizes", default="500,5000,50000", help="fleet sizes in VMs (default 500,5000,50000)")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--baseline-max-vms", type=int, default=5000,
                        help="run the uri baseline --repeat times up to this fleet size, above it once with the "
                             "time cap (at 50,000 VMs one baseline run pushes ~430 pages of 1,000 sessions "
                             "through Ansible and takes tens of minutes)")
    parser.add_argument("--baseline-cap-s", type=float, default=1800.0,
                        help="time cap of the single baseline run above --baseline-max-vms (0: do not run it)")
    parser.add_argument("--skip-rss-call", action="store_true",
                        help="do not measure the single info-module call (--rss-sessions)")
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
        row, _bench = run_size(vms, args.days, 1 if large else args.repeat, args.latency_ms, args.page_size,
                               baseline_cap_s=args.baseline_cap_s if large else None)
        rows.append(row)
        print_table(rows)
    if not args.skip_rss_call:
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
    if args.sizes != "500,5000,50000" and not args.quick:  # one point alone does not replace the table
        path = RESULTS.replace("latest.json", "sizes-%s.json" % args.sizes.replace(",", "-"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
    print("figures written to %s" % os.path.relpath(path, REPO_ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
