"""The history cache's lines folded while EM's window task sessions are read (issue 18,
em_compliance_read.CacheLines), by a child process or a thread (each test of both runs with each: ``folder``):
joined before the history and job reads, on a failed read and always; a broken file found after the delta was read
is a full read; what the thread raises reaches the main thread, what the child raises or how it ends is a full read,
said.

The thread is gated (``_Gate``): its fold of the lines waits until run_reads joins it, so that EM's window is read
first, deterministically (with a fake EM the lines would often be folded before the first page arrives). The child
folds into a fold of its own whatever the timing; the gate records the children started and whether each was
joined (reaped)."""
from __future__ import absolute_import, division, print_function

import json
import os
import signal
import threading
from datetime import timedelta

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_files, em_time
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_read as reader
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import history_cache

from .test_history_cache import (
    FakeEM, _as_em_shows, _at, _cache_file, _judged_night, _load, _month, _night, _params, _save,
    _window_filters, _with_job_sessions)

FIRST = "2025-06-01T06:00:00Z"
SECOND = _at(FIRST, days=1)
LOOKBACK = 7
THREAD = "history-cache-lines"


@pytest.fixture(params=["child", "thread"])
def folder(request, monkeypatch):
    """Who folds the lines: a child process (the default where the module can fork) or a thread."""
    monkeypatch.setattr(reader, "LINES_IN_CHILD", request.param == "child")
    return request.param


class _Gate(object):
    """The cache thread's fold of the lines waits until the reader joins the thread (Thread.join opens the gate):
    EM's window pages are folded before any cached line. Never joined, it stays blocked (``release`` lets it go
    at the test's end; the wait's bound only keeps a broken reader from hanging the suite). With a child process
    (``folder``): the children started are kept; ``waited`` says of each whether it was joined."""

    def __init__(self, monkeypatch, folder="thread"):
        self.opened, self._waited, self.children = threading.Event(), [], []
        if folder == "child":
            start = em_files.Beside.start.__func__
            children = self.children

            def started(cls, work, what="working"):
                child = start(cls, work, what)
                if what == "folding":
                    assert child is not None, "no fork here: the child's tests would test the thread"
                    children.append(child)
                return child
            monkeypatch.setattr(em_files.Beside, "start", classmethod(started))
            return
        monkeypatch.setattr(reader, "LINES_IN_CHILD", False)
        gate = self
        fold_lines = history_cache.HistoryCache.fold_lines

        def gated(cache, stream, fold):
            gate._waited.append(gate.opened.wait(60))
            return fold_lines(cache, stream, fold)

        thread = threading.Thread

        class GatedThread(thread):
            def join(self, timeout=None):  # pylint: disable=arguments-differ
                gate.opened.set()
                return thread.join(self, timeout)

        monkeypatch.setattr(history_cache.HistoryCache, "fold_lines", gated)
        monkeypatch.setattr(reader.threading, "Thread", GatedThread)

    @property
    def waited(self):
        return [child.pid is None for child in self.children] if self.children else self._waited

    def release(self):
        self.opened.set()


def _alive():
    return [thread for thread in threading.enumerate() if thread.name == THREAD]


def _sessions():
    return _month(30, _at(FIRST, days=3), late_hours=0)


def _em(sessions, now, **extra):
    return FakeEM(_as_em_shows(sessions, em_time.parse_iso(now)), **extra)


def _verdicts(tmp_path, fold, items, **extra):
    params = _params(tmp_path, **dict(dict(check_jobs=False, known_servers_from_em=False), **extra))
    return json.loads(json.dumps(reader.judge_read(params, fold, items, [])))


@pytest.fixture
def plain_pages(monkeypatch):
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)


def _warm_cache(tmp_path, sessions):
    _night(tmp_path, _em(sessions, FIRST), FIRST, lookback_days=LOOKBACK)
    return _load(tmp_path)


