"""The history cache (issue 18, _compliance/history_cache.py): what a warm run folds from the cache plus the
delta it reads must give the verdicts of a cold run reading the whole history; any cache that does not fit is a
full read with its reason; a failed read and check mode write nothing."""
import gzip
import json
import os
import random
import re
import stat
from datetime import timedelta

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance, em_resources, em_time
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_read as reader
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import history_cache
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import sessions
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMError

from .conftest import build_session, history_items

NIGHT1 = "2025-06-04T06:00:00Z"
NIGHT2 = "2025-06-05T06:00:00Z"
BASE = "https://em01.example.com:9398"
USER = "CORP\\svc-report"
LOOKBACK = 7


class Client(object):
    def __init__(self, base=BASE, user_name=USER):
        self.base, self.user_name = base, user_name


def _at(iso, days=0, hours=0):
    return em_time.format_z(em_time.parse_iso(iso) + timedelta(days=days, hours=hours))


def _params(tmp_path, **extra):
    params = {"report_dir": str(tmp_path), "report_basename": "compliance", "report_mode": "0640",
              "username": USER, "check_replicas": True, "read_history": True, "lookback_days": LOOKBACK,
              "history_cache": True, "history_cache_overlap_hours": 48.0, "history_full_read_days": 7.0}
    params.update(extra)
    return params


def _plan(params, now, check_mode=False):
    return reader.history_plan(params, now, em_compliance.window_start(now, params["lookback_days"]), check_mode)


def _fold(now, lookback=LOOKBACK):
    return em_compliance.session_fold(now, lookback_days=lookback)


def _write_night(tmp_path, now, history, active=True, **extra):
    """A run at ``now`` whose history read gave ``history`` ([(kind, item)]): its cache is written. ``active``: the
    backup server (build_session's) showed a session an hour before ``now`` - a window session these tests of the
    history part leave out - so that it is not quiet (the quiet bound, history_cache._quiet_through, has its own
    tests: test_a_quiet_backup_server_holds_the_cache_back_to_its_last_sign_of_life and the attack files)."""
    params = _params(tmp_path, **extra)
    cache, fold = _plan(params, now), _fold(now)
    cache.watch(fold)
    cache.begin(Client(), fold)
    for kind, item in history:
        fold.add_history([item], kind)
    if active:
        server = build_session()
        moment = em_time.parse_iso(_at(now, hours=-1))
        fold.server_signs[sessions.server_key(server)] = [moment, server["backup_server_name"], moment]
    cache.save(fold)
    return cache


def _warm(tmp_path, now, **extra):
    params = _params(tmp_path, **extra)
    cache, fold = _plan(params, now), _fold(now)
    cache.begin(Client(extra.pop("base", BASE), extra.pop("user", USER)), fold)
    return cache, fold


def _history(now, days_back, vm, **keys):
    return em_compliance.KIND_BACKUP, build_session(vm=vm, vm_uid="urn:vm:" + vm, created=_at(now, days=-days_back),
                                                    **keys)


def _cache_file(tmp_path):
    return os.path.join(str(tmp_path), "compliance.history-cache.json.gz")


def _load(tmp_path):
    """The cache file's JSON lines as one dict: the header's keys, ``items`` and ``trailer``."""
    with gzip.open(_cache_file(tmp_path), "rt", encoding="utf-8") as stream:
        lines = [json.loads(line) for line in stream]
    return dict(lines[0], items=lines[1:-1], trailer=lines[-1])


def _save(tmp_path, document):
    document = dict(document)
    items, trailer = document.pop("items"), document.pop("trailer", None)
    with gzip.open(_cache_file(tmp_path), "wt", encoding="utf-8") as stream:
        for line in [document] + list(items) + [{"items": len(items)} if trailer is None else trailer]:
            stream.write(json.dumps(line) + "\n")


# ---- the exporter and the file round trip ------------------------------------------------------------

def _line_of(kind, item, *mark):
    """The line the writer writes of a session read as ``item`` (through a fold, as the module writes it)."""
    fold = _fold(NIGHT2)
    fold.add_history([item], kind)
    line, = history_cache._entries(fold, None)
    return line + list(mark)


def _odd_history():
    """What a history can hold: replicas without VM UID, fractions of seconds, an end before the start, no UID,
    a running session, an item without a VM identity (set aside as unreadable) and two sessions of one key."""
    now = NIGHT2
    items = [_history(now, 9, "sql01"), _history(now, 10, "sql01"), _history(now, 12, "web01", result="Failed"),
             (em_compliance.KIND_REPLICA, build_session(vm="rep01", kind="replica", created="2025-05-20T01:02:03.5Z")),
             _history(now, 11, "odd01", end="2025-05-20T00:00:00Z"),
             _history(now, 13, "nouid", uid=None),
             _history(now, 14, "long01", state="InProgress", result="None"),
             (em_compliance.KIND_BACKUP, build_session(vm=None, created="2025-05-21T01:00:00Z"))]
    return items


def _verdicts(fold):
    return json.loads(json.dumps(em_compliance.evaluate_fold(fold)))


def test_the_exported_history_folds_back_to_the_same_verdicts():
    original, copy = _fold(NIGHT2), _fold(NIGHT2)
    window = [build_session(vm="sql01", vm_uid="urn:vm:sql01", created=_at(NIGHT2, days=-1))]
    for kind, item in _odd_history():
        original.add_history([item], kind)
    exported = json.loads(json.dumps(list(history_cache._entries(original, None))))  # the writer's lines
    assert len(exported) == 7  # sql01's older session of the same key is not kept
    assert sorted(len(line) for line in exported) == [2] + [5] * 6  # the item without a VM is kept as read
    for line in reversed(exported):
        if len(line) == 2:
            copy.add_history([line[1]], line[0])
            continue
        kind, values, times, marked = history_cache._record_entry(line, ["backup", "replica"])
        assert marked is False
        copy.add_history([history_cache._record(kind, values, times, True)], kind, records=True)
    # the same sessions, exactly (every value, the times to the microsecond), as records and as items
    assert sorted(map(repr, history_items(copy))) == sorted(map(repr, history_items(original)))
    for fold in (original, copy):
        fold.add(window, em_compliance.KIND_BACKUP)
    cold, warm = _verdicts(original), _verdicts(copy)
    assert warm == cold
    assert cold["summary"]["vms_total"] == 6
    assert cold["summary"]["reasons"]["unreadable_sessions"] == 1  # the item without a VM is named, not dropped


def test_save_writes_gzip_json_atomically_with_report_mode(tmp_path):
    cache = _write_night(tmp_path, NIGHT1, _odd_history())
    assert cache.outcome["written"] == _cache_file(tmp_path)
    assert stat.S_IMODE(os.stat(_cache_file(tmp_path)).st_mode) == 0o640
    document = _load(tmp_path)
    assert document["format"] == history_cache.FORMAT
    assert document["identity"] == {"em": BASE, "account": USER, "kinds": ["backup", "replica"],
                                    "fields": {"backup": list(em_compliance.BACKUP_HISTORY_FIELDS),
                                               "replica": list(em_compliance.REPLICA_HISTORY_FIELDS)},
                                    "window_fields": {"backup": list(em_compliance.BACKUP_TASK_SESSION_FIELDS),
                                                      "replica": list(em_compliance.REPLICA_TASK_SESSION_FIELDS)},
                                    "job_reads": ["backup_job_sessions", "replica_job_sessions"],
                                    "job_fields": list(em_compliance.JOB_SESSION_FIELDS)}
    assert (document["now"], document["full_read_at"]) == (NIGHT1, NIGHT1)
    # saved without the job-session reads (this test's night read none): no job part, said
    assert (document["jobs_cached"], document["job_read_through"]) == (False, None)
    assert cache.outcome["jobs_reason"] == "the job sessions were not all read: no job part is cached"
    assert (document["window_start"], document["lookback_days"]) == (_at(NIGHT1, days=-LOOKBACK), LOOKBACK)
    assert len(document["items"]) == 7 and document["trailer"] == {"items": 7}
    assert os.listdir(str(tmp_path)) == ["compliance.history-cache.json.gz"]  # no temporary left


def test_a_warm_run_reads_from_the_covered_end_minus_the_overlap(tmp_path):
    _write_night(tmp_path, NIGHT1, [_history(NIGHT1, 10, "sql01"), _history(NIGHT1, 8, "web01")],
                 history_cache_window=False)
    cache, fold = _warm(tmp_path, NIGHT2, history_cache_window=False)
    covered = _at(NIGHT1, days=-LOOKBACK)
    assert cache.outcome["used"] is True, cache.outcome["reason"]
    assert cache.outcome["read_from"] == em_time.format_z(cache.read_from) == _at(covered, hours=-48)
    assert cache.outcome["read_to"] == _at(NIGHT2, days=-LOOKBACK)
    # web01 (8 days before night 1) is inside the 48 h read again: read from EM, not taken from the cache
    assert (cache.outcome["items_loaded"], cache.outcome["items_kept"]) == (2, 1)
    assert [session["vm_display_name"] for _kind, session in history_items(fold)] == ["sql01"]


