"""The floor: the bare client in one Python process, no Ansible at all.

Logs on, reads the backup and replica task sessions of the window (same server-side filter,
page size and sort as the role), logs off, and prints one JSON line with the counts and the
peak RSS. The connection comes from the VEEAM_EM_* environment variables, as for the modules.
"""
import argparse
import json
import os
import resource
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from collection_layout import link_collection  # noqa: E402

sys.path.insert(0, link_collection())

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_client, em_resources  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--created-after", required=True)
    parser.add_argument("--created-before", required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    options = em_client.ConnectionOptions(
        server=os.environ["VEEAM_EM_SERVER"], port=int(os.environ["VEEAM_EM_PORT"]),
        username=os.environ["VEEAM_EM_USERNAME"], password=os.environ["VEEAM_EM_PASSWORD"],
        ca_path=os.environ["VEEAM_EM_CA_PATH"])
    window = 'CreationTime>="%s";CreationTime<="%s"' % (args.created_after, args.created_before)
    counts = {}
    with em_client.EMClient(options) as client:
        for key, resource_table in (("backup", em_resources.BACKUP_TASK_SESSION),
                                    ("replica", em_resources.REPLICA_TASK_SESSION)):
            items, _info = client.query(resource_table, window, "CreationTime", "desc", args.page_size,
                                        concurrency=args.concurrency)
            counts[key] = len(items)
    counts["floor_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