def test_the_lines_are_folded_after_the_window_read_and_a_warm_night_equals_a_cold_one(tmp_path, plain_pages,
                                                                                       monkeypatch, folder):
    """The gate holds the lines until the join: EM's delta window is folded first, then the cache's lines are
    joined in as if folded before it (SessionFold.absorb_first); the verdicts are the cold read's."""
    sessions = _sessions()
    _warm_cache(tmp_path / "warm", sessions)
    gate = _Gate(monkeypatch, folder)
    try:
        fold, items, _queries, error, cache = _night(tmp_path / "warm", _em(sessions, SECOND), SECOND,
                                                     lookback_days=LOOKBACK)
    finally:
        gate.release()
    assert gate.waited == [True] and error is None and not _alive()
    assert cache.outcome["used"] is True and cache.outcome["window_items_kept"] > 0, cache.outcome
    warm = _verdicts(tmp_path / "warm", fold, items)
    cold_fold, cold_items, _q, cold_error, _c = _night(tmp_path / "cold", _em(sessions, SECOND), SECOND,
                                                       lookback_days=LOOKBACK, history_cache=False)
    assert cold_error is None and warm == _verdicts(tmp_path / "cold", cold_fold, cold_items)
    assert warm["summary"]["vms_total"] >= 20


def test_a_broken_line_found_after_the_delta_was_read_is_a_full_read(tmp_path, plain_pages, monkeypatch, folder):
    """(a) The file's end says more items than it holds: found only after EM's window was read from the delta's
    window_read_from. Everything is read again whole (the window from its start), the outcome says why exactly
    as before, and the verdicts are a cold read's."""
    sessions = _sessions()
    document = _warm_cache(tmp_path / "warm", sessions)
    _save(tmp_path / "warm", dict(document, trailer={"items": len(document["items"]) + 1}))
    gate = _Gate(monkeypatch, folder)
    em = _em(sessions, SECOND)
    try:
        fold, items, queries, error, cache = _night(tmp_path / "warm", em, SECOND, lookback_days=LOOKBACK)
    finally:
        gate.release()
    assert error is None and not _alive()
    assert cache.outcome["used"] is False and "is incomplete" in cache.outcome["reason"], cache.outcome
    window_start = _at(SECOND, days=-LOOKBACK)
    delta_from = em_time.format_z(max(em_time.parse_iso(window_start),
                                      em_time.parse_iso(document["read_through"]) - timedelta(hours=48)))
    assert delta_from != window_start
    reads = [flt for flt in _window_filters(em) if 'CreationTime<"%s"' % SECOND in flt]  # not the history's
    # the delta's window reads, then the full read's (backups and replicas each time)
    assert len(reads) == 4 and all('CreationTime>="%s"' % delta_from in flt for flt in reads[:2]), reads
    assert all('CreationTime>="%s"' % window_start in flt for flt in reads[2:]), reads
    assert queries["backup_task_sessions"]["created_after"] == window_start
    assert queries["backup_task_history"]["created_after"] == _at(SECOND, days=-30)
    # nothing of the file, nothing of the delta twice: a cold read's verdicts
    warm = _verdicts(tmp_path / "warm", fold, items)
    cold_fold, cold_items, _q, cold_error, _c = _night(tmp_path / "cold", _em(sessions, SECOND), SECOND,
                                                       lookback_days=LOOKBACK, history_cache=False)
    assert cold_error is None and warm == _verdicts(tmp_path / "cold", cold_fold, cold_items)
    # and the cache written again is a full read's (the next night can use it)
    assert cache.outcome["written"] == _cache_file(tmp_path / "warm")


def test_a_failed_window_read_while_the_lines_are_folded_joins_and_judges_nothing(tmp_path, plain_pages,
                                                                                  monkeypatch, folder):
    """(b) The replica window read fails while the thread still holds the lines (gated): the thread is joined,
    then the fold emptied (the backups' pages and the cache's lines alike: no VM judged on part of its sessions),
    the error returned, no cache written, no thread left."""
    sessions = _sessions()
    _warm_cache(tmp_path, sessions)
    before = open(_cache_file(tmp_path), "rb").read()
    gate = _Gate(monkeypatch, folder)
    try:
        fold, _items, queries, error, cache = _night(tmp_path, _em(sessions, SECOND, fail_type="ReplicaTaskSession"),
                                                     SECOND, lookback_days=LOOKBACK)
        alive = _alive()
    finally:
        gate.release()
    assert alive == [] and gate.waited == [True]
    assert error is not None and queries["replica_task_sessions"]["failed"] is True
    assert fold.groups == {} and fold.history == {} and fold.excluded == []
    assert list(fold.vm_groups()) == []
    assert cache.outcome["written"] is None and open(_cache_file(tmp_path), "rb").read() == before