def test_the_overlap_is_an_option(tmp_path):
    _write_night(tmp_path, NIGHT1, [_history(NIGHT1, 10, "sql01"), _history(NIGHT1, 8, "web01")],
                 history_cache_window=False)
    cache, _fold_ = _warm(tmp_path, NIGHT2, history_cache_overlap_hours=0, history_cache_window=False)
    assert cache.outcome["read_from"] == _at(NIGHT1, days=-LOOKBACK)
    assert cache.outcome["items_kept"] == 2


def test_items_older_than_this_runs_history_start_are_dropped(tmp_path):
    old = _history(NIGHT1, 29.9, "gone01")  # 30.9 days before night 2: EM forgot it, a cold read would not see it
    _write_night(tmp_path, NIGHT1, [old, _history(NIGHT1, 20, "sql01")])
    cache, fold = _warm(tmp_path, NIGHT2)
    assert (cache.outcome["items_loaded"], cache.outcome["items_kept"]) == (2, 1)
    assert [session["vm_display_name"] for _kind, session in history_items(fold)] == ["sql01"]


def test_a_running_session_bounds_what_the_cache_covers(tmp_path):
    running = _history(NIGHT1, 12, "long01", state="InProgress", result="None")
    _write_night(tmp_path, NIGHT1, [running, _history(NIGHT1, 20, "sql01")])
    assert _load(tmp_path)["read_through"] == running[1]["creation_time"]
    cache, fold = _warm(tmp_path, NIGHT2, history_cache_overlap_hours=0)
    assert cache.outcome["read_from"] == running[1]["creation_time"]  # read again: its result is known later
    assert [session["vm_display_name"] for _kind, session in history_items(fold)] == ["sql01"]


def test_a_running_session_hidden_by_a_newer_one_of_its_key_still_bounds_it(tmp_path):
    older = _history(NIGHT1, 15, "long01", state="InProgress", result="None")
    newer = _history(NIGHT1, 12, "long01", state="InProgress", result="None")
    cache = _write_night(tmp_path, NIGHT1, [older, newer])
    assert [session["uid"] for _kind, session in history_items(_fold_of(cache, [older, newer]))] == [newer[1]["uid"]]
    assert _load(tmp_path)["read_through"] == older[1]["creation_time"]


def _fold_of(_cache, history):
    fold = _fold(NIGHT1)
    for kind, item in history:
        fold.add_history([item], kind)
    return fold


def test_the_page_fold_shows_every_running_session_to_the_cache(tmp_path, monkeypatch):
    """History pages (also a running session a newer one of its key hides) and window pages: the fold's one
    is_running per item reaches the cache (SessionFold.on_running)."""
    older = _history(NIGHT1, 15, "long01", state="InProgress", result="None")[1]
    newer = _history(NIGHT1, 12, "long01", state="InProgress", result="None")[1]
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)
    cache, fold = _plan(_params(tmp_path), NIGHT1), _fold(NIGHT1)
    cache.watch(fold)
    window = reader.PageFold(em_resources.BACKUP_TASK_SESSION, fold, em_compliance.KIND_BACKUP, False)
    window.normalise([build_session(state="InProgress", created=_at(NIGHT1, days=-2)),
                      build_session(created=_at(NIGHT1, days=-3))])
    assert em_time.format_z(cache.oldest_running) == _at(NIGHT1, days=-2)  # a window page is watched
    reader.PageFold(em_resources.BACKUP_TASK_SESSION, fold, em_compliance.KIND_BACKUP, True).normalise(
        [newer, older])
    assert em_time.format_z(cache.oldest_running) == older["creation_time"]


def test_a_session_in_a_state_em_does_not_document_and_without_an_end_bounds_the_cache(tmp_path, monkeypatch):
    """Neither running nor Completed nor ended (a state EM does not document): the rules count it neither as a
    success nor as a failure, and EM may still finish it - the cache keeps nothing from it on, so a later night
    reads it again (window and history pages alike); a Completed one, or one with an end, is settled."""
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)
    cache, fold = _plan(_params(tmp_path), NIGHT1), _fold(NIGHT1)
    cache.watch(fold)
    window = reader.PageFold(em_resources.BACKUP_TASK_SESSION, fold, em_compliance.KIND_BACKUP, False)
    window.normalise([build_session(state="Idle", result="None", end=None, created=_at(NIGHT1, days=-3)),
                      build_session(state="Idle", created=_at(NIGHT1, days=-5)),  # ended: settled
                      build_session(created=_at(NIGHT1, days=-6))])
    assert em_time.format_z(cache.oldest_running) == _at(NIGHT1, days=-3)
    history = _history(NIGHT1, 15, "odd01", state="Idle", result="None")[1]
    history.pop("end_time", None)
    reader.PageFold(em_resources.BACKUP_TASK_SESSION, fold, em_compliance.KIND_BACKUP, True).normalise(
        [history, _history(NIGHT1, 16, "sql01")[1]])
    assert em_time.format_z(cache.oldest_running) == history["creation_time"]


