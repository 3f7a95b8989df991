"""Memory measures of issue 6 must not change results: shared strings, compact rows, streamed exit."""
import copy
import json

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_module
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_parse import Interner, Rows
from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_backup_task_session_info as backup_module
from unit.plugins.module_utils.em_fake import FakeEM, paged_handler, synthetic_task_session
from unit.plugins.module_utils.test_em_client import make_client, run_query
from unit.plugins.modules.module_runner import CONNECTION, install_fake, patch_module_args, run_module

ITEMS = [synthetic_task_session(i) for i in range(250)]


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


# ---- client: compact results equal the list ----------------------------------------------------

@pytest.mark.parametrize("media", ["json", "xml"])
@pytest.mark.parametrize("concurrency", [1, 4])
def test_compact_query_returns_the_same_items(media, concurrency, monkeypatch):
    monkeypatch.setattr(Rows, "BLOCK", 17)
    plain, _info = run_query(make_client(FakeEM(media, paged_handler(ITEMS, media))), page_size=40,
                             concurrency=concurrency, limit=230)
    rows, info = run_query(make_client(FakeEM(media, paged_handler(ITEMS, media))), page_size=40,
                           concurrency=concurrency, limit=230, compact=True)
    assert isinstance(plain, list) and isinstance(rows, Rows)
    assert list(rows) == plain and len(plain) == 230 and info.pages == 6


def test_duplicates_are_dropped_in_compact_mode_too():
    pages = {1: ITEMS[0:10], 2: ITEMS[8:18], 3: ITEMS[18:28]}

    def handler(call):
        from unit.plugins.module_utils.em_fake import Reply, paging_info, query_result_json
        page = int(call.query["page"])
        return Reply(200, query_result_json("BackupTaskSessions", pages[page], paging_info(page, 3, 10)))
    rows, _info = run_query(make_client(FakeEM("json", handler)), page_size=10, compact=True)
    assert [item["uid"] for item in rows] == [item["UID"] for item in ITEMS[:28]]


# ---- streamed exit: the same answer as exit_json, secrets scrubbed -----------------------------

SECRET_ITEMS = [synthetic_task_session(i, reason="failed for %s at step %d" % (CONNECTION["password"], i))
                for i in range(30)]


def _run(monkeypatch, capsys, args, stream=True):
    monkeypatch.setattr(Rows, "BLOCK", 4)
    fake = FakeEM("json", paged_handler(SECRET_ITEMS, "json"))
    install_fake(monkeypatch, fake)
    if not stream:
        monkeypatch.setattr(em_module, "_exit_prints_to_stdout", lambda module: False)
    return run_module(backup_module, dict(CONNECTION, **args), capsys)


@pytest.mark.parametrize("args", [{}, {"fields": ["name", "reason", "result"]}, {"limit": 7, "page_size": 5}])
def test_streamed_exit_equals_exit_json(monkeypatch, capsys, args):
    streamed = _run(monkeypatch, capsys, args)
    plain = _run(monkeypatch, capsys, args, stream=False)
    assert streamed == plain
    assert streamed["backup_task_sessions"] and streamed["invocation"]["module_args"]["password"] != \
        CONNECTION["password"]
    assert CONNECTION["password"] not in json.dumps(streamed)
    assert streamed["backup_task_sessions"][0]["reason"] == "failed for ******** at step 0"


def test_streamed_exit_scrubs_the_session_id_and_exact_values(monkeypatch, capsys):
    token = "c2VjcmV0LXRva2Vu"
    items = [synthetic_task_session(i, reason=token if i % 2 else "x %s y" % token) for i in range(4)]
    fake = FakeEM("json", paged_handler(items, "json"))
    install_fake(monkeypatch, fake)
    result = run_module(backup_module, dict(CONNECTION, session_id=token), capsys)
    assert token not in json.dumps(result)
    assert [item["reason"] for item in result["backup_task_sessions"]] == [
        "x ******** y", "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"] * 2


def test_streamed_exit_output_is_one_json_document(monkeypatch, capsys):
    fake = FakeEM("json", paged_handler(SECRET_ITEMS, "json"))
    install_fake(monkeypatch, fake)
    with patch_module_args(dict(CONNECTION)):
        with pytest.raises(SystemExit) as exit_info:
            backup_module.main()
    out = capsys.readouterr().out
    assert exit_info.value.code == 0 and out.startswith("\n{") and out.endswith("}\n")
    assert len(json.loads(out)["backup_task_sessions"]) == 30


def test_a_replaced_result_hook_means_plain_exit_json(monkeypatch):
    class Patched(AnsibleModule):
        def _record_module_result(self, o):  # what e.g. an in-worker executor would install
            pass
    assert em_module._exit_prints_to_stdout(Patched.__new__(Patched)) is False  # pylint: disable=protected-access
    assert em_module._exit_prints_to_stdout(AnsibleModule.__new__(AnsibleModule)) is True  # pylint: disable=protected-access