class Boom(Exception):
    pass


@pytest.mark.parametrize("raised", [Boom("a bug in the fold"), MemoryError()], ids=["bug", "memory"])
def test_what_the_cache_thread_raises_is_raised_in_the_main_thread(tmp_path, plain_pages, monkeypatch, raised):
    """(c) Not a file that cannot be read (a full read, said) but a bug or no memory left: raised by run_reads,
    never lost in the thread (threading prints it and the run went on without the cached lines), no thread left."""
    monkeypatch.setattr(reader, "LINES_IN_CHILD", False)
    sessions = _sessions()
    _warm_cache(tmp_path, sessions)

    def broken(cache, stream, fold):
        raise raised
    monkeypatch.setattr(history_cache.HistoryCache, "_fold_lines", broken)
    with pytest.raises(type(raised)) as caught:
        _night(tmp_path, _em(sessions, SECOND), SECOND, lookback_days=LOOKBACK)
    assert caught.value is raised and _alive() == []


def _kill_myself(cache, stream, fold):
    os.kill(os.getpid(), signal.SIGKILL)


def _fold_bug(cache, stream, fold):
    raise Boom("a bug in the fold")


@pytest.mark.parametrize("broken, said", [(_fold_bug, "Boom: a bug in the fold"), (_kill_myself, "signal 9")],
                         ids=["raised", "killed"])
def test_a_child_that_fails_or_dies_is_a_full_read_said(tmp_path, plain_pages, monkeypatch, broken, said):
    """(c') By a child process: what it raises, or its death half way (killed, out of memory), is never taken for
    folded lines nor lost: the lines are unusable - a full read whose reason names it - the child is reaped, and
    the verdicts are a cold read's."""
    sessions = _sessions()
    _warm_cache(tmp_path / "warm", sessions)
    gate = _Gate(monkeypatch, "child")
    monkeypatch.setattr(reader, "LINES_IN_CHILD", True)
    monkeypatch.setattr(history_cache.HistoryCache, "_fold_lines", broken)
    fold, items, _queries, error, cache = _night(tmp_path / "warm", _em(sessions, SECOND), SECOND,
                                                 lookback_days=LOOKBACK)
    assert error is None and gate.waited == [True]
    assert cache.outcome["used"] is False and said in cache.outcome["reason"], cache.outcome
    assert "the whole history was read" in cache.outcome["reason"]
    warm = _verdicts(tmp_path / "warm", fold, items)
    cold_fold, cold_items, _q, cold_error, _c = _night(tmp_path / "cold", _em(sessions, SECOND), SECOND,
                                                       lookback_days=LOOKBACK, history_cache=False)
    assert cold_error is None and warm == _verdicts(tmp_path / "cold", cold_fold, cold_items)


def test_no_fork_here_folds_the_lines_in_a_thread(tmp_path, plain_pages, monkeypatch):
    """Where the module cannot fork (another thread running, the fork refused: em_files.Beside.start gives None)
    the lines are folded by the thread, the packer no longer split, and the night is a cold read's."""
    sessions = _sessions()
    _warm_cache(tmp_path / "warm", sessions)
    monkeypatch.setattr(reader, "LINES_IN_CHILD", True)
    monkeypatch.setattr(em_files.Beside, "start", classmethod(lambda cls, work, what="working": None))
    folds = []
    start = reader.CacheLines.start.__func__
    monkeypatch.setattr(reader.CacheLines, "start", classmethod(
        lambda cls, cache, client, fold, listed: folds.append(fold) or start(cls, cache, client, fold, listed)))
    fold, items, _queries, error, cache = _night(tmp_path / "warm", _em(sessions, SECOND), SECOND,
                                                 lookback_days=LOOKBACK)
    assert error is None and folds == [fold] and fold._packer._split is None and not _alive()
    assert cache.outcome["used"] is True and cache.outcome["window_items_kept"] > 0, cache.outcome
    warm = _verdicts(tmp_path / "warm", fold, items)
    cold_fold, cold_items, _q, cold_error, _c = _night(tmp_path / "cold", _em(sessions, SECOND), SECOND,
                                                       lookback_days=LOOKBACK, history_cache=False)
    assert cold_error is None and warm == _verdicts(tmp_path / "cold", cold_fold, cold_items)