def test_the_fold_computes_is_running_once_per_history_item(monkeypatch):
    """The hot-path waste fixed: the cache no longer walks each history page for running sessions on its own."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import fold as fold_module
    calls = []
    monkeypatch.setattr(fold_module, "is_running", lambda item: calls.append(item) or item.get("state") == "InProgress")
    fold, seen = _fold(NIGHT1), []
    fold.on_running = seen.append
    items = [_history(NIGHT1, 15, "long01", state="InProgress", result="None")[1], _history(NIGHT1, 12, "sql01")[1]]
    fold.add_history(items, em_compliance.KIND_BACKUP)
    assert len(calls) == 2 and [em_time.format_z(moment) for moment in seen] == [items[0]["creation_time"]]


# ---- caches that do not fit: a full read, said -------------------------------------------------------

def _assert_full(cache, fold, words):
    assert cache.outcome["used"] is False
    assert words in cache.outcome["reason"], cache.outcome["reason"]
    assert cache.read_from == em_time.parse_iso(NIGHT2) - timedelta(days=30)
    assert cache.outcome["read_from"] == _at(NIGHT2, days=-30)
    assert (cache.outcome["items_loaded"], cache.outcome["items_kept"]) == (0, 0)
    assert list(history_items(fold)) == []


def test_no_cache_yet(tmp_path):
    _assert_full(*(_warm(tmp_path, NIGHT2) + ("no history cache yet",)))


# mtime=0 and ids: gzip writes the time into its header, and test ids must be the same in every
# pytest-xdist worker (a different id per worker is a collection error)
@pytest.mark.parametrize("content, words", [
    (b"", "is not of format 4"), (gzip.compress(b"", mtime=0), "is not of format 4"),
    (b"not gzip at all", "could not be read"), (gzip.compress(b"{not json", mtime=0), "could not be read"),
    (gzip.compress(b"\xff\xfe", mtime=0), "could not be read"),
    (gzip.compress(b"[1, 2]", mtime=0)[:-6], "could not be read")],
    ids=["empty-file", "empty-gzip", "not-gzip", "not-json", "not-utf8", "cut-gzip"])
def test_an_unreadable_cache(tmp_path, content, words):
    with open(_cache_file(tmp_path), "wb") as stream:
        stream.write(content)
    _assert_full(*(_warm(tmp_path, NIGHT2) + (words,)))


def test_a_cache_cut_short_is_dropped_whole(tmp_path, monkeypatch):
    """A file that ends early (a disk full while an older version wrote it) after some items were folded:
    nothing of it is judged, the whole history is read."""
    _write_night(tmp_path, NIGHT1, [_history(NIGHT1, 10 + day, "vm%02d" % day) for day in range(15)])
    with open(_cache_file(tmp_path), "rb") as stream:
        whole = gzip.decompress(stream.read())
    with open(_cache_file(tmp_path), "wb") as stream:
        stream.write(gzip.compress(whole[:len(whole) * 2 // 3].rsplit(b"\n", 1)[0] + b"\n"))
    monkeypatch.setattr(history_cache, "_BATCH", 2)  # items folded before the end is found missing
    cache, fold = _warm(tmp_path, NIGHT2)
    _assert_full(cache, fold, "is incomplete")


_SQL = build_session(vm="sql01", vm_uid="urn:vm:sql01", created=_at(NIGHT1, days=-9))
_SQL_LINE = _line_of(em_compliance.KIND_BACKUP, _SQL)
_REPLICA_LINE = _line_of(em_compliance.KIND_REPLICA, build_session(vm="rep01", kind="replica",
                                                                   created=_at(NIGHT1, days=-9)))


def _changed(line, position, value):
    """``line`` (a record line) with one element changed (``position``: an int, or (1, i) for the i-th value)."""
    line = json.loads(json.dumps(line))
    if isinstance(position, tuple):
        line[1][position[1]] = value
    else:
        line[position] = value
    return line


_AT = dict((key, (1, number)) for number, key in enumerate(history_cache.RECORD_KEYS))
_NOT_AN_ITEM = "not a history or window item of a kind read"


@pytest.mark.parametrize("change, words", [
    ({"format": 99}, "is not of format 4"),
    ({"format": None}, "is not of format 4"),
    ({"format": 2}, "is not of format 4"),  # a cache of an older layout (no job part): a full read
    ({"format": 3}, "is not of format 4"),  # the items with their keys and ISO times: a full read
    ({"identity": None}, "names no EM and account"),
    ({"now": "yesterday"}, "no readable times"),
    ({"read_through": None}, "no readable times"),
    ({"trailer": {"items": 2}}, "is incomplete (1 of 2 items)"),
    ({"trailer": {}}, "is incomplete (1 of None items)"),
    ({"items": [_changed(_SQL_LINE, 0, "copy")]}, _NOT_AN_ITEM),
    ({"items": [_changed(_SQL_LINE, 2, "soon")]}, _NOT_AN_ITEM),
    ({"items": [_SQL_LINE + ["other"]]}, _NOT_AN_ITEM),
    ({"items": [_SQL_LINE + ["window"]], "window_cached": False, "read_through": _at(NIGHT1, days=-LOOKBACK)},
     _NOT_AN_ITEM),
    # a record line's values are checked as EM's answer is: each one a line the writer cannot write
    ({"items": [_SQL_LINE[:4]]}, _NOT_AN_ITEM),
    ({"items": [_changed(_SQL_LINE, 1, _SQL_LINE[1][:-1])]}, _NOT_AN_ITEM),
    ({"items": [_changed(_SQL_LINE, 1, dict(zip(history_cache.RECORD_KEYS, _SQL_LINE[1])))]}, _NOT_AN_ITEM),
    ({"items": [_changed(_SQL_LINE, _AT["result"], 1)]}, _NOT_AN_ITEM),
    ({"items": [_changed(_SQL_LINE, _AT["job_name"], ["Backup Job 1"])]}, _NOT_AN_ITEM),
    ({"items": [_changed(_changed(_SQL_LINE, _AT["vm_uid"], None), _AT["vm_display_name"], "")]}, _NOT_AN_ITEM),
    ({"items": [_changed(_REPLICA_LINE, _AT["restore_point_uid"], "urn:veeam:RestorePoint:x")]}, _NOT_AN_ITEM),
    ({"items": [_changed(_SQL_LINE, 2, float(_SQL_LINE[2]))]}, _NOT_AN_ITEM),
    ({"items": [_changed(_SQL_LINE, 2, True)]}, _NOT_AN_ITEM),
    ({"items": [_changed(_SQL_LINE, 2, 10 ** 30)]}, _NOT_AN_ITEM),
    ({"items": [_changed(_SQL_LINE, 3, _SQL_LINE[2] - 1)]}, _NOT_AN_ITEM),  # an end before the creation
    ({"items": [_changed(_SQL_LINE, 3, "+1")]}, _NOT_AN_ITEM),
    ({"items": [_changed(_SQL_LINE, 4, -10 ** 30)]}, _NOT_AN_ITEM),
    # an item line is only the history item without a VM identity the fold keeps as read
    ({"items": [["backup", _SQL]]}, _NOT_AN_ITEM),
    ({"items": [["backup", dict(_SQL, vm_uid=None, vm_display_name=None, creation_time="soon")]]}, _NOT_AN_ITEM),
    ({"items": [["copy", dict(_SQL, vm_uid=None, vm_display_name=None)]]}, _NOT_AN_ITEM),
    ({"items": [["backup", dict(_SQL, vm_uid=None, vm_display_name=None)], 7]}, _NOT_AN_ITEM),
    ({"window_start": None}, "no readable window start"),
    ({"read_through": _at(NIGHT1, hours=1)}, "after its own run"),
    ({"items": [{"items": 0}, _SQL_LINE], "trailer": {"items": 0}}, "goes on after its end"),
    ({"items": [_line_of(*_history(NIGHT1, 20, "sql01")),
                _line_of(*_history(NIGHT1, 21, "long01", state="InProgress", result="None"))]},
     "holds a running session before its covered end"),
    ({"items": [["backup", dict(_SQL, vm_uid=None, vm_display_name=None, state="Pending", end_time=None)]]},
     "holds a running session before its covered end"),
])
def test_a_foreign_or_broken_document(tmp_path, change, words):
    _write_night(tmp_path, NIGHT1, [_history(NIGHT1, 9, "sql01")])
    document = _load(tmp_path)
    document.update(change)
    _save(tmp_path, document)
    _assert_full(*(_warm(tmp_path, NIGHT2) + (words,)))


def test_a_cache_of_another_em(tmp_path):
    _write_night(tmp_path, NIGHT1, [_history(NIGHT1, 9, "sql01")])
    _assert_full(*(_warm(tmp_path, NIGHT2, base="https://em02.example.com:9398") + (
        "written for another EM (https://em01.example.com:9398, this run: https://em02.example.com:9398)",)))


def test_a_cache_of_another_user(tmp_path):
    _write_night(tmp_path, NIGHT1, [_history(NIGHT1, 9, "sql01")])
    _assert_full(*(_warm(tmp_path, NIGHT2, username="CORP\\other") + ("written for another EM account",)))


def test_a_cache_without_replicas_when_replicas_are_read(tmp_path):
    _write_night(tmp_path, NIGHT1, [_history(NIGHT1, 9, "sql01")], check_replicas=False)
    _assert_full(*(_warm(tmp_path, NIGHT2) + ("written for other kinds of sessions",)))


def test_a_cache_of_other_history_fields(tmp_path):
    _write_night(tmp_path, NIGHT1, [_history(NIGHT1, 9, "sql01")])
    document = _load(tmp_path)
    document["identity"]["fields"]["backup"].remove("job_name")
    _save(tmp_path, document)
    _assert_full(*(_warm(tmp_path, NIGHT2) + ("written for other history fields",)))


def test_a_cache_from_the_future(tmp_path):
    _write_night(tmp_path, _at(NIGHT2, hours=1), [_history(NIGHT1, 9, "sql01")])
    _assert_full(*(_warm(tmp_path, NIGHT2) + ("is from a run after this one",)))


def test_a_cache_reaching_into_the_window(tmp_path):
    """Without its window part, a cache that covers into this run's window (lookback_days grew) is a full read."""
    _write_night(tmp_path, NIGHT1, [_history(NIGHT1, 9, "sql01")], lookback_days=1, history_cache_window=False)
    _assert_full(*(_warm(tmp_path, NIGHT2) + ("into this run's window",)))


def test_a_cached_window_that_starts_after_this_runs_window(tmp_path):
    """lookback_days grew from 1 to 7: the cached full-detail window (from night 1 - 1 day) does not cover this
    run's window start (night 2 - 7 days): a full read, the reason names both starts and lookbacks."""
    _write_night(tmp_path, NIGHT1, [_history(NIGHT1, 9, "sql01")], lookback_days=1)
    _assert_full(*(_warm(tmp_path, NIGHT2) + (
        "holds the window from %s (lookback_days=1), after this run's window start %s (lookback_days=7)"
        % (_at(NIGHT1, days=-1), _at(NIGHT2, days=-7)),)))


@pytest.mark.parametrize("written, window", [(-24, False), (-31, True)])
def test_a_gap_before_this_runs_history(tmp_path, written, window):
    _write_night(tmp_path, _at(NIGHT2, days=written), [_history(NIGHT1, 29, "sql01")], history_cache_window=window,
                 history_full_read_days=60)
    _assert_full(*(_warm(tmp_path, NIGHT2, history_full_read_days=60) + ("before this run's history starts",)))


def test_a_full_read_every_history_full_read_days(tmp_path):
    _write_night(tmp_path, _at(NIGHT2, days=-3), [_history(NIGHT1, 9, "sql01")])
    cache, _fold_ = _warm(tmp_path, NIGHT2)
    assert cache.outcome["used"] is True
    cache.save(_fold_)
    assert _load(tmp_path)["full_read_at"] == _at(NIGHT2, days=-3)  # a warm run keeps the last full read's time
    _assert_full(*(_warm(tmp_path, NIGHT2, history_full_read_days=3) + ("history_full_read_days=3 ago",)))
    cache, fold = _warm(tmp_path, NIGHT2, history_full_read_days=0)
    assert cache.outcome["used"] is False
    cache.save(fold)
    assert _load(tmp_path)["full_read_at"] == NIGHT2


def test_no_account_name(tmp_path):
    _write_night(tmp_path, NIGHT1, [_history(NIGHT1, 9, "sql01")])
    params = _params(tmp_path, username=None)
    cache, fold = _plan(params, NIGHT2), _fold(NIGHT2)
    cache.begin(Client(user_name=None), fold)
    _assert_full(cache, fold, "the EM account is not known")


@pytest.mark.parametrize("change, words", [
    ({"history_cache": False}, "history_cache is false"),
    ({"report_dir": None}, "no report_dir"),
    ({"read_history": False}, "the history is not read"),
    ({"lookback_days": 30}, "the history is not read"),
])
def test_switched_off(tmp_path, change, words):
    cache = _plan(_params(tmp_path, **change), NIGHT2)
    assert cache.enabled is False and cache.outcome["used"] is False and words in cache.outcome["reason"]
    cache.save(_fold(NIGHT2))
    assert os.listdir(str(tmp_path)) == [] and cache.outcome["written"] is None


