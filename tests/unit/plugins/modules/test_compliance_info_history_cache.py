"""veeam_em_compliance_info and its history cache (issue 18) against the fake EM: what the module sends
and returns on a first night, a warm night, in check mode and without report_dir."""
import os

import pytest

from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_compliance_info as module
from unit.plugins.module_utils.em_fake import FakeEM
from unit.plugins.modules.module_runner import CONNECTION, install_fake, run_module
from unit.plugins.modules.test_compliance_info import by_type

NIGHT1 = "2025-06-28T06:00:00Z"
NIGHT2 = "2025-06-29T06:00:00Z"
CACHE = "compliance.history-cache.json.gz"


@pytest.fixture
def fake(monkeypatch):
    fake = FakeEM("json", by_type())
    install_fake(monkeypatch, fake)
    return fake


def run(capsys, now, check_mode=False, **args):
    return run_module(module, dict(CONNECTION, now=now, check_jobs=False, known_servers_from_em=False, **args),
                      capsys, check_mode=check_mode)


def history_filters(fake):
    """The filters of the history queries (the task-session queries that end at the window start)."""
    return [call.query["filter"] for call in fake.api_calls()
            if call.query["type"].endswith("TaskSession") and call.query["filter"].count("CreationTime") == 2
            and call.query["filter"].endswith('CreationTime<"2025-06-22T06:00:00Z"')]


def test_a_warm_night_reads_the_history_from_the_cached_end_minus_the_overlap(fake, capsys, tmp_path):
    """history_cache_window=false: the cache ends at the window start, the window is read whole."""
    first = run(capsys, NIGHT1, report_dir=str(tmp_path), history_cache_window=False)
    assert "failed" not in first, first.get("msg")
    assert first["history_cache"]["used"] is False and first["history_cache"]["written"] == str(tmp_path / CACHE)
    fake.calls[:] = []
    second = run(capsys, NIGHT2, report_dir=str(tmp_path), history_cache_window=False)
    cache = second["history_cache"]
    assert cache["used"] is True, cache["reason"]
    assert (cache["read_from"], cache["read_to"]) == ("2025-06-19T06:00:00Z", "2025-06-22T06:00:00Z")
    assert history_filters(fake) == ['CreationTime>="2025-06-19T06:00:00Z";CreationTime<"2025-06-22T06:00:00Z"'] * 2
    assert second["queries"]["backup_task_history"]["created_after"] == "2025-06-19T06:00:00Z"
    assert second["queries"]["backup_task_history"]["created_before"] == "2025-06-22T06:00:00Z"
    assert cache["items_loaded"] > 0 and cache["written"] == str(tmp_path / CACHE)


def window_filters(fake):
    """The filters of the window's task-session queries (they end at night 2's ``now``)."""
    return [call.query["filter"] for call in fake.api_calls()
            if call.query["type"].endswith("TaskSession") and call.query["filter"].endswith('<"2025-06-29T06:00:00Z"')]


def test_a_warm_night_with_the_window_cached_reads_only_from_the_cached_end_minus_the_overlap(fake, capsys, tmp_path):
    """The default (history_cache_window): night 1 cached its window up to its now - here up to its only backup
    server's last sign of life plus 48 h, the server being quiet since (history_cache._quiet_through: its sessions
    may come late); night 2 reads the window from that last sign of life, not from night 1 minus 48 h, and sends no
    history query (their summaries say why)."""
    first = run(capsys, NIGHT1, report_dir=str(tmp_path))
    assert first["history_cache"]["window_cached"] is True, first["history_cache"]
    quiet = "2025-06-25T00:24:24.024Z"   # the newest session of enterprise06 (the sample data's only server) ended
    assert "backup server enterprise06.tech.local has no session since %s" % quiet in first["history_cache"]["quiet_server"]
    fake.calls[:] = []
    second = run(capsys, NIGHT2, report_dir=str(tmp_path))
    cache = second["history_cache"]
    assert cache["used"] is True and cache["history_read"] is False, cache["reason"]
    assert (cache["read_from"], cache["read_to"], cache["window_read_from"]) == (None, None, quiet)
    assert history_filters(fake) == []
    # EM's filter in whole seconds, the fraction dropped: the bound reads from before it, never after
    assert window_filters(fake) == ['CreationTime>="2025-06-25T00:24:24Z";CreationTime<"2025-06-29T06:00:00Z"'] * 2
    for key in ("backup_task_history", "replica_task_history"):
        assert second["queries"][key]["skipped"] == "the history cache holds it"
        assert "items" not in second["queries"][key]
    assert second["queries"]["backup_task_sessions"]["created_after"] == quiet
    assert cache["window_items_loaded"] > 0 and cache["window_items_kept"] > 0
    assert second["requests"] < first["requests"]


