#!/usr/bin/env python
"""Report writing at scale (issue 18): time and peak memory of writing the three reports.

A synthetic evaluation of N VMs (rows copied from a real evaluation of a small hand-made fleet,
renamed; 5 % in violation, 3 % with warnings, 30 days of grid) is built in a child process, then
the reports are written there by one of two methods, each in its own child so that peak RSS
(ru_maxrss) belongs to one method:

* ``files``: what veeam_em_compliance_info does with report_dir (JSON streamed to its file, HTML
  limited to the rows a person reads, history state), with ``--nights`` earlier nights' states in
  the directory (compared with, and read for the trend);
* ``strings``: what it did before (render() builds the three documents as strings; the role then
  wrote them with ``copy``, which this does not even count).

    .venv/bin/python tests/performance/report_scale.py            # 5,000 and 50,000 VMs
    .venv/bin/python tests/performance/report_scale.py --vms 300 --vms 5000

Figures, not asserts: the machine is shared, timings are noisy.
"""
import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests"))


def synthetic(vms):
    """An evaluation of ``vms`` VMs with the shape of a real one (rows of em_compliance.evaluate)."""
    from collection_layout import link_collection

    sys.path.insert(0, link_collection())  # the collection importable as ansible_collections.backupops.veeam_em
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate
    from unit.plugins.module_utils.compliance.conftest import build_session

    now = "2025-06-30T06:00:00Z"
    sessions = []
    for vm, result in (("ok", "Success"), ("warn", "Warning"), ("bad", "Failed")):
        for day in range(1, 30):
            sessions.append(build_session(vm=vm, vm_uid="urn:VMware:Vm:x.%s" % vm, result=result,
                                          created="2025-06-%02dT01:00:00Z" % day,
                                          reason="Failed to connect to the host's IP 10.0.0.9 port 902"
                                          if result == "Failed" else ""))
    template = evaluate(sessions, now=now, lookback_days=30)
    rows = dict((row["vm_display_name"], row) for row in template["vms"])
    result = dict(template)
    result["vms"], result["violations"], result["warnings"] = [], [], []
    for number in range(vms):
        kind = "bad" if number % 20 == 0 else ("warn" if number % 33 == 0 else "ok")
        row = copy.deepcopy(rows[kind])
        row["vm_display_name"] = "vm%06d" % number
        row["vm_uid"] = "urn:VMware:Vm:x.vm-%d" % number
        result["vms"].append(row)
        for finding in row["findings"]:
            text = "%s: %s" % (row["vm_display_name"], finding["message"])
            item = dict(finding, vm_display_name=row["vm_display_name"], vm_uid=row["vm_uid"], scope="vm",
                        backup_server_name=row["backup_server_name"], text=text)
            result["violations" if finding["severity"] == "violation" else "warnings"].append(item)
    result["vms"].sort(key=lambda row: {"violation": 0, "warning": 1}.get(row["status"], 2))
    result["summary"] = dict(template["summary"], vms_total=vms,
                             vms_violation=sum(1 for r in result["vms"] if r["status"] == "violation"),
                             vms_warning=sum(1 for r in result["vms"] if r["status"] == "warning"),
                             violations_total=len(result["violations"]), warnings_total=len(result["warnings"]))
    return result


def kept_nights(result, directory, nights):
    """States of ``nights`` earlier nights (and the previous latest) as the module would have left them."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils._report import history

    for night in range(1, nights + 1):
        dated = dict(result, generated_at="2025-05-%02dT06:00:00Z" % night)
        for name, record in (("state", history.state_of(dated)), ("trend", history.nights_state_of(dated))):
            text = json.dumps(record, sort_keys=True, ensure_ascii=False)
            with open(os.path.join(directory, "compliance-202505%02dT060000Z.%s.json" % (night, name)), "w") as out:
                out.write(text)
            if night == nights:
                with open(os.path.join(directory, "compliance.%s.json" % name), "w") as out:
                    out.write(text)


def child(vms, method, directory, nights):
    """Build, then write with ``method``; prints one JSON line of figures."""
    result = synthetic(vms)
    if method == "files":
        kept_nights(result, directory, nights)
    built_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_report as report

    started = time.perf_counter()
    if method == "files":
        params = dict((key, spec.get("default")) for key, spec in report.argument_spec().items())
        params.update(report_dir=directory, report_formats=["json", "junit", "html"])
        report.write_for_module(params, result, lambda text: text)
    else:
        texts = report.render(result, ["json", "junit", "html"])
        for name, text in texts.items():
            with open(os.path.join(directory, "strings." + name), "w", encoding="utf-8") as stream:
                stream.write(text)
    seconds = time.perf_counter() - started
    sizes = dict((name, os.path.getsize(os.path.join(directory, name))) for name in os.listdir(directory)
                 if not name.startswith(".") and "-" not in name)
    label = method + (" (%d kept nights)" % nights if method == "files" else "")
    print(json.dumps({"vms": vms, "method": label, "seconds": round(seconds, 2), "built_rss_mb": round(built_rss),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0),
                      "sizes_mb": dict((k, round(v / 1e6, 1)) for k, v in sorted(sizes.items()))}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--vms", type=int, action="append", help="fleet sizes (default 5000 and 50000)")
    parser.add_argument("--nights", type=int, default=29,
                        help="earlier nights kept in the directory for the files method (trend, compare; default 29)")
    parser.add_argument("--child", nargs=4, metavar=("VMS", "METHOD", "DIR", "NIGHTS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(int(args.child[0]), args.child[1], args.child[2], int(args.child[3]))
        return 0
    for vms in args.vms or [5000, 50000]:
        for method in ("strings", "files"):
            with tempfile.TemporaryDirectory() as directory:
                out = subprocess.run([sys.executable, __file__, "--child", str(vms), method, directory,
                                      str(args.nights)],
                                     capture_output=True, text=True, check=True).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            print("{vms:>6} VMs  {method:<24} write {seconds:>6.2f} s  RSS after building {built_rss_mb:>5} MB, "
                  "peak {peak_rss_mb:>5} MB (+{extra} MB)  files MB {sizes_mb}".format(
                      extra=figures["peak_rss_mb"] - figures["built_rss_mb"], **figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