def test_check_mode_reads_and_does_not_write(tmp_path):
    _write_night(tmp_path, NIGHT1, [_history(NIGHT1, 9, "sql01")])
    before = open(_cache_file(tmp_path), "rb").read()
    params = _params(tmp_path)
    cache, fold = _plan(params, NIGHT2, check_mode=True), _fold(NIGHT2)
    cache.begin(Client(), fold)
    cache.save(fold)
    assert cache.outcome["used"] is True and cache.outcome["written"] is None
    assert open(_cache_file(tmp_path), "rb").read() == before


def test_a_cache_that_cannot_be_written_is_said_not_failed(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    cache = _write_night(target, NIGHT1, [_history(NIGHT1, 9, "sql01")])
    assert cache.outcome["written"] is None and "could not be written" in cache.outcome["write_error"]


@pytest.mark.parametrize("name, value", [("history_cache_overlap_hours", -1), ("history_full_read_days", -0.5),
                                         ("history_cache_overlap_hours", float("nan")),
                                         ("history_full_read_days", "soon")])
def test_bad_options_fail_before_any_request(name, value):
    with pytest.raises(em_compliance.ComplianceInputError) as error:
        reader.new_fold(dict(_params("/tmp"), **{name: value}), NIGHT2)
    assert "%s=%r" % (name, value) in str(error.value)


# ---- the reader: the delta's range, a failed read -------------------------------------------------------

class Info(object):
    def __init__(self, items):
        self.items = items

    def as_dict(self):
        return {"pages": 1, "requests": 1}


class FakeEM(object):
    """Serves ``sessions`` ([(kind, item)]) to the queries by their creation-time filter."""

    def __init__(self, sessions, fail_type=None):
        self.base, self.user_name, self.requests_sent = BASE, USER, 0
        self.sessions, self.fail_type, self.filters = sessions, fail_type, []
        self.servers = ["vbr01.example.com"]   # EM's backup server list (known_servers_from_em)

    def query(self, resource, filter_expr, sort, order, page_size, limit=None, concurrency=1, normalise=None):
        self.requests_sent += 1
        self.filters.append((resource.query_type, filter_expr))
        if resource.query_type == self.fail_type:
            raise EMError("HTTP 500: the database is not available")
        if resource.query_type == "Job":
            return [{"name": "Backup Job 1"}], Info(1)
        if resource.query_type == "BackupServer":  # a name, or (name, UID); EM's default UID as build_session's
            listed = [server if isinstance(server, tuple) else (server, "urn:veeam:BackupServer:%s" % server)
                      for server in self.servers]
            return [{"name": name, "uid": uid} for name, uid in listed], Info(len(listed))
        kind = {"BackupTaskSession": "backup", "ReplicaTaskSession": "replica", "BackupJobSession": "backup_job",
                "ReplicaJobSession": "replica_job"}.get(resource.query_type)
        after, before = _bounds(filter_expr)
        uids = _uids(filter_expr)
        keys = resource.output_keys()  # the fields asked for, as EM answers a projected query
        page = [dict((key, item.get(key)) for key in keys) for item_kind, item in self.sessions if item_kind == kind
                and (after is None or _em_created(item) >= after) and (before is None or _em_created(item) < before)
                and (uids is None or str(item.get("uid")).lower() in uids)]
        if normalise and page:
            normalise(page)
        return page, Info(len(page))


def _em_created(item):
    """The creation time EM filters on: ``_em_created`` for an item whose creation time we cannot read."""
    return em_time.parse_iso(item.get("_em_created") or item["creation_time"])


def _uids(filter_expr):
    """The UIDs a read by UID asks for (``UID=="..."`` clauses, OR'ed), lower case; None for another filter."""
    found = re.findall(r'(?<![A-Za-z])UID=="([^"]+)"', filter_expr or "")
    return set(uid.lower() for uid in found) if found else None


def _bounds(filter_expr):
    after = before = None
    for clause in (filter_expr or "").split(";"):
        for operator in (">=", "<"):
            if clause.startswith("CreationTime" + operator):
                moment = em_time.parse_iso(clause.split(operator, 1)[1].strip('"'))
                after, before = (moment, before) if operator == ">=" else (after, moment)
    return after, before


def _night(tmp_path, em, now, **extra):
    params = _params(tmp_path, **dict(dict(check_jobs=False, known_servers_from_em=False), **extra))
    start = em_compliance.window_start(now, params["lookback_days"])
    fold, cache = reader.new_fold(params, now), _plan(params, now)
    items, queries, error = reader.run_reads(em, reader.planned_reads(params), now, start, True, 1000, 1, fold, cache)
    return fold, items, queries, error, cache


def test_the_history_reads_start_where_the_cache_ends(tmp_path, monkeypatch):
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)
    em = FakeEM([_history(NIGHT1, 9, "sql01")])
    _night(tmp_path, em, NIGHT1, history_cache_window=False)
    em.filters = []
    _fold_, items, queries, error, cache = _night(tmp_path, em, NIGHT2, history_cache_window=False)
    assert error is None and cache.outcome["used"] is True
    assert items == {}  # the task sessions went into the fold, none kept as lists (the window's neither)
    read_from = _at(NIGHT1, days=-LOOKBACK, hours=-48)
    history = [flt for query_type, flt in em.filters if "CreationTime>=\"%s\"" % read_from in (flt or "")]
    assert len(history) == 2  # backups and replicas, from the cache's end minus the overlap
    assert (queries["backup_task_history"]["created_after"], queries["backup_task_history"]["created_before"]) \
        == (read_from, _at(NIGHT2, days=-LOOKBACK))


def test_a_failed_delta_read_writes_no_cache_and_judges_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)
    em = FakeEM([_history(NIGHT1, 9, "sql01")])
    _night(tmp_path, em, NIGHT1)
    before = open(_cache_file(tmp_path), "rb").read()
    em.fail_type = "ReplicaTaskSession"
    fold, _items, queries, error, cache = _night(tmp_path, em, NIGHT2)
    assert error is not None and queries["replica_task_sessions"]["failed"] is True
    assert cache.outcome["written"] is None and open(_cache_file(tmp_path), "rb").read() == before
    assert list(history_items(fold)) == []


# ---- warm == cold: nights of an EM whose past changes as sessions end and arrive late --------------------

def _month(seed, now, late_hours):
    """[(kind, item, finished_at, visible_at)] over 40 days before ``now``: VMs of two jobs, failures, sessions
    that run for days, VMs that stop, and sessions EM collects up to ``late_hours`` after their creation."""
    rng = random.Random(seed)
    sessions = []
    for vm in range(30):
        stop = rng.choice([None, None, 5, 12, 25, 33])
        for day in range(40, 0, -1):
            if stop is not None and day < stop or rng.random() < 0.15:
                continue
            created = em_time.parse_iso(now) - timedelta(days=day, minutes=rng.randint(0, 600))
            # a few run for days (still running at a window start: read_through stays before them), one for 12
            runs = timedelta(hours=300 if (vm, day) == (3, 20) else rng.choice([1, 1, 1, 1, 1, 30]))
            kind = em_compliance.KIND_REPLICA if vm % 7 == 0 else em_compliance.KIND_BACKUP
            item = build_session(vm="vm%02d" % vm, vm_uid=None if kind == "replica" else "urn:vm:%d" % vm,
                                 created=em_time.format_z(created), kind=kind, job="Job %d" % (vm % 3),
                                 result=rng.choice(["Success", "Success", "Warning", "Failed"]))
            sessions.append((kind, item, created + runs, created + timedelta(hours=rng.uniform(0, late_hours))))
    return sessions


def _as_em_shows(sessions, moment):
    """The sessions as EM answers at ``moment``: those collected by then, running or finished."""
    shown = []
    for kind, item, finished, visible in sessions:
        if visible > moment:
            continue
        if finished > moment:
            state = "Working" if kind.endswith("_job") else "InProgress"
            item = dict(item, state=state, result="None", end_time=None)
        shown.append((kind, item))
    return shown


def _judged(tmp_path, sessions, now, **extra):
    em = FakeEM(_as_em_shows(sessions, em_time.parse_iso(now)))
    fold, items, _queries, error, cache = _night(tmp_path, em, now, **extra)
    assert error is None
    params = _params(tmp_path, **dict(dict(check_jobs=False, known_servers_from_em=False), **extra))
    return json.loads(json.dumps(reader.judge_read(params, fold, items, []))), cache, em.requests_sent


@pytest.mark.parametrize("seed, lookback", [(0, 1), (1, 1), (2, 7), (3, 2)])
def test_warm_nights_equal_cold_nights(tmp_path, monkeypatch, seed, lookback):
    """Sessions that end days after they start (running at a window start) and sessions EM collects up to 40 h
    after their creation (within the 48 h overlap; with a 1-day window they arrive after the night that would
    have read them): every warm night's verdicts are the cold read's."""
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)
    first = "2025-06-01T06:00:00Z"
    sessions = _month(seed, _at(first, days=8), late_hours=40)
    _judged(tmp_path / "warm", sessions, first, lookback_days=lookback)
    for night in range(1, 8):
        now = _at(first, days=night)
        warm, cache, _requests = _judged(tmp_path / "warm", sessions, now, lookback_days=lookback)
        cold, _cache, _requests = _judged(tmp_path / "cold", sessions, now, history_cache=False,
                                          lookback_days=lookback)
        assert cache.outcome["used"] is (night < 7), cache.outcome["reason"]  # the 7th night is a full read
        assert warm == cold
        assert cold["summary"]["vms_total"] >= 20 and cold["violations"]


