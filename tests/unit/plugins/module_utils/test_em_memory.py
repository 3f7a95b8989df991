"""Memory measures of issue 6 must not change results: compact query results, streamed exit (em_rows itself: test_em_rows)."""
import json

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_module
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_rows import Rows
from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_backup_task_session_info as backup_module
from unit.plugins.module_utils.em_fake import FakeEM, paged_handler, synthetic_task_session
from unit.plugins.module_utils.test_em_client import make_client, run_query
from unit.plugins.modules.module_runner import CONNECTION, install_fake, patch_module_args, run_module

ITEMS = [synthetic_task_session(i) for i in range(250)]


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
