"""Scale benchmark: ``python3 tests/emulator/bench.py [--vms 5000 --days 30]``.

Starts the emulator through the harness with a big fleet and times: start-up (generation),
the first and a cached 1,000-entity page of a 24 h CreationTime window, a full walk of that
window, and an unfiltered page. Figures are recorded in tests/emulator/README.md.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import requests  # noqa: E402

from emulator.harness import Emulator  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=5000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--now", default="2025-06-05T12:00:00Z")
    a = ap.parse_args()
    t0 = time.time()
    with Emulator(vms=a.vms, days=a.days, seed=1, now=a.now, startup_timeout=300) as em:
        print("start-up (generate + listen): %.2fs" % (time.time() - t0))
        s = requests.Session()
        s.verify = em.ca_file
        s.trust_env = False  # REQUESTS_CA_BUNDLE would override verify=
        r = s.post(em.api_url + "/sessionMngr/?v=latest", auth=(em.username, em.password))
        tok = r.headers["X-RestSvcSessionId"]
        s.cookies.clear()
        s.headers["X-RestSvcSessionId"] = tok
        windows = {"application/xml": 'CreationTime>="2025-06-04T12:00:00Z";CreationTime<"2025-06-05T12:00:00Z"',
                   "application/json": 'CreationTime>="2025-06-03T12:00:00Z";CreationTime<"2025-06-04T12:00:00Z"'}
        unindexed = {"application/xml": "Result==Failed;VmDisplayName!=x",
                     "application/json": "Result==Warning;VmDisplayName!=x"}
        for accept in ("application/xml", "application/json"):
            flt = windows[accept]
            s.headers["Accept"] = accept
            for label in ("first", "cached"):
                t = time.time()
                r = s.get(em.api_url + "/query", params={"type": "BackupTaskSession", "format": "Entities",
                                                         "sortDesc": "CreationTime", "pageSize": 1000, "page": 1,
                                                         "filter": flt})
                r.raise_for_status()
                print("%s 24h window page 1 (1000 entities, %s): %.3fs, %d bytes"
                      % (accept, label, time.time() - t, len(r.content)))
            t = time.time()
            page, n = 1, 0
            while True:
                r = s.get(em.api_url + "/query", params={"type": "BackupTaskSession", "format": "Entities",
                                                         "sortDesc": "CreationTime", "pageSize": 1000,
                                                         "page": page, "filter": flt})
                r.raise_for_status()
                if accept.endswith("json"):
                    pi = r.json()["PagingInfo"]
                    count = pi["PagesCount"]
                else:
                    import re
                    count = int(re.search(r'PagesCount="(\d+)"', r.text).group(1))
                n += 1
                if page >= count:
                    break
                page += 1
            print("%s full walk of the 24h window: %d pages in %.3fs" % (accept, n, time.time() - t))
            t = time.time()
            r = s.get(em.api_url + "/query", params={"type": "BackupTaskSession", "format": "Entities",
                                                     "sortDesc": "CreationTime", "pageSize": 1000,
                                                     "filter": unindexed[accept]})
            print("%s unindexed filter (Result + VmDisplayName) over all %s, page 1 of 1000: %.3fs"
                  % (accept, "sessions", time.time() - t))
        st = em.stats()
        print("requests:", st["requests_total"], "bytes:", st["bytes_sent"])


if __name__ == "__main__":
    main()