def test_a_session_collected_later_than_the_overlap_waits_for_the_full_read(tmp_path, monkeypatch):
    """The documented bound, not a wish: a session created 12 days before the first night and collected by EM
    1.5 days after it is older than what the warm nights read again (from the last window start minus 48 h),
    so the warm night 2 misses it (a cold read sees it) and the full read of night 3 finds it."""
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)
    first = "2025-06-01T06:00:00Z"
    late = build_session(vm="late01", vm_uid="urn:vm:late", created=_at(first, days=-12))
    sql = build_session(vm="sql01", vm_uid="urn:vm:sql", created=_at(first, days=-9))
    sessions = [(em_compliance.KIND_BACKUP, late, em_time.parse_iso(_at(first, days=-12, hours=1)),
                 em_time.parse_iso(_at(first, days=1, hours=12))),
                (em_compliance.KIND_BACKUP, sql, em_time.parse_iso(_at(first, days=-9, hours=1)),
                 em_time.parse_iso(_at(first, days=-9)))]
    _judged(tmp_path / "warm", sessions, first, history_full_read_days=3)
    warm_names, cold_names, used = [], [], []
    for night in (1, 2, 3):
        now = _at(first, days=night)
        warm, cache, _requests = _judged(tmp_path / "warm", sessions, now, history_full_read_days=3)
        cold, _cache, _requests = _judged(tmp_path / "cold", sessions, now, history_cache=False)
        warm_names.append(sorted(row["vm_display_name"] for row in warm["vms"]))
        cold_names.append(sorted(row["vm_display_name"] for row in cold["vms"]))
        used.append(cache.outcome["used"])
    assert used == [True, True, False]
    assert cold_names == [["sql01"], ["late01", "sql01"], ["late01", "sql01"]]
    assert warm_names == [["sql01"], ["sql01"], ["late01", "sql01"]]


# ---- the job part: job sessions from job_read_from, the rest from the cache ---------------------------------

_RANK = {"Success": 0, "Warning": 1, "Failed": 2}


def _job_session(kind, job, job_type, created, ended, result, uid):
    item = {"uid": uid, "name": "%s@%s" % (job, em_time.format_z(created)), "job_uid": "urn:veeam:Job:" + job,
            "job_id": job, "job_name": job, "job_type": job_type, "backup_server_name": "vbr01.example.com",
            "creation_time": em_time.format_z(created), "end_time": em_time.format_z(ended), "state": "Stopped",
            "result": result, "is_retry": False}
    return kind + "_job", item


def _with_job_sessions(sessions, now):
    """``sessions`` plus their job sessions: one per (kind, job, day), created 5 minutes before its first task,
    ending 5 minutes after its last, collected with its first task; each task names it (job_session_uid).
    Plus a backup copy job (BackupSync) whose one session opened 12 days before ``now`` and runs for 8 days, with
    task sessions of three VMs every day of it (a copy's success is no backup: they stay violations only when
    its type is known), and a job whose only session is 35 days old (before every night's history)."""
    groups = {}
    for entry in sessions:
        kind, item = entry[0], entry[1]
        groups.setdefault((kind, item["job_name"], item["creation_time"][:10]), []).append(entry)
    jobs = []
    for number, ((kind, job, _day), entries) in enumerate(sorted(groups.items())):
        created = min(_em_created(item) for _kind, item, _finished, _visible in entries) - timedelta(minutes=5)
        ended = max(finished for _kind, _item, finished, _visible in entries) + timedelta(minutes=5)
        result = max((item["result"] for _kind, item, _f, _v in entries), key=lambda value: _RANK.get(value, 0))
        uid = "urn:veeam:%sJobSession:%08d" % (kind.capitalize(), number)
        job_kind, job_item = _job_session(kind, job, "Replica" if kind == "replica" else "Backup", created, ended,
                                          result, uid)
        for _kind, item, _finished, _visible in entries:
            item["job_session_uid"] = uid
        jobs.append((job_kind, job_item, ended, min(visible for _k, _i, _f, visible in entries)))
    opened = em_time.parse_iso(now) - timedelta(days=12)
    kind, copy = _job_session("backup", "Copy 1", "BackupSync", opened, opened + timedelta(days=8), "Success",
                              "urn:veeam:BackupJobSession:copy")
    jobs.append((kind, copy, opened + timedelta(days=8), opened))
    for day in range(8):
        for vm in (1, 2, 3):
            created = opened + timedelta(days=day, hours=vm)
            task = build_session(vm="copy%d" % vm, vm_uid="urn:vm:copy%d" % vm, created=em_time.format_z(created),
                                 job="Copy 1", job_session_uid=copy["uid"])
            jobs.append((em_compliance.KIND_BACKUP, task, created + timedelta(hours=1), created))
    old = em_time.parse_iso(now) - timedelta(days=35)
    jobs.append(_job_session("backup", "Retired", "Backup", old, old + timedelta(hours=1), "Failed",
                             "urn:veeam:BackupJobSession:old") + (old + timedelta(hours=1), old))
    for day in range(1, 12):  # task sessions of the old job's session: once it leaves the history, not a backup
        created = em_time.parse_iso(now) - timedelta(days=day, hours=2)
        task = build_session(vm="orphan01", vm_uid="urn:vm:orphan01", created=em_time.format_z(created),
                             job="Retired", job_session_uid="urn:veeam:BackupJobSession:old")
        jobs.append((em_compliance.KIND_BACKUP, task, created + timedelta(hours=1), created))
    return sessions + jobs


def _job_filters(em):
    return [flt for query_type, flt in em.filters if query_type in ("BackupJobSession", "ReplicaJobSession")]


@pytest.mark.parametrize("seed, lookback", [(20, 7), (21, 2), (22, 3)])
def test_warm_nights_with_the_job_part_equal_cold_nights(tmp_path, monkeypatch, seed, lookback):
    """Job sessions read with the task sessions (check_jobs): a warm night reads them from EM only from the
    previous night's job_read_through minus the overlap (not from the history start), takes the rest from the
    cache (the window's whole, the older ones' types), and judges as a cold read does - the jobs, the copy job's
    task sessions (typed by a job session opened before the window, running across nights: it bounds what the
    job part covers) and the VMs. Sessions arrive up to 40 h late."""
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)
    first = "2025-06-01T06:00:00Z"
    last = _at(first, days=9)
    sessions = _with_job_sessions(_month(seed, last, late_hours=40), last)
    extra = dict(check_jobs=True, lookback_days=lookback, history_full_read_days=30)
    _judged_night(tmp_path / "warm", sessions, first, **extra)
    seen = set()
    for night in range(1, 9):
        now = _at(first, days=night)
        previous = _header(tmp_path / "warm")
        warm, cache, em, queries = _judged_night(tmp_path / "warm", sessions, now, **extra)
        cold, _cache, cold_em, cold_queries = _judged_night(tmp_path / "cold", sessions, now,
                                                            **dict(extra, history_cache=False))
        assert warm == cold, (night, cache.outcome)
        assert cold["jobs"] and cold["summary"]["vms_total"] >= 20
        assert previous["jobs_cached"] is True and cache.outcome["jobs_cached"] is True
        job_from = max(em_time.parse_iso(now) - timedelta(days=30),
                       em_time.parse_iso(previous["job_read_through"]) - timedelta(hours=48))
        assert cache.outcome["job_read_from"] == em_time.format_z(job_from)
        assert _job_filters(em) and all('CreationTime>="%s"' % em_time.format_z(job_from) in flt
                                        for flt in _job_filters(em))
        for key in ("backup_job_sessions", "replica_job_sessions"):
            assert queries[key]["created_after"] == em_time.format_z(job_from)
            assert queries[key]["items"] < cold_queries[key]["items"]
        (opened, ends), = [(_em_created(item), finished) for _kind, item, finished, _visible in sessions
                           if item["uid"] == "urn:veeam:BackupJobSession:copy"]
        through = em_time.parse_iso(_header(tmp_path / "warm")["job_read_through"])
        window_start = em_time.parse_iso(now) - timedelta(days=lookback)
        if opened >= window_start and ends > em_time.parse_iso(now):
            # a window job session still running: the job part covers nothing from it on
            assert through == opened
            seen.add("open copy session in the window")
        elif ends > em_time.parse_iso(now):
            assert through > opened  # before the window only its type is kept: it bounds nothing
            seen.add("open copy session before the window")
        copy_rows = [row for row in cold["vms"] if row["vm_display_name"].startswith("copy")]
        assert copy_rows and all(row["status"] != "compliant" for row in copy_rows)  # a copy is no backup
        orphan, = [row for row in cold["vms"] if row["vm_display_name"] == "orphan01"]
        retired_seen = em_time.parse_iso(now) - timedelta(days=30) <= em_time.parse_iso(last) - timedelta(days=35)
        assert (orphan["status"] == "compliant") is retired_seen, orphan  # its job unseen: not a backup
        seen.add("retired job seen" if retired_seen else "retired job gone")
    assert seen == {"retired job seen", "retired job gone",
                    "open copy session in the window" if lookback == 7 else "open copy session before the window"}


