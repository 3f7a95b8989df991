"""em_rows: shared strings (Interner) and packed rows (Rows) hand back what went in (moved from test_em_memory)."""
import copy

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_rows import Interner, PackedRows, Rows


# ---- Interner ----------------------------------------------------------------------------------

def test_interner_shares_equal_strings_and_keeps_values():
    interner = Interner()
    first = interner.share("state", "".join(["Comp", "leted"]))
    second = interner.share("state", "".join(["Compl", "eted"]))
    assert first == second == "Completed" and first is second
    assert interner.share("size", 12345678) == 12345678
    assert interner.share("state", None) is None and interner.share("ok", True) is True


def test_interner_gives_up_on_keys_whose_values_are_all_different():
    interner = Interner()
    for index in range(Interner.CHECK_EVERY):
        interner.share("uid", "uid-%d" % index)
        interner.share("state", "Completed")
    assert interner._pools["uid"] is None  # pylint: disable=protected-access
    assert interner._pools["state"] == {"Completed": "Completed"}  # pylint: disable=protected-access
    assert interner.share("uid", "uid-1") == "uid-1"


def test_interner_shares_inside_lists_of_dicts():
    interner = Interner()
    items = [{"uid": "u%d" % i, "links": [{"rel": "".join(["U", "p"]), "href": "h%d" % i}]} for i in range(3)]
    expected = copy.deepcopy(items)
    shared = [interner.share_item(item) for item in items]
    assert shared == expected
    assert shared[0]["links"][0]["rel"] is shared[2]["links"][0]["rel"]


# ---- Rows --------------------------------------------------------------------------------------

@pytest.mark.parametrize("block", [None, 1, 2, 3, 5, 6])
def test_rows_hand_out_equal_fresh_dicts(block):
    items = [{"uid": "u%d" % i, "n": i, "ok": None, "t": i % 2 == 0, "f": 1.5,
              "links": [{"rel": "Up", "href": "h"}, {"rel": "Alt", "href": None}], "related": [],
              "text": u"caf\u00e9 \U0001f600 %d" % i} for i in range(5)]
    rows = Rows(block)
    for item in copy.deepcopy(items):
        rows.append(item)
    assert len(rows) == 5 and bool(rows) and not Rows()
    assert list(rows) == items and rows == items
    assert [rows[i] for i in range(5)] == items and [rows[-i] for i in range(1, 6)] == items[::-1]
    assert rows[1:3] == items[1:3] and rows[::2] == items[::2] and rows[4:1:-1] == items[4:1:-1]
    assert [list(item) for item in rows] == [list(item) for item in items]  # key order kept
    assert items[3] in rows and rows.index(items[2]) == 2
    with pytest.raises(IndexError):
        rows[5]  # pylint: disable=pointless-statement
    with pytest.raises(IndexError):
        rows[-6]  # pylint: disable=pointless-statement
    rows[0]["uid"] = "changed"
    rows[0]["links"][0]["rel"] = "changed"
    assert rows[0] == items[0]


@pytest.mark.parametrize("block", [None, 1, 2])
def test_rows_keep_odd_items_as_they_are(block):
    rows = Rows(block)
    odd = [{"a": 1, "b": 2}, {"b": 2, "a": 1}, {"a": 1}, {"a": [{"x": 1}, {"y": 2}], "b": [1, 2]},
           {"a": {"nested": [1]}, "b": [[1], {"x": None}]}]
    for item in copy.deepcopy(odd):
        rows.append(item)
    assert list(rows) == odd
    rows[4]["a"]["nested"].append(2)
    rows[3]["b"].append(3)
    assert list(rows) == odd


# ---- PackedRows ----------------------------------------------------------------------------------

def _vm_rows(count):
    return [{"vm_display_name": "vm%03d" % (index % 7), "status": ("violation", "compliant")[index % 2],
             "in_window": index % 3 != 0, "age": index * 0.1, "uid": None if index % 5 == 0 else "urn:%d" % index,
             "findings": [{"code": "rpo_exceeded", "n": index}] if index % 2 == 0 else [],
             "backup": {"daily": [{"date": "2025-06-0%d" % day, "sessions": day} for day in range(1, 4)],
                        "pair": (index, "x")}} for index in range(count)]


def test_packed_rows_hand_back_equal_fresh_rows_in_order():
    rows = _vm_rows(23)
    packed = PackedRows(rows, block=5)
    assert len(packed) == 23 and bool(packed) and not PackedRows()
    assert list(packed) == rows and packed == rows
    assert [list(row) for row in packed] == [list(row) for row in rows]  # key order
    assert packed[7] == rows[7] and packed[-1] == rows[-1] and packed[20] == rows[20]  # a block, the tail
    assert packed[3:6] == rows[3:6]
    assert isinstance(packed[4]["backup"]["pair"], tuple) and packed[4]["age"] == rows[4]["age"]
    packed[2]["status"] = "changed"  # a fresh dict: the store is not changed through it
    assert packed[2]["status"] == rows[2]["status"]
    with pytest.raises(IndexError):
        packed[23]  # pylint: disable=pointless-statement


def test_packed_rows_take_a_changed_row_written_back_in_a_block_and_in_the_tail():
    rows = _vm_rows(12)
    packed = PackedRows(rows, block=5)
    for index in (1, 11, -2):
        row = packed[index]
        row["findings"].append({"code": "written", "n": index})
        packed[index] = row
        rows[index] = row
    packed.append({"vm_display_name": "new"})
    rows.append({"vm_display_name": "new"})
    assert list(packed) == rows and packed[1]["findings"][-1] == {"code": "written", "n": 1}


def test_packed_rows_sort_as_list_sort_stable_over_several_passes(monkeypatch):
    """Equal keys keep their order (sorted() is stable); a small chunk makes the sort place the
    pickles in several passes, each position exactly once."""
    monkeypatch.setattr(PackedRows, "SORT_CHUNK", 4)
    rows = _vm_rows(37)

    def key(row):
        return (row["status"], row["vm_display_name"])
    packed = PackedRows(rows, block=6)
    packed.sort(key=key)
    assert list(packed) == sorted(rows, key=key)
    assert len(packed) == 37 and packed[36] == sorted(rows, key=key)[36]
