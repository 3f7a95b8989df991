#!/usr/bin/env python
"""Where the session fold's memory goes after the read (issue 18): tracemalloc by line and the sizes of
the fold's parts, the module run in-process as module_phases.py runs it (same options).

    .venv/bin/python tests/performance/fold_memory.py --vms 5000 --days 30 [--no-trace] [--connect JSON]

Figures, not asserts. tracemalloc slows the read several times; --no-trace gives the sizes only.
"""
import argparse
import json
import os
import sys
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import module_phases  # noqa: E402


def _deep(value, seen):
    if id(value) in seen:
        return 0
    seen.add(id(value))
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(_deep(k, seen) + _deep(v, seen) for k, v in value.items())
    elif isinstance(value, (list, tuple, set)):
        size += sum(_deep(v, seen) for v in value)
    return size


def fold_sizes(fold):
    """MB of the fold's parts (shared objects counted once, in the first part that holds them)."""
    seen, sizes = set(), {}
    packer = fold._packer  # pylint: disable=protected-access
    sizes["packer table+index+strings"] = (_deep(packer.table, seen) + _deep(packer.index, seen) +
                                           _deep(getattr(packer, "_strings", {}), seen))

    def records(group):
        return [group[1]] if isinstance(group[1], str) else group[1]
    containers = sum(sys.getsizeof(g) + sys.getsizeof(g[0]) + (0 if isinstance(g[1], str) else sys.getsizeof(g[1]))
                     for g in fold.groups.values())
    sizes["groups: dict + keys"] = sys.getsizeof(fold.groups) + sum(_deep(k, seen) for k in fold.groups)
    sizes["groups: per-group lists/order tuples"] = containers
    sizes["groups: packed records"] = sum(sum(sys.getsizeof(p) for p in records(g)) for g in fold.groups.values())
    sizes["history: dict + keys"] = sys.getsizeof(fold.history) + sum(_deep(k, seen) for k in fold.history)
    sizes["history: values"] = sum(_deep(v, seen) for v in fold.history.values())
    sizes["excluded/uids/last_seen"] = _deep(fold.excluded, seen) + _deep(fold.uids, seen) + _deep(fold.last_seen, seen)
    records_count = sum(len(records(g)[0].split("\x1e")) if isinstance(g[1], str) else len(g[1])
                        for g in fold.groups.values())
    counts = {"groups": len(fold.groups), "records": records_count, "history": len(fold.history),
              "table": len(packer.table)}
    return dict((k, round(v / 1e6, 1)) for k, v in sizes.items()), counts


def child(options, trace):
    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_module as reader
    original = reader._read  # pylint: disable=protected-access

    def wrapped(module, now, bounded, start, fold):
        if trace:
            tracemalloc.start(1)
        original(module, now, bounded, start, fold)
        status = module_phases._status_mb  # pylint: disable=protected-access
        report = {"rss_mb": round(status("VmRSS")), "hwm_mb": round(status("VmHWM"))}
        if trace:
            current, peak = tracemalloc.get_traced_memory()
            report.update(traced_current_mb=round(current / 1e6, 1), traced_peak_mb=round(peak / 1e6, 1))
            snapshot = tracemalloc.take_snapshot()
            report["top_lines"] = ["%.1f MB %s" % (stat.size / 1e6, stat.traceback[0])
                                   for stat in snapshot.statistics("lineno")[:12]]
            tracemalloc.stop()
        report["fold_mb"], report["counts"] = fold_sizes(fold)
        report["sample_group"] = repr(next(iter(fold.groups.values())))[:1200]
        report["sample_history"] = [repr(item)[:400] for item in list(fold.history.items())[:2]]
        sys.stderr.write(json.dumps(report, indent=1) + "\n")
        raise SystemExit(0)
    reader._read = wrapped  # pylint: disable=protected-access
    module_phases.child(options)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=5000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--no-trace", action="store_true")
    parser.add_argument("--connect", help="JSON {host, port, username, password, ca_file} of a running emulator "
                        "(of --vms x --days; not started then)")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, module_phases.link_collection())
        child(json.loads(args.child), not args.no_trace)
        return 0
    module_phases.link_collection()
    if args.connect:
        _run(args, json.loads(args.connect))
        return 0
    from emulator.harness import Emulator
    with Emulator(vms=args.vms, days=args.days, seed=42, tls=True, now=module_phases.NOW, startup_timeout=1800) as em:
        _run(args, {"host": em.host, "port": em.port, "username": em.username, "password": em.password,
                    "ca_file": em.ca_file})
    return 0


def _run(args, connection):
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as report_dir:
        options = dict(connection, detail="compact", report_dir=report_dir)
        command = [sys.executable, __file__, "--child", json.dumps(options)]
        command += ["--no-trace"] if args.no_trace else []
        subprocess.run(command, check=False)


if __name__ == "__main__":
    sys.exit(main())