# ---- the window cached too: last night's window is tonight's history, tonight reads [read_from, now) ------

_POLICIES = [{}, {"exclude_vms": ["vm0*"]}, {"include_jobs": ["Job 1", "Job 2"]}, {"exclude_servers": ["vbr02*"]},
             {"include_vms": ["vm1*", "vm2*"], "exclude_jobs": ["Job 0"]}]


def _with_odd_ones(sessions, now):
    """``sessions`` plus items that cannot be placed in time: one without a VM identity 17 days before ``now``
    (in the first night's window, then history) and 3 days before it (in the windows of the last nights), and
    one whose creation time cannot be read (EM filters it by its real time, ``_em_created``) 3 days before it.
    (One of those in the history leaves the cache unwritten: its own test,
    test_a_history_item_without_a_readable_creation_time_leaves_the_cache_unwritten.)"""
    odd = []
    for day in (17, 3):
        created = em_time.parse_iso(now) - timedelta(days=day, hours=3)
        novm = build_session(vm=None, created=em_time.format_z(created), job="Job 1")
        odd.append((em_compliance.KIND_BACKUP, novm, created + timedelta(hours=1), created))
        if day == 3:
            badtime = build_session(vm="vm05", vm_uid="urn:vm:5", created=em_time.format_z(created), job="Job 2")
            badtime.update(creation_time="not a time", _em_created=em_time.format_z(created))
            odd.append((em_compliance.KIND_BACKUP, badtime, created + timedelta(hours=1), created))
    return sessions + odd


def _header(tmp_path):
    with gzip.open(os.path.join(str(tmp_path), "compliance.history-cache.json.gz"), "rt", encoding="utf-8") as stream:
        return json.loads(stream.readline())


def _judged_night(tmp_path, sessions, now, **extra):
    em = FakeEM(_as_em_shows(sessions, em_time.parse_iso(now)))
    fold, items, queries, error, cache = _night(tmp_path, em, now, **extra)
    assert error is None
    verdicts = reader.judge_read(_params(tmp_path, **extra), fold, items, [])
    return json.loads(json.dumps(verdicts)), cache, em, queries


def _window_filters(em):
    return [flt for query_type, flt in em.filters if query_type in ("BackupTaskSession", "ReplicaTaskSession")]


def _expected_ranges(previous, now, lookback, window_option):
    """(history read_from, window read_from) a warm night must read, from the previous night's header."""
    now_time = em_time.parse_iso(now)
    window_start, history_start = now_time - timedelta(days=lookback), now_time - timedelta(days=30)
    read_from = max(history_start, em_time.parse_iso(previous["read_through"]) - timedelta(hours=48))
    window_from = max(window_start, read_from) if window_option and previous["window_cached"] else window_start
    return read_from, window_from, window_start


@pytest.mark.parametrize("seed, window", [(10, True), (11, True), (12, True), (13, True), (14, False)])
def test_warm_nights_with_the_window_cached_equal_cold_nights(tmp_path, monkeypatch, seed, window):
    """Random month-long EMs over 10 nights: sessions running across nights, sessions EM collects up to 40 h late
    (within the 48 h overlap), another include/exclude policy every night, lookback_days changing (growing: a full
    read, said), window items that cannot be placed in time (the next night reads the whole window). Every warm
    night's verdicts are the cold read's; a warm night reads from EM only [read_from, now): the window from
    max(window start, read_from), the history only when read_from is before the window start (else not sent)."""
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)
    rng = random.Random(seed)
    first = "2025-06-01T06:00:00Z"
    sessions = _with_odd_ones(_month(seed, _at(first, days=11), late_hours=40), _at(first, days=11))
    for day, hours in ((3, 100), (5.5, 60)):  # window sessions running longer than the overlap, across nights
        created = em_time.parse_iso(_at(first, days=day))
        long_run = build_session(vm="long%02d" % hours, vm_uid="urn:vm:long%d" % hours,
                                 created=em_time.format_z(created))
        sessions.append((em_compliance.KIND_BACKUP, long_run, created + timedelta(hours=hours), created))
    for kind, item, _finished, _visible in sessions[::9]:  # a second backup server for the server patterns
        item["backup_server_name"], item["backup_server_uid"] = "vbr02.example.com", "urn:veeam:BackupServer:vbr02"
    lookbacks = [7, 7, 7, 3, 3, 7, 7, 2, 7, 7, 7]
    previous_cache = _judged_night(tmp_path / "warm", sessions, first, lookback_days=lookbacks[0],
                                   history_cache_window=window)[1]
    kinds_seen = set()
    for night in range(1, 11):
        now, lookback, policy = _at(first, days=night), lookbacks[night], rng.choice(_POLICIES)
        previous = _header(tmp_path / "warm")
        extra = dict(policy, lookback_days=lookback, history_cache_window=window, history_full_read_days=30)
        warm, cache, em, queries = _judged_night(tmp_path / "warm", sessions, now, **extra)
        cold, _cache, cold_em, _queries = _judged_night(tmp_path / "cold", sessions, now,
                                                        **dict(extra, history_cache=False))
        assert warm == cold, (night, policy, cache.outcome)
        assert cold["summary"]["vms_total"] >= 10 and cold["violations"]
        grew = lookback > lookbacks[night - 1]
        covered_into = em_time.parse_iso(previous["read_through"]) > em_time.parse_iso(now) - timedelta(days=lookback)
        full = grew and (previous["window_cached"] or covered_into)
        assert cache.outcome["used"] is not full, cache.outcome["reason"]
        previous_outcome, previous_cache = previous_cache.outcome, cache
        odd_in_window = any(visible <= em_time.parse_iso(now) and _em_created(item) >= em_time.parse_iso(now) -
                            timedelta(days=lookback) for _kind, item, _finished, visible in sessions
                            if item["vm_display_name"] is None or "_em_created" in item)
        assert cache.outcome["window_cached"] is (window and not odd_in_window)
        if full:
            assert ("after this run's window start" if previous["window_cached"] else "into this run's window") \
                in cache.outcome["reason"]
            assert cache.outcome["window_read_from"] == _at(now, days=-lookback) and cache.outcome["history_read"]
            kinds_seen.add("lookback grew")
            continue
        read_from, window_from, window_start = _expected_ranges(previous, now, lookback, window)
        assert cache.outcome["window_read_from"] == em_time.format_z(window_from)
        assert all('CreationTime>="%s"' % em_time.format_z(window_from) in flt for flt in _window_filters(em)[:2])
        history_sent = _window_filters(em)[2:]
        if read_from < window_start:
            assert len(history_sent) == 2 and cache.outcome["history_read"] is True
            assert all('CreationTime>="%s"' % em_time.format_z(read_from) in flt for flt in history_sent)
            kinds_seen.add("history read")
        else:
            assert history_sent == [] and cache.outcome["history_read"] is False
            assert queries["backup_task_history"]["skipped"] == "the history cache holds it"
            assert queries["replica_task_history"]["skipped"] == "the history cache holds it"
            assert em.requests_sent < cold_em.requests_sent
            kinds_seen.add("history skipped")
        if window_from > window_start:
            kinds_seen.add("window cached")
            assert cache.outcome["window_items_kept"] > 0
        if not previous["window_cached"] and window:
            kinds_seen.add("whole window after set-aside")
            assert "could not be placed in time" in previous_outcome["window_reason"]
            assert window_from == window_start
    if window:
        assert kinds_seen == {"lookback grew", "history read", "history skipped", "window cached",
                              "whole window after set-aside"}
    else:
        assert "window cached" not in kinds_seen and "history skipped" not in kinds_seen


def test_the_window_cache_is_written_from_the_fold_with_every_window_session(tmp_path):
    """Every window session created before read_through is written (excluded by the patterns too, as policy is
    applied when folded), none from read_through on; a running one bounds read_through."""
    now = NIGHT1
    params = _params(tmp_path, exclude_vms=["web*"])
    cache, fold = _plan(params, now), reader.new_fold(params, now)
    cache.watch(fold)
    cache.begin(Client(), fold)
    window = [build_session(vm="sql01", vm_uid="urn:vm:sql01", created=_at(now, days=-3)),
              build_session(vm="web01", vm_uid="urn:vm:web01", created=_at(now, days=-2)),
              build_session(vm="long01", vm_uid="urn:vm:long01", created=_at(now, days=-1), state="InProgress",
                            result="None"),
              build_session(vm="sql01", vm_uid="urn:vm:sql01", created=_at(now, hours=-2))]
    fold.add(window, em_compliance.KIND_BACKUP)
    cache.save(fold)
    document = _load(tmp_path)
    assert document["window_cached"] is True and document["read_through"] == _at(now, days=-1)
    assert all(len(line) == 6 and line[5] == "window" for line in document["items"])
    items = [dict(zip(history_cache.RECORD_KEYS, line[1])) for line in document["items"]]
    assert sorted(item["vm_display_name"] for item in items) == ["sql01", "web01"]
    written = dict((item["uid"], item) for item in items)
    assert written[window[0]["uid"]]["reason"] == window[0]["reason"]
    assert written[window[0]["uid"]]["job_session_uid"] == window[0]["job_session_uid"]
    assert cache.outcome["window_cached"] is True


