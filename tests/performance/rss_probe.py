#!/usr/bin/env python
"""Peak RSS of one info-module call returning many sessions (issue 6), with and without ``fields``.

Runs the same command as ``bench.Bench.big_module_call`` (``ansible localhost -m
backupops.veeam_em.veeam_em_backup_task_session_info ... limit=N page_size=1000``, peak RSS of the
module process recorded by bench's wrapper interpreter) twice against one emulator:

* all keys (no ``fields``);
* the compliance role's field list (``--fields`` to change it).

    .venv/bin/python tests/performance/rss_probe.py                 # 100,000 sessions
    .venv/bin/python tests/performance/rss_probe.py --sessions 20000 --repeat 2

``--profile`` additionally runs the module in-process under tracemalloc (no ansible, same emulator)
and prints its peak and the biggest allocation sites once the query has returned.
"""
import argparse
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE)))

from bench import BIN, NOW, Bench, iso_minus  # noqa: E402
from collection_layout import link_collection  # noqa: E402
from emulator.harness import Emulator  # noqa: E402

ROLE_FIELDS = ("name,vm_display_name,vm_uid,job_name,backup_server_uid,backup_server_name,creation_time,"
               "end_time,state,result,reason,restore_point_uid")
MODULE = "backupops.veeam_em.veeam_em_backup_task_session_info"


def module_call(bench, sessions, days, fields):
    """bench.big_module_call, plus ``fields`` when given; returns bench's measurement + item count."""
    args = "created_after=%s created_before=%s limit=%d page_size=%d" % (
        iso_minus(NOW, days * 24), NOW, sessions, bench.page_size)
    if fields:
        args += " fields=%s" % fields
    command = [os.path.join(BIN, "ansible"), "localhost", "-m", MODULE, "-a", args,
               "-e", "ansible_python_interpreter=" + bench.interpreter, "-o"]
    measured = bench._measure(command)  # pylint: disable=protected-access
    stdout = measured.pop("stdout")
    measured["output_mb"] = len(stdout) / 1e6
    body = stdout.split("=>", 1)[1] if "=>" in stdout else "{}"
    try:
        measured["items"] = len(json.loads(body).get("backup_task_sessions", []))
    except ValueError:
        measured["items"] = None
    return measured


def profile_in_process(em, sessions, days, fields, top):
    """Run the module's code in this process under tracemalloc: peak, and the biggest allocation
    sites when the query has returned (all items held, before the exit path)."""
    import tracemalloc
    sys.path.insert(0, link_collection())
    from ansible.module_utils import basic  # noqa: E402
    params = {"server": em.host, "port": em.port, "username": em.username, "password": em.password,
              "ca_path": em.ca_file, "created_after": iso_minus(NOW, days * 24), "created_before": NOW,
              "limit": sessions, "page_size": 1000}
    if fields:
        params["fields"] = fields.split(",")
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": params}).encode()  # pylint: disable=protected-access
    if hasattr(basic, "_ANSIBLE_PROFILE"):
        basic._ANSIBLE_PROFILE = "legacy"  # pylint: disable=protected-access
    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_client
    from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_backup_task_session_info as mod
    seen = {}
    query = em_client.EMClient.query

    def traced_query(self, *args, **kwargs):
        answer = query(self, *args, **kwargs)
        seen["after_query"] = tracemalloc.take_snapshot()
        seen["after_query_mb"] = tracemalloc.get_traced_memory()[0] / 1e6
        return answer

    class Sink:  # the module's JSON: counted, not kept
        chars = 0

        def write(self, text):
            Sink.chars += len(text)

        def flush(self):
            pass

    em_client.EMClient.query = traced_query
    stdout, sys.stdout = sys.stdout, Sink()
    tracemalloc.start(4)
    try:
        mod.main()
    except SystemExit:
        pass
    finally:
        sys.stdout = stdout
        em_client.EMClient.query = query
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print("tracemalloc: peak %.1f MB; after the query %.1f MB; output %.1f MB" % (
        peak / 1e6, seen["after_query_mb"], Sink.chars / 1e6))
    for stat in seen["after_query"].statistics("lineno")[:top]:
        print("  %8.1f MB %8d blocks  %s" % (stat.size / 1e6, stat.count, stat.traceback[0]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=100000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--fields", default=ROLE_FIELDS)
    parser.add_argument("--only", choices=["all", "fields"], help="measure one variant only")
    parser.add_argument("--profile", action="store_true", help="also profile in-process with tracemalloc")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    link_collection()
    vms = int(args.sessions / args.days * 1.25) + 10
    variants = [("all keys", None), ("role fields", args.fields)]
    if args.only:
        variants = [variants[0] if args.only == "all" else variants[1]]
    print("emulator: %d VMs x %d days..." % (vms, args.days), flush=True)
    with Emulator(vms=vms, days=args.days, seed=42, tls=True, now=NOW, startup_timeout=900) as em, \
            tempfile.TemporaryDirectory() as workdir:
        bench = Bench(em, workdir, args.page_size)
        for label, fields in variants:
            for _round in range(args.repeat):
                m = module_call(bench, args.sessions, args.days, fields)
                print("%-12s sessions=%d items=%s peak_rss=%.0f MB wall=%.1f s requests=%d output=%.1f MB" % (
                    label, args.sessions, m["items"], m["peak_rss_mb"], m["wall_s"], m["requests"],
                    m["output_mb"]), flush=True)
            if args.profile:
                profile_in_process(em, args.sessions, args.days, fields, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
