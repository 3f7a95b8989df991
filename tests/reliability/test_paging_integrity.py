"""No lost or duplicated data while EM inserts task sessions during paging.

The emulator's ``insert_during_paging`` fault adds task sessions right after page 1 of a query is
served: ``before`` = newer than everything (under sortDesc=CreationTime every later page shifts, so a
naive pager returns duplicates), ``among`` = at random times inside the range (shifts some pages).
Every item that existed when the query started must come back exactly once; new items may appear
(once) or not. Uses its own emulator because the inserts change the data.
"""
import pytest

from emulator.harness import Emulator
from reliability.support import PASSWORD, USERNAME, assert_every_fault_fired, dataset_uids, query

CASES = [
    # id, position, sort order, concurrency, media, extra faults
    ("before-desc-parallel", "before", "desc", 4, "json", []),
    ("before-desc-sequential-xml", "before", "desc", 1, "xml", []),
    ("among-desc-parallel", "among", "desc", 4, "json", []),
    ("among-asc-parallel-xml", "among", "asc", 3, "xml", []),
    ("before-asc-sequential", "before", "asc", 1, "json", []),
    ("before-desc-with-expiry-and-503", "before", "desc", 4, "json",
     [{"kind": "expire_session", "count": 1, "path": "/api/query", "skip": 4},
      {"kind": "status", "status": 503, "count": 2, "path": "/api/query", "skip": 2}]),
]


@pytest.fixture(scope="module")
def paging_em():
    with Emulator(tls=True, username=USERNAME, password=PASSWORD, vms=30, days=4, seed=33) as emulator:
        yield emulator


@pytest.mark.parametrize("name, position, order, concurrency, media, extra", CASES, ids=[c[0] for c in CASES])
def test_every_item_that_existed_comes_back_exactly_once(paging_em, ledger, name, position, order, concurrency,
                                                         media, extra):
    em = paging_em
    before = set(dataset_uids(em.dataset()))
    em.reset_stats()
    em.set_faults([{"kind": "insert_during_paging", "items": 9, "position": position,
                    "type": "BackupTaskSession"}] + extra)
    sleeps = []
    try:
        items, info, warnings = query(em, media=media, page_size=8, concurrency=concurrency, sort_order=order,
                                      sleeps=sleeps)
    finally:
        stats = em.stats()
        state = em.faults_state()
        em.clear_faults()
    after = set(dataset_uids(em.dataset()))
    inserted = after - before
    returned = [item["uid"] for item in items]
    lost = before - set(returned)
    duplicated = len(returned) - len(set(returned))
    ledger("insert_during_paging %s, sort%s, %d thread(s)%s" % (
        position, order.capitalize(), concurrency, " + expiry + 503" if extra else ""),
        "every pre-existing item exactly once", "recovered", faults_injected=stats["faults_injected"],
        items_expected=len(before), items_lost=len(lost), items_duplicated=duplicated)
    fired = assert_every_fault_fired(state)  # every fault of the mix, not only the insert
    assert len(inserted) == 9, "the insert fault did not insert"
    # what the client did about each: one back-off per 503, one logon again per expired session
    assert len(sleeps) == fired.get("status", 0)
    assert info["relogons"] == fired.get("expire_session", 0)
    assert stats["sessions_created"] == 1 + fired.get("expire_session", 0)
    assert not lost, "lost %d item(s): %s" % (len(lost), sorted(lost)[:5])
    assert duplicated == 0
    assert set(returned) <= before | inserted
    # pages are consumed in order: the pre-existing items keep the requested sort order
    keys = [item["creation_time"] for item in items if item["uid"] in before]
    assert keys == sorted(keys, reverse=(order == "desc"))
    assert info["pages"] >= len(before) // 8
    assert em.stats()["open_sessions"] == 0