@pytest.mark.parametrize("seed", [40, 41])
def test_the_job_part_seeds_the_job_reads_after_the_join(tmp_path, plain_pages, monkeypatch, seed, folder):
    """(d) The job part is read from the lines (the thread): the job reads come after the join and are seeded by
    it - the job sessions read from EM only from job_read_from, the rest given by the cache - and warm == cold."""
    last = _at(FIRST, days=4)
    sessions = _with_job_sessions(_month(seed, last, late_hours=0), last)
    extra = dict(check_jobs=True, lookback_days=7, history_full_read_days=30)
    _judged_night(tmp_path / "warm", sessions, FIRST, **extra)
    gate = _Gate(monkeypatch, folder)
    try:
        warm, cache, _em_, queries = _judged_night(tmp_path / "warm", sessions, SECOND, **extra)
    finally:
        gate.release()
    assert gate.waited == [True] and not _alive()
    cold, _cache, _cold_em, _cold_queries = _judged_night(tmp_path / "cold", sessions, SECOND,
                                                          **dict(extra, history_cache=False))
    assert cache.outcome["used"] is True and cache.outcome["job_items_kept"] > 0, cache.outcome
    assert queries["backup_job_sessions"]["cached"] > 0 and queries["replica_job_sessions"]["cached"] > 0
    assert warm == cold and cold["jobs"]


def test_a_header_that_does_not_fit_starts_no_thread(tmp_path, plain_pages, monkeypatch):
    """A cache of another account is a full read decided by its header alone: no thread, the reason said."""
    sessions = _sessions()
    document = _warm_cache(tmp_path, sessions)
    _save(tmp_path, dict(document, identity=dict(document["identity"], account="CORP\\someone-else")))
    started = []
    monkeypatch.setattr(reader.CacheLines, "__init__", lambda *args: started.append(args))
    _fold, _items, _queries, error, cache = _night(tmp_path, _em(sessions, SECOND), SECOND, lookback_days=LOOKBACK)
    assert error is None and started == [] and cache.outcome["used"] is False
    assert "another EM account" in cache.outcome["reason"]


class Crash(Exception):
    pass


def test_a_read_that_raises_while_the_lines_are_folded_leaves_no_thread(tmp_path, plain_pages, monkeypatch, folder):
    """Not an EM error but an exception out of a read (a bug in a page's fold): raised by run_reads after the
    thread is joined (try/finally), never with the thread left folding."""
    sessions = _sessions()
    _warm_cache(tmp_path, sessions)
    em = _em(sessions, SECOND)
    query = em.query

    def crashing(resource, *args, **kwargs):
        if resource.query_type == "BackupTaskSession":
            raise Crash("a page that broke the fold")
        return query(resource, *args, **kwargs)
    em.query = crashing
    gate = _Gate(monkeypatch, folder)
    try:
        with pytest.raises(Crash):
            _night(tmp_path, em, SECOND, lookback_days=LOOKBACK)
        alive = _alive()
    finally:
        gate.release()
    assert alive == [] and gate.waited == [True]


def test_a_cache_file_past_the_size_bound_is_folded_before_the_reads(tmp_path, plain_pages, monkeypatch):
    """Memory over time for a big cache (LINES_BESIDE_READS_BELOW_BYTES: at 50,000 VMs the thread put the module
    past its 300 MB bound): its lines are folded before EM is read, no thread, and the night is the cold read's."""
    sessions = _sessions()
    _warm_cache(tmp_path / "warm", sessions)
    monkeypatch.setattr(reader, "LINES_BESIDE_READS_BELOW_BYTES", 1)
    started = []
    monkeypatch.setattr(reader.CacheLines, "start", classmethod(lambda cls, *args: started.append(args)))
    fold, items, _queries, error, cache = _night(tmp_path / "warm", _em(sessions, SECOND), SECOND, lookback_days=LOOKBACK)
    assert error is None and started == [] and not _alive()
    assert cache.outcome["used"] is True and cache.outcome["window_items_kept"] > 0, cache.outcome
    warm = _verdicts(tmp_path / "warm", fold, items)
    cold_fold, cold_items, _q, cold_error, _c = _night(tmp_path / "cold", _em(sessions, SECOND), SECOND,
                                                       lookback_days=LOOKBACK, history_cache=False)
    assert cold_error is None and warm == _verdicts(tmp_path / "cold", cold_fold, cold_items)
