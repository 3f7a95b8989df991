"""The floor: the bare client in one Python process, no Ansible at all.

Logs on, sends exactly the queries of veeam_em_compliance_info (the account-reach probe, then
em_compliance_read.planned_reads: the same resources, window and history filters, projection, page
size and sort as the role), logs off, and prints one JSON line with the items read per query and
the peak RSS. It does not evaluate (the task-session pages are parsed and dropped):
what it measures is the cost of the network and of parsing the bytes. The connection comes from
the VEEAM_EM_* environment variables, as for the modules.
"""
import argparse
import json
import os
import resource
import sys
from datetime import timedelta

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from collection_layout import link_collection  # noqa: E402

sys.path.insert(0, link_collection())

from ansible_collections.backupops.veeam_em.plugins.module_utils import (  # noqa: E402
    em_client, em_compliance, em_compliance_read, em_time)

ALL_READS = {"check_replicas": True, "check_jobs": True, "known_servers_from_em": True}


class DeltaOnly(object):
    """The reads of a warm night (--history-from, --window-from): the module folds its history cache
    from disk and asks EM only for the history from ``read_from`` to the window start (no history query
    when that is at or after the window start) and for the window's task sessions from
    ``window_read_from``, and for the job sessions from ``job_read_from``; the floor sends the same
    queries. Reading the cache file is the module's own work, so it is not part of the floor."""

    enabled = True
    path = None   # no file: its lines are not read in a thread beside EM's window (em_compliance_read.lines_beside_reads)
    job_keys = em_compliance_read.JOB_SESSION_READS
    cached_jobs = cached_job_types = {}

    def __init__(self, read_from, window_read_from, window_start, job_read_from):
        self.read_from, self.window_read_from, self.window_start = read_from, window_read_from, window_start
        self.job_read_from = job_read_from

    @property
    def reads_history(self):
        return self.read_from < self.window_start

    def watch(self, fold):
        pass

    def begin(self, client, fold, listed=None):
        pass

    def note_unsettled_job(self, created):
        pass

    def save(self, fold, jobs=None):
        pass


class CountOnly(object):
    """Takes the task-session pages like the module's fold and keeps nothing but the job session UIDs the
    window's backup task sessions name (the module reads those no job-session read returned by UID, so the
    floor does too: em_compliance_read.read_named_job_sessions)."""

    def __init__(self):
        self.history = {}
        self.job_session_uids = set()

    def add(self, items, kind):
        for item in items:
            if item.get("job_session_uid"):
                self.job_session_uids.add(em_compliance_read.job_session_key(item["job_session_uid"]))

    def add_history(self, items, kind):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--created-after", required=True)
    parser.add_argument("--created-before", required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--history-from",
                        help="read the history from this ISO time only (a warm night's delta; none when at or after "
                             "--created-after)")
    parser.add_argument("--window-from",
                        help="read the window's task sessions from this ISO time only (a warm night with the window "
                             "cached)")
    parser.add_argument("--job-from", help="read the job sessions from this ISO time only (a warm night with the "
                                           "job part cached)")
    args = parser.parse_args()
    delta = None
    if args.history_from or args.window_from or args.job_from:
        window_start = em_time.parse_iso(args.created_after)
        history_start = em_time.parse_iso(args.created_before) - timedelta(days=em_compliance.HISTORY_DAYS)
        delta = DeltaOnly(em_time.parse_iso(args.history_from) if args.history_from else history_start,
                          em_time.parse_iso(args.window_from) if args.window_from else window_start, window_start,
                          em_time.parse_iso(args.job_from) if args.job_from else history_start)
    options = em_client.ConnectionOptions(
        server=os.environ["VEEAM_EM_SERVER"], port=int(os.environ["VEEAM_EM_PORT"]),
        username=os.environ["VEEAM_EM_USERNAME"], password=os.environ["VEEAM_EM_PASSWORD"],
        ca_path=os.environ["VEEAM_EM_CA_PATH"])
    with em_client.EMClient(options) as client:
        items, queries, error = em_compliance_read.run_reads(
            client, em_compliance_read.planned_reads(ALL_READS), args.created_before, args.created_after, True,
            args.page_size, args.concurrency, CountOnly(), delta)
    if error is not None:
        raise SystemExit("floor: %s" % error)
    counts = {key: query.get("items", 0) for key, query in queries.items()}
    counts["skipped"] = sorted(key for key, query in queries.items() if "skipped" in query)
    # the items EM sent per query (a job-session query reads 30 days but keeps the window's: JobPages), the pages
    # the minimum counts; what was kept only for a read without a query summary
    counts.update((key, len(found)) for key, found in items.items() if key not in queries)
    counts["named_job_sessions_asked"] = queries.get(em_compliance_read.NAMED_JOB_SESSIONS, {}).get("asked", 0)
    counts["floor_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