def test_a_window_item_set_aside_keeps_the_window_out_of_the_cache(tmp_path):
    """An item without a VM identity cannot be placed: the window part is not written, read_through is the window
    start, the outcome says so, and the next night reads the whole window from EM."""
    params = _params(tmp_path)
    cache, fold = _plan(params, NIGHT1), reader.new_fold(params, NIGHT1)
    cache.watch(fold)
    cache.begin(Client(), fold)
    fold.add([build_session(vm="sql01", vm_uid="urn:vm:sql01", created=_at(NIGHT1, days=-3)),
              build_session(vm=None, created=_at(NIGHT1, days=-2))], em_compliance.KIND_BACKUP)
    cache.save(fold)
    document = _load(tmp_path)
    assert document["window_cached"] is False and document["read_through"] == _at(NIGHT1, days=-LOOKBACK)
    assert all(len(entry) == 5 for entry in document["items"])  # history lines only
    assert "1 window session(s) could not be placed in time" in cache.outcome["window_reason"]
    warm, _fold_ = _warm(tmp_path, NIGHT2)
    assert warm.outcome["used"] is True and warm.outcome["window_read_from"] == _at(NIGHT2, days=-LOOKBACK)


def test_a_history_item_without_a_readable_creation_time_leaves_the_cache_unwritten(tmp_path):
    """No cache can keep it (it cannot be placed in time), and a warm night would not read it again: its
    unreadable_sessions finding would be gone. So nothing is written (said in ``not_written``), the next night
    reads the whole history and names it again."""
    params = _params(tmp_path)
    cache, fold = _plan(params, NIGHT1), reader.new_fold(params, NIGHT1)
    cache.watch(fold)
    cache.begin(Client(), fold)
    fold.add([build_session(vm="sql01", vm_uid="urn:vm:sql01", created=_at(NIGHT1, days=-3))], em_compliance.KIND_BACKUP)
    fold.add_history([dict(_history(NIGHT1, 12, "db02")[1], creation_time="/Date(1747702800000)/")],
                     em_compliance.KIND_BACKUP)
    cache.save(fold)
    assert not os.path.exists(_cache_file(tmp_path)) and cache.outcome["written"] is None
    assert cache.outcome["not_written"].startswith("1 history session(s) have no readable creation time")
    assert [item.get("vm_display_name") for item in fold.unreadable] == ["db02"]


def test_history_cache_window_false_writes_no_window_and_reads_it_whole(tmp_path):
    _write_night(tmp_path, NIGHT1, [_history(NIGHT1, 9, "sql01")], history_cache_window=False)
    document = _load(tmp_path)
    assert document["window_cached"] is False and document["read_through"] == _at(NIGHT1, days=-LOOKBACK)
    cache, _fold_ = _warm(tmp_path, NIGHT2, history_cache_window=False)
    assert cache.outcome["window_read_from"] == _at(NIGHT2, days=-LOOKBACK)
    assert "history_cache_window is false" in cache.outcome["window_reason"]


def test_a_cached_window_read_without_the_window_option_becomes_history_only(tmp_path):
    """A cache with its window part, read by a run with history_cache_window false: the cached window sessions
    before this run's window start are history (without the window-only fields), the window is read whole."""
    fold1_params = _params(tmp_path)
    cache, fold = _plan(fold1_params, NIGHT1), reader.new_fold(fold1_params, NIGHT1)
    cache.watch(fold)
    cache.begin(Client(), fold)
    fold.add([build_session(vm="sql01", vm_uid="urn:vm:sql01", created=_at(NIGHT1, days=-6, hours=-12)),
              build_session(vm="web01", vm_uid="urn:vm:web01", created=_at(NIGHT1, days=-1))],
             em_compliance.KIND_BACKUP)
    cache.save(fold)
    cache, fold = _warm(tmp_path, NIGHT2, history_cache_window=False)
    assert cache.outcome["used"] is True and cache.outcome["history_read"] is False
    assert cache.outcome["window_read_from"] == _at(NIGHT2, days=-LOOKBACK)
    assert (cache.outcome["window_items_loaded"], cache.outcome["window_items_kept"]) == (2, 0)
    history = [session for _kind, session in history_items(fold)]
    assert [session["vm_display_name"] for session in history] == ["sql01"]
    assert history[0]["reason"] is None and history[0]["job_session_uid"] is None  # as a cold history read gives


def test_a_warm_night_skips_the_history_queries_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)
    # the server's newest session (web01's) is 3 days old: a quiet server holds the cache back to its last sign
    # of life plus the overlap (_quiet_through), so night 2 reads from that session's end - still no history query
    em = FakeEM([_history(NIGHT1, 9, "sql01"), _history(NIGHT1, 3, "web01")])
    _night(tmp_path, em, NIGHT1)
    em.filters, em.requests_sent = [], 0
    _fold_, _items, queries, error, cache = _night(tmp_path, em, NIGHT2)
    last_sign = "2025-06-01T06:10:00Z"   # web01's session ended (build_session: ten minutes after its creation)
    assert error is None and cache.outcome["history_read"] is False
    assert (cache.outcome["read_from"], cache.outcome["read_to"]) == (None, None)
    assert queries["backup_task_history"] == {"type": "BackupTaskSession", "skipped": "the history cache holds it",
                                              "requests": 0, "cache_read_from": last_sign,
                                              "window_start": _at(NIGHT2, days=-LOOKBACK)}
    assert "items" not in queries["replica_task_history"]  # never an empty answer
    assert [query_type for query_type, _flt in em.filters] == ["Job", "BackupTaskSession", "ReplicaTaskSession"]
    assert all('CreationTime>="%s"' % last_sign in flt for _type, flt in em.filters[1:])
    assert queries["backup_task_sessions"]["created_after"] == last_sign
    assert (cache.outcome["window_items_loaded"], cache.outcome["window_items_kept"]) == (1, 1)


def test_a_window_session_collected_later_than_the_overlap_waits_for_the_full_read(tmp_path, monkeypatch):
    """The trade of history_cache_window, documented, not a wish: a session created 3 days before the first night
    (inside the window) and collected by EM 1.5 days after it is older than what night 2 reads again (from night 1
    minus 48 h), so the warm night 2 misses it (a cold read sees it) and the full read of night 3 finds it. With
    history_cache_window false night 2 reads the whole window and sees it."""
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)
    first = "2025-06-01T06:00:00Z"
    late = build_session(vm="late01", vm_uid="urn:vm:late", created=_at(first, days=-3))
    sql = build_session(vm="sql01", vm_uid="urn:vm:sql", created=_at(first, days=-1))
    sessions = [(em_compliance.KIND_BACKUP, late, em_time.parse_iso(_at(first, days=-3, hours=1)),
                 em_time.parse_iso(_at(first, days=1, hours=12))),
                (em_compliance.KIND_BACKUP, sql, em_time.parse_iso(_at(first, days=-1, hours=1)),
                 em_time.parse_iso(_at(first, days=-1)))]
    for window, expected in ((True, [["sql01"], ["sql01"], ["late01", "sql01"]]),
                             (False, [["sql01"], ["late01", "sql01"], ["late01", "sql01"]])):
        directory = tmp_path / str(window)
        _judged(directory, sessions, first, history_full_read_days=3, history_cache_window=window)
        warm_names, used = [], []
        for night in (1, 2, 3):
            now = _at(first, days=night)
            warm, cache, _requests = _judged(directory, sessions, now, history_full_read_days=3,
                                             history_cache_window=window)
            cold, _cache, _requests = _judged(tmp_path / "cold", sessions, now, history_cache=False)
            warm_names.append(sorted(row["vm_display_name"] for row in warm["vms"]))
            assert sorted(row["vm_display_name"] for row in cold["vms"]) == (
                ["sql01"] if night == 1 else ["late01", "sql01"])
            used.append(cache.outcome["used"])
        assert used == [True, True, False]
        assert warm_names == expected, window


def _vbr(now, hours_back, vm, server, collected_hours=None, **keys):
    """A finished backup session on ``server`` created ``hours_back`` before ``now``; EM shows it from its end, or
    from ``collected_hours`` after ``now`` (collected late), as _as_em_shows takes it."""
    item = build_session(vm=vm, vm_uid="urn:vm:" + vm, created=_at(now, hours=-hours_back), server=server, **keys)
    end = em_time.parse_iso(item["end_time"])
    visible = end if collected_hours is None else em_time.parse_iso(_at(now, hours=collected_hours))
    return em_compliance.KIND_BACKUP, item, end, visible


def _vm_row(result, name):
    return next(row for row in result["vms"] if row["vm_display_name"] == name)