def test_check_mode_reads_the_cache_and_writes_none(fake, capsys, tmp_path):
    run(capsys, NIGHT1, report_dir=str(tmp_path))
    before = (tmp_path / CACHE).read_bytes()
    second = run(capsys, NIGHT2, check_mode=True, report_dir=str(tmp_path))
    assert second["history_cache"]["used"] is True and second["history_cache"]["written"] is None
    assert (tmp_path / CACHE).read_bytes() == before


def test_without_report_dir_the_whole_history_is_read_and_said(fake, capsys):
    result = run(capsys, NIGHT2)
    assert result["history_cache"]["used"] is False and "no report_dir" in result["history_cache"]["reason"]
    assert history_filters(fake) == ['CreationTime>="2025-05-30T06:00:00Z";CreationTime<"2025-06-22T06:00:00Z"'] * 2


def test_switched_off_the_whole_history_is_read(fake, capsys, tmp_path):
    run(capsys, NIGHT1, report_dir=str(tmp_path))
    fake.calls[:] = []
    result = run(capsys, NIGHT2, report_dir=str(tmp_path), history_cache=False)
    assert result["history_cache"]["used"] is False and "history_cache is false" in result["history_cache"]["reason"]
    assert history_filters(fake) == ['CreationTime>="2025-05-30T06:00:00Z";CreationTime<"2025-06-22T06:00:00Z"'] * 2
    assert os.path.exists(str(tmp_path / CACHE))  # the first night's, left as it was


def test_the_cache_writer_is_joined_when_the_evaluation_fails(fake, capsys, tmp_path, monkeypatch):
    """The history cache is written by a child process while the module evaluates (HistoryCache.write_beside):
    an evaluation that raises still joins it - the file is whole and no child is left running or unreaped."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_module
    from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import history_cache
    waited = []
    original_wait = history_cache.HistoryCache.wait

    def wait(cache):
        waited.append(cache._writer.pid if cache._writer else None)
        return original_wait(cache)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the evaluation broke")
    monkeypatch.setattr(history_cache.HistoryCache, "wait", wait)
    monkeypatch.setattr(em_compliance_module, "judge_read", broken)
    with pytest.raises(RuntimeError, match="the evaluation broke"):
        run(capsys, NIGHT1, report_dir=str(tmp_path))
    child = waited[0]
    assert child is not None and child != os.getpid()   # a child wrote it, and the finally joined it
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)                    # reaped: no such child any more
    assert os.path.getsize(str(tmp_path / CACHE)) > 0


def test_a_walk_child_that_does_not_answer_is_a_warning_with_the_same_verdicts(fake, capsys, monkeypatch):
    """Half of the VMs are walked by a child process (em_compliance._walk_vms); one that fails or is killed leaves
    its half to the module - the same verdicts - and the module warns why (never a silent fallback). The warnings
    are taken at AnsibleModule.warn: ansible-core 2.19 sends them to the controller's display, not the result, in
    a process that imported controller code (as other tests here do)."""
    from ansible.module_utils.basic import AnsibleModule
    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance
    warned = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, message, **kwargs: warned.append(message))
    whole = run(capsys, NIGHT1, history_cache=False)
    assert not [text for text in warned if "second process" in text]
    monkeypatch.setattr(em_compliance, "WALK_BESIDE_FROM_VMS", 2)
    monkeypatch.setattr(em_compliance, "_walked_beside", lambda *args: {}["lost"])
    lost = run(capsys, NIGHT1, history_cache=False)
    vms = len(whole["compliance"]["vms"])
    assert [text for text in warned if "second process" in text] == [
        "the evaluation's second process did not answer (KeyError: 'lost'): the module walked its %d of the %d VMs "
        "itself, the verdicts are the same" % (vms - vms // 2, vms)]
    assert lost["compliance"] == whole["compliance"] and vms >= 2
