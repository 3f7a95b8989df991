"""veeam_em_compliance_info's history cache against the emulator (issue 18): consecutive nights.

Each night is the module's ``now`` on the emulator's fixed data clock (the dataset is generated once):
the first night reads the whole history and writes the cache into report_dir; every later night
reads only the delta, and its ``compliance`` (verdicts, rows, findings) must equal a cold run's at
the same ``now`` while it sends fewer requests. A VM whose sessions are all older than the delta is
judged from the cache alone. A cache of another EM or account is not used (a full read, said).
"""
import gzip
import json
import os
from datetime import timedelta

import pytest

from emulator.harness import Emulator
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_time
from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_compliance_info as module
from unit.plugins.modules.module_runner import run_module

pytestmark = pytest.mark.slow

NOW = "2026-11-01T06:00:00Z"
NIGHTS = ["2026-10-29T06:00:00Z", "2026-10-30T06:00:00Z", "2026-10-31T06:00:00Z", NOW]
LOOKBACK_DAYS = 1
OVERLAP_HOURS = 24


@pytest.fixture(scope="module")
def em():
    with Emulator(vms=60, days=36, seed=7, tls=True, now=NOW) as emulator:
        yield emulator


def _args(em, now, **extra):
    args = {"server": em.host, "port": em.port, "username": em.username, "password": em.password,
            "ca_path": em.ca_file, "now": now, "lookback_days": LOOKBACK_DAYS, "page_size": 50,
            "history_cache_overlap_hours": OVERLAP_HOURS}
    args.update(extra)
    return args


def _run(em, capsys, now, check_mode=False, **extra):
    """One module run; returns (result, requests the emulator counted)."""
    em.reset_stats()
    result = run_module(module, _args(em, now, **extra), capsys, check_mode=check_mode)
    assert not result.get("failed"), result.get("msg")
    return result, em.stats()["requests_total"]


def _cold(em, capsys, now):
    return _run(em, capsys, now, history_cache=False)


def _cache_file(report_dir):
    return os.path.join(str(report_dir), "compliance.history-cache.json.gz")


def _load(path):
    """The header line of the cache (JSON lines: the header, one item a line, the count)."""
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        return json.loads(stream.readline())


def _rewrite_header(path, header):
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        lines = stream.readlines()
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        stream.writelines([json.dumps(header) + "\n"] + lines[1:])


def test_warm_nights_equal_cold_nights_with_fewer_requests(em, capsys, tmp_path):
    """The history part alone (history_cache_window=false): the window is read whole every night."""
    first, _requests = _run(em, capsys, NIGHTS[0], report_dir=str(tmp_path), history_cache_window=False)
    assert first["history_cache"]["used"] is False
    assert first["history_cache"]["reason"].startswith("no history cache yet")
    assert first["history_cache"]["written"] == _cache_file(tmp_path)
    for night in NIGHTS[1:]:
        warm, warm_requests = _run(em, capsys, night, report_dir=str(tmp_path), history_cache_window=False)
        cold, cold_requests = _cold(em, capsys, night)
        cache = warm["history_cache"]
        assert cache["used"] is True, cache["reason"]
        assert warm["compliance"] == cold["compliance"]
        assert warm_requests < cold_requests, (warm_requests, cold_requests)
        # the delta: from the previous night's window start minus the overlap, to this night's window start
        previous_start = em_time.parse_iso(night) - timedelta(days=1 + LOOKBACK_DAYS)
        assert cache["read_from"] == em_time.format_z(previous_start - timedelta(hours=OVERLAP_HOURS))
        window_start = em_time.format_z(em_time.parse_iso(night) - timedelta(days=LOOKBACK_DAYS))
        assert cache["read_to"] == window_start
        history = warm["queries"]["backup_task_history"]
        assert (history["created_after"], history["created_before"]) == (cache["read_from"], window_start)
        assert warm["queries"]["replica_task_history"]["created_after"] == cache["read_from"]
        assert cold["queries"]["backup_task_history"]["created_after"] == cold["history_cache"]["read_from"] == \
            em_time.format_z(em_time.parse_iso(night) - timedelta(days=30))
        assert history["items"] < cold["queries"]["backup_task_history"]["items"]
        assert 0 < cache["items_kept"] <= cache["items_loaded"]
        assert cache["written"] == _cache_file(tmp_path)
        assert _load(_cache_file(tmp_path))["read_through"] == window_start
    assert em.stats()["open_sessions"] == 0


