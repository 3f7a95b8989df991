#!/usr/bin/env python
"""Peak RSS of veeam_em_compliance_info phase by phase (issue 18), the module run in-process.

The emulator is started once (N VMs x D days, no latency); then each run is a child process that
runs the module's main (run_compliance_info_module, with the role's options: detail compact,
lookback 7 days, the three reports written to a fresh report_dir) and records, at the end of each
phase, the process's RSS and the peak since the previous phase (VmHWM, reset between phases with
/proc/self/clear_refs, Linux only):

  read+fold   logon, the reads, the task sessions folded page by page, logoff
  evaluation  em_compliance.evaluate_fold (the full rows)
  reports     the files written to report_dir (write_for_module)
  compact     the result the module returns (em_compliance.compact; absent with detail full/summary)
  release     gc.collect and malloc_trim before exit_json (em_compliance_module.release_memory)
  exit_json   AnsibleModule.exit_json (its copy, the scrubbing, the JSON to stdout, counted not kept)

With --nightly each run is the warm night users run every night: a first child at NOW - 24 h writes the
history cache into the report_dir (not shown), then the measured child at NOW reads it back; two more
phases are marked inside read+fold: "cache header" (HistoryCache.open_header: the ranges known, the thread that
folds the cache's lines started), "cache lines joined" (the main thread joins that thread, after EM's window task
sessions: what it still waited for the lines is in this phase), "EM reads" (the rest of the reads, up to
HistoryCache.save) and "cache written" (HistoryCache.save); the thread's own span is printed after the phases
("cache lines folded (thread)"). On a tree before the thread (em_compliance_read without CacheLines) the mark is
"cache read back" (HistoryCache.begin, the lines folded before the reads). --cache-marks marks them on a first
night too. "at s" is the time since the child started its module (perf_counter), "cpu s" the CPU time its
process had used by then (time.process_time: all its threads, not a child process's). --eval-marks marks the
evaluation's parts: settle, the walk (its later half in a child process from 1,000 VMs, not seen here), the rows
sorted, the server rows.

    .venv/bin/python tests/performance/module_phases.py --vms 50000 --days 30
    .venv/bin/python tests/performance/module_phases.py --vms 5000 --detail compact --detail summary
    .venv/bin/python tests/performance/module_phases.py --vms 50000 --connect '{"host": ...}' --fine
    .venv/bin/python tests/performance/module_phases.py --vms 5000 --nightly --repeat 3
    .venv/bin/python tests/performance/module_phases.py --vms 5000 --nightly --digest --profile /tmp/night.svg
    .venv/bin/python tests/performance/module_phases.py --vms 5000 --nightly --detail summary --eval-marks

--digest prints the sha256 of the module's JSON output (kept in memory then: that run's exit_json peak is not
the module's), of each report file and of the history cache's decoded lines (sorted: their order follows the
pages' arrival), the report_dir's temporary path, the emulator's host:port and its CA file replaced: to check
that a change leaves the output byte-identical (run the code before and after against one emulator, --connect).
--profile FILE runs the measured child under py-spy (``record --nonblocking``: blocking mode cut the module's
output; py-spy from $PYSPY, else on PATH) and writes its flame graph (speedscope JSON when FILE ends in .json, collapsed stacks when .txt).

Figures, not asserts (the machine may be shared: timings are noisy, memory figures are not).
"""
import argparse
import gzip
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests"))

from collection_layout import link_collection  # noqa: E402

NOW = "2026-11-01T06:00:00Z"
NIGHT_BEFORE = "2026-10-31T06:00:00Z"


def _status_mb(key):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class Phases(object):
    def __init__(self):
        self.rows, self.started, self.cpu = [], time.perf_counter(), time.process_time()

    def mark(self, name):
        self.rows.append({"phase": name, "rss_mb": round(_status_mb("VmRSS")), "peak_mb": round(_status_mb("VmHWM")),
                          "at_s": round(time.perf_counter() - self.started, 2),
                          "cpu_s": round(time.process_time() - self.cpu, 2)})
        try:  # reset the high-water mark: the next phase's peak is its own
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
        except OSError:
            pass


