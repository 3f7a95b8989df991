"""Measure decode + normalise cost of one large query page, JSON vs XML (not a test).

Run: .venv/bin/python tests/unit/plugins/module_utils/bench_media_type.py
The figures chose the defaults media_type=json and page_size=1000 (see em_query.py).
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, TESTS)
from collection_layout import link_collection  # noqa: E402

sys.path.insert(0, link_collection())

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_parse  # noqa: E402
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import BACKUP_TASK_SESSION  # noqa: E402
from unit.plugins.module_utils.em_fake import (  # noqa: E402
    paging_info, query_result_json, query_result_xml, synthetic_task_session)


def measure(size, repeat=5):
    items = [synthetic_task_session(i) for i in range(size)]
    paging = paging_info(1, 10, size)
    bodies = {"json": query_result_json("BackupTaskSessions", items, paging, bom=True),
              "xml": query_result_xml("BackupTaskSessions", "BackupTaskSession", items, paging)}
    for media, body in bodies.items():
        best = None
        for _attempt in range(repeat):
            start = time.perf_counter()
            document = em_parse.decode(body)
            result = em_parse.normalise_document(document, BACKUP_TASK_SESSION)
            elapsed = time.perf_counter() - start
            best = elapsed if best is None else min(best, elapsed)
        assert len(result) == size
        print("%-4s page of %5d items: %8.0f KiB, best %7.1f ms, %6.1f us/item"
              % (media, size, len(body) / 1024.0, best * 1000, best * 1e6 / size))


if __name__ == "__main__":
    for page_size in (100, 500, 1000, 5000):
        measure(page_size)