def test_a_quiet_backup_server_holds_the_cache_back_to_its_last_sign_of_life(tmp_path, monkeypatch):
    """A backup server EM cannot reach is quiet in EM; when EM reaches it again its sessions come with their past
    creation times (em-api-facts 6, [INF]). vbr02's last session ended 60 h before night 1, more than the 48 h
    overlap: night 1's cache covers only up to that end plus 48 h, so night 2 reads again from that end and finds
    the Failed session created 50 h before night 1 that EM collected 12 h after night 1 - the cold read's verdict.
    Before this bound night 2 read from night 1 minus 48 h and its row of app01 counted no failure (a better
    verdict than EM's data gives). vbr01, active, bounds nothing."""
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)
    sessions = [_vbr(NIGHT1, hours, "web01", "vbr01.example.com") for hours in (2, 26, 50)] + [
        _vbr(NIGHT1, 60 + 1.0 / 6, "app01", "vbr02.example.com"),                        # ends 60 h before night 1
        _vbr(NIGHT1, 50, "app01", "vbr02.example.com", collected_hours=12, result="Failed"),
        _vbr(NIGHT2, 1, "app01", "vbr02.example.com")]                                   # vbr02 is back
    _first, cache, _requests = _judged(tmp_path / "warm", sessions, NIGHT1)
    last_sign = _at(NIGHT1, hours=-60)
    assert "backup server vbr02.example.com has no session since %s" % last_sign in cache.outcome["quiet_server"]
    assert _load(tmp_path / "warm")["read_through"] == _at(NIGHT1, hours=-12)    # its last sign of life + 48 h
    warm, cache, _requests = _judged(tmp_path / "warm", sessions, NIGHT2)
    cold, _cache, _requests = _judged(tmp_path / "cold", sessions, NIGHT2, history_cache=False)
    assert cache.outcome["used"] is True and cache.outcome["window_read_from"] == last_sign
    assert _vm_row(cold, "app01")["backup"]["failed"] == 1
    assert warm == cold


def test_active_backup_servers_leave_the_cache_where_it_was(tmp_path, monkeypatch):
    """Every server's last sign of life within the overlap: the cache covers up to now, no quiet_server said."""
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)
    sessions = [_vbr(NIGHT1, 2, "web01", "vbr01.example.com"), _vbr(NIGHT1, 47, "app01", "vbr02.example.com")]
    _first, cache, _requests = _judged(tmp_path, sessions, NIGHT1)
    assert "quiet_server" not in cache.outcome
    assert _load(tmp_path)["read_through"] == NIGHT1


def _listing_night(tmp_path, em, now, **extra):
    return _night(tmp_path, em, now, known_servers_from_em=True, **extra)


def test_a_backup_server_new_to_em_is_a_full_read(tmp_path, monkeypatch):
    """A backup server added to EM (or one EM reaches again after it forgot it) comes with its past sessions,
    collected now with their past creation times [INF]: a warm night reading only the delta would miss its VMs'
    older sessions. EM's list is read before the cache is judged; a server the cache's run did not list is a
    full read, said - and the cache it writes names tonight's list, so the night after is warm again."""
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)
    em = FakeEM([_history(NIGHT1, 9, "sql01"), _history(NIGHT1, 1, "web01")])
    _listing_night(tmp_path, em, NIGHT1)
    assert _load(tmp_path)["servers_listed"] == ["vbr01.example.com"]
    em.servers = ["VBR01.example.com", "vbr-new.example.com"]   # names compare without case
    em.filters = []
    _fold_, _items, queries, error, cache = _listing_night(tmp_path, em, NIGHT2)
    assert error is None and cache.outcome["used"] is False
    assert "EM lists backup server(s) the history cache" in cache.outcome["reason"]
    assert "(vbr-new.example.com): EM may have just collected their past sessions" in cache.outcome["reason"]
    assert [query_type for query_type, _flt in em.filters][:2] == ["Job", "BackupServer"]  # the list before the cache
    assert queries["backup_servers"]["items"] == 2
    assert queries["backup_task_history"]["created_after"] == _at(NIGHT2, days=-30)
    assert _load(tmp_path)["servers_listed"] == ["vbr-new.example.com", "vbr01.example.com"]
    _fold_, _items, _queries, error, cache = _listing_night(tmp_path, em, _at(NIGHT2, days=1))
    assert error is None and cache.outcome["used"] is True, cache.outcome["reason"]


def test_the_same_servers_or_fewer_keep_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)
    em = FakeEM([_history(NIGHT1, 9, "sql01"), _history(NIGHT1, 1, "web01")])
    em.servers = ["vbr01.example.com", "vbr02.example.com"]
    _listing_night(tmp_path, em, NIGHT1)
    em.servers = ["vbr01.example.com"]   # one removed from EM: nothing new to read
    _fold_, _items, _queries, error, cache = _listing_night(tmp_path, em, NIGHT2)
    assert error is None and cache.outcome["used"] is True, cache.outcome["reason"]


@pytest.mark.parametrize("first_listed, second_listed, used", [(False, True, False), (True, False, True)])
def test_a_cache_without_em_s_server_list_is_a_full_read_when_the_list_is_read(
        tmp_path, monkeypatch, first_listed, second_listed, used):
    """Written with known_servers_from_em false, the cache names no list: a night that reads EM's list cannot
    tell a new server, so it reads the whole history (said); a night that does not read the list does not check."""
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)
    em = FakeEM([_history(NIGHT1, 9, "sql01"), _history(NIGHT1, 1, "web01")])
    _night(tmp_path, em, NIGHT1, known_servers_from_em=first_listed)
    _fold_, _items, _queries, error, cache = _night(tmp_path, em, NIGHT2, known_servers_from_em=second_listed)
    assert error is None and cache.outcome["used"] is used, cache.outcome["reason"]
    if not used:
        assert "does not name the backup servers EM listed, by name and UID (known_servers_from_em)" in cache.outcome["reason"]


def test_a_failed_server_list_is_the_run_s_error_before_the_cache_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)
    em = FakeEM([_history(NIGHT1, 9, "sql01")], fail_type="BackupServer")
    _fold_, _items, queries, error, cache = _listing_night(tmp_path, em, NIGHT1)
    assert "HTTP 500" in str(error) and queries["backup_servers"] == {"type": "BackupServer", "failed": True}
    assert [query_type for query_type, _flt in em.filters] == ["Job", "BackupServer"]
    assert cache.outcome["written"] is None and not os.path.exists(_cache_file(tmp_path))


# ---- written by a child process (write_beside: the module's, issue 18) -----------------------------------------

def _night_beside(directory, write_beside, monkeypatch=None, below=None, sessions_read=None):
    """NIGHT1's cache of ``sessions_read`` (_sessions_beside) saved with or without a child process writing it;
    (cache, fold)."""
    history, window = sessions_read or _sessions_beside()
    if below is not None:
        monkeypatch.setattr(history_cache, "WRITE_BESIDE_BELOW_VMS", below)
    params = _params(directory)
    start = em_compliance.window_start(NIGHT1, LOOKBACK)
    cache = reader.history_plan(params, NIGHT1, start, write_beside=write_beside)
    fold = _fold(NIGHT1)
    cache.watch(fold)
    cache.begin(Client(), fold)
    for kind, item in history:
        fold.add_history([item], kind)
    fold.add(window, em_compliance.KIND_BACKUP)
    cache.save(fold)
    return cache, fold


def _sessions_beside():
    return _odd_history(), [build_session(vm="sql01", vm_uid="urn:vm:sql01", created=_at(NIGHT1, hours=-3))]


def test_a_cache_written_beside_is_the_one_written_in_process(tmp_path):
    inline_dir, beside_dir = tmp_path / "inline", tmp_path / "beside"
    sessions_read = _sessions_beside()
    inline, _fold_inline = _night_beside(inline_dir, False, sessions_read=sessions_read)
    beside, fold = _night_beside(beside_dir, True, sessions_read=sessions_read)
    assert beside.outcome["written"] is None  # not said before the child is joined
    em_compliance.evaluate_fold(fold)  # the parent consumes its fold while the child writes from its own copy
    beside.wait()
    assert json.dumps(beside.outcome).replace(str(beside_dir), "DIR") == \
        json.dumps(inline.outcome).replace(str(inline_dir), "DIR")
    assert beside.outcome["written"] == _cache_file(beside_dir)
    assert _load(beside_dir) == _load(inline_dir)
    beside.wait()  # a second wait changes nothing
    assert beside.outcome["written"] == _cache_file(beside_dir)


def test_a_cache_a_child_cannot_write_is_said_not_failed(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    cache, _fold_beside = _night_beside(target, True)
    cache.wait()
    assert cache.outcome["written"] is None
    assert cache.outcome["write_error"].startswith("the history cache %s could not be written (" % _cache_file(target))


def test_a_big_fold_is_written_in_process(tmp_path, monkeypatch):
    # from WRITE_BESIDE_BELOW_VMS groups the child would hold a second copy of the fold: written before save returns
    cache, fold = _night_beside(tmp_path, True, monkeypatch, below=1)
    assert len(fold.groups) == 1 and cache.outcome["written"] == _cache_file(tmp_path)