def child(options):
    sys.path.insert(0, link_collection())
    from ansible.module_utils import basic
    from ansible_collections.backupops.veeam_em.plugins.module_utils import (
        em_compliance, em_compliance_module as reader, em_compliance_report)

    phases = Phases()
    params = {"server": options["host"], "port": options["port"], "username": options["username"],
              "password": options["password"], "ca_path": options["ca_file"], "now": options.get("now", NOW),
              "lookback_days": 7,
              "detail": options["detail"], "report_formats": ["json", "junit", "html"],
              "report_dir": options["report_dir"]}
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": params}).encode()  # pylint: disable=protected-access
    if hasattr(basic, "_ANSIBLE_PROFILE"):
        basic._ANSIBLE_PROFILE = "legacy"  # pylint: disable=protected-access

    def after(owner, name, phase):
        original = getattr(owner, name)

        def wrapped(*args, **kwargs):
            answer = original(*args, **kwargs)
            phases.mark(phase)
            return answer
        setattr(owner, name, wrapped)

    def before(owner, name, phase):
        original = getattr(owner, name)

        def wrapped(*args, **kwargs):
            phases.mark(phase)
            return original(*args, **kwargs)
        setattr(owner, name, wrapped)

    after(reader, "_read", "read+fold")
    spans = {}
    if options.get("nightly") or options.get("cache_marks"):
        from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import history_cache
        from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_read
        if hasattr(em_compliance_read, "CacheLines"):  # the lines folded in a thread while EM is read
            _mark_cache_lines(phases, spans, history_cache.HistoryCache, em_compliance_read.CacheLines, after)
        else:  # the code before (the lines folded before the reads): one mark after them
            after(history_cache.HistoryCache, "begin", "cache read back")
        before(history_cache.HistoryCache, "save", "EM reads")
        after(history_cache.HistoryCache, "save", "cache written")
    if options.get("eval_marks"):  # inside the evaluation (--eval-marks): where its peak is
        from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import fold as fold_module
        after(fold_module.SessionFold, "settle", "evaluation: settle")
        after(em_compliance, "_walk_vms", "evaluation: walk")
        after(em_compliance, "sort_rows", "evaluation: rows sorted")
        after(em_compliance, "server_rows", "evaluation: server rows")
    after(reader, "judge_read", "evaluation")
    if options.get("fine"):  # the reports file by file (--fine)
        from ansible_collections.backupops.veeam_em.plugins.module_utils._report import files
        after(files, "_with_history", "reports: state, changes, trend")
        write_atomic = files.write_atomic

        def written(path, chunks, mode):
            write_atomic(path, chunks, mode)
            phases.mark("reports: " + os.path.basename(path).split(".", 1)[1])
        files.write_atomic = written
    after(em_compliance_report, "write_for_module", "reports")
    after(em_compliance, "compact", "compact")
    if hasattr(reader, "release_memory"):
        after(reader, "release_memory", "release")
    if hasattr(em_compliance, "summary_only"):
        after(em_compliance, "summary_only", "compact")

    class Sink(object):  # the module's JSON: counted, not kept (hashed with --digest)
        chars = 0
        kept = []

        def write(self, text):
            Sink.chars += len(text)
            if options.get("digest"):
                Sink.kept.append(text)

        def flush(self):
            pass

    stdout, sys.stdout = sys.stdout, Sink()
    try:
        reader.run_compliance_info_module()
    except SystemExit:
        pass
    finally:
        sys.stdout = stdout
    phases.mark("exit_json")
    sizes = dict((name, round(os.path.getsize(os.path.join(options["report_dir"], name)) / 1e6, 1))
                 for name in os.listdir(options["report_dir"])
                 if ("-" not in name or name.endswith(".history-cache.json.gz")) and not name.startswith("."))
    # clear_refs resets ru_maxrss too: the run's peak is the highest phase peak
    peak = max([row["peak_mb"] for row in phases.rows] + [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0])
    figures = {"phases": phases.rows, "peak_mb": round(peak), "output_mb": round(Sink.chars / 1e6, 2),
               "report_mb": sizes, "spans": spans}
    if options.get("digest"):
        figures["digests"] = _digests(options, "".join(Sink.kept).encode("utf-8"))
    print(json.dumps(figures))


def _mark_cache_lines(phases, spans, cache_class, lines_class, after):
    """The marks of the cache read back in a thread (em_compliance_read.CacheLines): "cache header" after its
    header (the ranges known, the thread started), "cache lines joined" when the main thread first joins the thread
    (before the history and job reads: the wait for the lines, if any, is in that phase), and the thread's own span
    (``spans``: from when it starts folding to when it ends, in the child's seconds; no mark from the thread: a mark
    resets the process's peak). With the lines folded by a child process (em_compliance_read.LINES_IN_CHILD, the
    default) the folder's span is the child's and is not seen here; the join's span holds the wait for its answer,
    its unpickling and take-in."""
    after(cache_class, "open_header", "cache header")
    fold_lines, finish = cache_class.fold_lines, lines_class.finish

    def timed(self, stream, fold):
        begun = time.perf_counter()
        try:
            return fold_lines(self, stream, fold)
        finally:
            spans["cache lines folded (thread)"] = [round(begun - phases.started, 2),
                                                    round(time.perf_counter() - phases.started, 2)]

    def joined(self):
        first, begun = not self.finished, time.perf_counter()
        answer = finish(self)
        if first:  # the main thread's wait for the lines (if any) and the fold's absorb_first
            spans["join: wait + absorb (main thread)"] = [round(begun - phases.started, 2),
                                                          round(time.perf_counter() - phases.started, 2)]
            phases.mark("cache lines joined")
        return answer
    cache_class.fold_lines, lines_class.finish = timed, joined