def test_window_cached_nights_equal_cold_nights_with_fewer_requests_than_the_history_cache_alone(em, capsys, tmp_path):
    """The window cached too (the default): with a 3-day window and a 24 h overlap each warm night reads from EM
    only from the previous night minus 24 h (inside the window: the history queries are not sent, their summaries
    say so), sends fewer requests than a warm night of the history cache alone, and judges as a cold run does."""
    window_dir, history_dir = tmp_path / "window", tmp_path / "history"
    _run(em, capsys, NIGHTS[0], report_dir=str(window_dir), lookback_days=3)
    _run(em, capsys, NIGHTS[0], report_dir=str(history_dir), lookback_days=3, history_cache_window=False)
    for night in NIGHTS[1:]:
        previous = _load(_cache_file(window_dir))
        assert previous["window_cached"] is True
        warm, warm_requests = _run(em, capsys, night, report_dir=str(window_dir), lookback_days=3)
        today, today_requests = _run(em, capsys, night, report_dir=str(history_dir), lookback_days=3,
                                     history_cache_window=False)
        cold, cold_requests = _run(em, capsys, night, lookback_days=3, history_cache=False)
        cache = warm["history_cache"]
        assert cache["used"] is True and today["history_cache"]["used"] is True, cache["reason"]
        assert warm["compliance"] == cold["compliance"] == today["compliance"]
        assert warm_requests < today_requests < cold_requests, (warm_requests, today_requests, cold_requests)
        window_start = em_time.parse_iso(night) - timedelta(days=3)
        read_from = em_time.parse_iso(previous["read_through"]) - timedelta(hours=OVERLAP_HOURS)
        assert read_from >= window_start, "the emulator has a session running since before the window start"
        assert cache["window_read_from"] == em_time.format_z(read_from) and cache["history_read"] is False
        for key in ("backup_task_sessions", "replica_task_sessions"):
            assert warm["queries"][key]["created_after"] == em_time.format_z(read_from)
            assert warm["queries"][key]["items"] < cold["queries"][key]["items"]
        for key in ("backup_task_history", "replica_task_history"):
            assert warm["queries"][key] == {"type": cold["queries"][key]["type"],
                                            "skipped": "the history cache holds it", "requests": 0,
                                            "cache_read_from": em_time.format_z(read_from),
                                            "window_start": em_time.format_z(window_start)}
        assert 0 < cache["window_items_kept"] <= cache["window_items_loaded"] and cache["window_cached"] is True
        # the job sessions too: from the job part's end minus the overlap, not from the history start
        assert previous["jobs_cached"] is True and cache["jobs_cached"] is True and cache["job_items_kept"] > 0
        job_from = em_time.parse_iso(previous["job_read_through"]) - timedelta(hours=OVERLAP_HOURS)
        assert cache["job_read_from"] == em_time.format_z(job_from)
        for key in ("backup_job_sessions", "replica_job_sessions"):
            assert warm["queries"][key]["created_after"] == cache["job_read_from"]
            assert warm["queries"][key]["items"] < cold["queries"][key]["items"]
            assert cold["queries"][key]["created_after"] == em_time.format_z(em_time.parse_iso(night) - timedelta(days=30))
    assert em.stats()["open_sessions"] == 0


def _last_session_by_vm(em):
    last = {}
    for session in em.dataset()["task_sessions"]:
        created = em_time.parse_iso(session["creation_time"])
        name = session["vm_display_name"]
        last[name] = max(created, last.get(name, created))
    return last


def test_a_vm_seen_only_in_the_cached_history_is_judged_on_a_warm_night(em, capsys, tmp_path):
    _run(em, capsys, NIGHTS[-2], report_dir=str(tmp_path))
    warm, _requests = _run(em, capsys, NOW, report_dir=str(tmp_path))
    cold, _requests = _cold(em, capsys, NOW)
    read_from = em_time.parse_iso(warm["history_cache"]["read_from"])
    only_cached = sorted(name for name, last in _last_session_by_vm(em).items() if last < read_from)
    # the emulator's VMs that stopped being backed up 3-7 days before its clock (generator.py)
    assert only_cached, "the dataset has no VM whose sessions all precede the delta"
    warm_rows = dict((row["vm_display_name"], row) for row in warm["compliance"]["vms"])
    cold_rows = dict((row["vm_display_name"], row) for row in cold["compliance"]["vms"])
    for name in only_cached:
        assert warm_rows[name] == cold_rows[name]
        assert warm_rows[name]["status"] == "violation" and "rpo_exceeded" in warm_rows[name]["reasons"]


def test_a_cache_of_another_em_is_a_full_read(em, capsys, tmp_path):
    with Emulator(vms=10, days=36, seed=8, tls=True, now=NOW) as other:
        written, _requests = _run(other, capsys, NIGHTS[-2], report_dir=str(tmp_path))
        assert written["history_cache"]["written"] == _cache_file(tmp_path)
    warm, warm_requests = _run(em, capsys, NOW, report_dir=str(tmp_path))
    cold, cold_requests = _cold(em, capsys, NOW)
    assert warm["history_cache"]["used"] is False
    assert "written for another EM (%s" % other.base_url in warm["history_cache"]["reason"]
    assert warm["history_cache"]["items_kept"] == 0
    assert warm["compliance"] == cold["compliance"] and warm_requests == cold_requests
    # the full read wrote this EM's cache over the foreign one: the next night uses it
    assert _load(_cache_file(tmp_path))["identity"]["em"] == em.base_url


def test_a_cache_of_another_account_is_a_full_read(em, capsys, tmp_path):
    _run(em, capsys, NIGHTS[-2], report_dir=str(tmp_path))
    document = _load(_cache_file(tmp_path))
    document["identity"]["account"] = "CORP\\someone-else"
    _rewrite_header(_cache_file(tmp_path), document)
    warm, warm_requests = _run(em, capsys, NOW, report_dir=str(tmp_path))
    cold, cold_requests = _cold(em, capsys, NOW)
    assert warm["history_cache"]["used"] is False
    assert "written for another EM account" in warm["history_cache"]["reason"]
    assert warm["compliance"] == cold["compliance"] and warm_requests == cold_requests


def test_check_mode_reads_the_cache_and_writes_nothing(em, capsys, tmp_path):
    _run(em, capsys, NIGHTS[-2], report_dir=str(tmp_path))
    before = os.stat(_cache_file(tmp_path))
    with open(_cache_file(tmp_path), "rb") as stream:
        content = stream.read()
    warm, _requests = _run(em, capsys, NOW, check_mode=True, report_dir=str(tmp_path))
    assert warm["history_cache"]["used"] is True and warm["history_cache"]["written"] is None
    with open(_cache_file(tmp_path), "rb") as stream:
        assert stream.read() == content
    assert os.stat(_cache_file(tmp_path)).st_mtime_ns == before.st_mtime_ns