def _digests(options, output):
    """sha256 of the module's output and of each file of report_dir, the history cache's of its decoded lines
    (--digest), the run's own names (its report_dir, the emulator's port) replaced."""
    report_dir = options["report_dir"]
    names = ((report_dir.encode("utf-8"), b"<report_dir>"),
             (("%s:%s" % (options["host"], options["port"])).encode("utf-8"), b"<em>"),
             (options["ca_file"].encode("utf-8"), b"<ca_file>"))

    def digest(content):
        for name, shown in names:
            content = content.replace(name, shown)
        return hashlib.sha256(content).hexdigest()
    digests = {"output": digest(output)}
    for name in sorted(os.listdir(report_dir)):
        path = os.path.join(report_dir, name)
        if name.startswith(".") or not os.path.isfile(path):
            continue
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rb") as handle:
            content = handle.read()
        if name.endswith(".gz"):  # the cache's lines follow the pages' arrival (parallel reads): sorted
            content = b"".join(sorted(content.splitlines(True)))
        digests[name] = digest(content)
    return digests


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--vms", type=int, default=50000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--detail", action="append", help="detail of each run (default: compact)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--fine", action="store_true", help="mark the reports phase file by file")
    parser.add_argument("--eval-marks", action="store_true", help="mark the evaluation's parts (settle, walk, rows "
                        "sorted, server rows)")
    parser.add_argument("--nightly", action="store_true", help="the warm night: the previous night's history "
                        "cache in report_dir first (that run not shown)")
    parser.add_argument("--connect", help="JSON {host, port, username, password, ca_file} of a running emulator "
                        "(of --vms x --days; not started then)")
    parser.add_argument("--cache-marks", action="store_true", help="the three marks of --nightly inside read+fold "
                        "on a first night too (where its peak is: the reads or the cache written)")
    parser.add_argument("--digest", action="store_true", help="print the sha256 of the output, the reports and the "
                        "history cache's decoded lines")
    parser.add_argument("--profile", help="run the measured child under py-spy record --nonblocking, its output here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(json.loads(args.child))
        return 0
    link_collection()
    from emulator.harness import Emulator

    if args.connect:
        runs(args, json.loads(args.connect))
        return 0
    print("emulator: %d VMs x %d days..." % (args.vms, args.days), flush=True)
    with Emulator(vms=args.vms, days=args.days, seed=42, tls=True, now=NOW, startup_timeout=1800) as em:
        runs(args, {"host": em.host, "port": em.port, "username": em.username, "password": em.password,
                    "ca_file": em.ca_file})
    return 0


def runs(args, connection):
    """Each asked run in a child process of its own (its peak RSS is the module's alone)."""
    for detail in (args.detail or ["compact"]) * args.repeat:
        with tempfile.TemporaryDirectory() as report_dir:
            options = dict(connection, detail=detail, report_dir=report_dir, fine=args.fine, nightly=args.nightly,
                           digest=args.digest, cache_marks=args.cache_marks, eval_marks=args.eval_marks)
            if args.nightly:  # the night before writes the cache the measured night reads back
                subprocess.run([sys.executable, __file__, "--child", json.dumps(dict(options, now=NIGHT_BEFORE))],
                               capture_output=True, text=True, check=True)
            command = [sys.executable, __file__, "--child", json.dumps(options)]
            if args.profile:
                command = [os.environ.get("PYSPY", "py-spy"), "record", "--nonblocking", "-o", args.profile] + (
                    ["--format", "speedscope"] if args.profile.endswith(".json") else
                    ["--format", "raw"] if args.profile.endswith(".txt") else []) + ["--"] + command
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        figures = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])  # py-spy's lines too
        print("%d VMs x %d days, detail=%s: module peak RSS %d MB, exit_json output %.1f MB, reports MB %s" % (
            args.vms, args.days, detail, figures["peak_mb"], figures["output_mb"], figures["report_mb"]))
        print("  %-32s %10s %14s %8s %8s" % ("phase", "RSS at end", "peak in phase", "at s", "cpu s"))
        for row in figures["phases"]:
            cells = (row["phase"], row["rss_mb"], row["peak_mb"], row["at_s"], row.get("cpu_s", float("nan")))
            print("  %-32s %7d MB %11d MB %8.2f %8.2f" % cells)
        for name, (begun, ended) in sorted(figures.get("spans", {}).items()):
            print("  %-32s from %.2f to %.2f s (%.2f s)" % (name, begun, ended, ended - begun))
        for name, digest in sorted(figures.get("digests", {}).items()):
            print("  sha256 %-40s %s" % (name, digest))
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
