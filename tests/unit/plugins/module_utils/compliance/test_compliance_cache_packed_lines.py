# -*- coding: utf-8 -*-
"""The history cache written from the fold's packed records as they are (issue 18, session 9): _Packer.line gives
what unpack gives, the times as microseconds; the fold's history_lines/window_lines give the lines the writer wrote
from history_items' dicts before; settle files the history's packed string as kept; the writer searches a batch of
lines for secrets once and scrubs line by line on a hit, so its bytes are those of scrubbing every line alone."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import json
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance, em_secrets
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import fold as _fold
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import history_cache
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import packing as _packing

from .conftest import build_session, history_items
from .test_compliance_fold_packing import RECORD_FIELD_CASES, _record  # the fold and the record of one item

NOW = "2025-06-05T06:00:00Z"
GUID = "1ad54825-b8f9-4a3a-93f2-bc4a7c8d69c5"
UTC = timezone.utc


def _us(moment):
    return None if moment is None else _packing._microseconds(moment)


def _expected_line(record):
    """What the writer wrote before (history_cache._record_line of as_session's dict, its times turned to µs)."""
    session = _fold.as_session(record, record[_packing._KIND])
    return ([session[key] for key in _packing.RECORD_KEYS], _us(session["_created"]), _us(session["_end"]),
            _us(session["_point_created"]), record[_packing._KIND], record[_packing._HISTORY])


@pytest.mark.parametrize("fields", RECORD_FIELD_CASES + [
    {"creation_time": "1970-01-01T00:00:00Z", "name": "vm01@1970-01-01 00:00:00"},   # 0 µs: the epoch itself
    {"creation_time": "1969-12-31T23:59:59.999999Z", "name": "vm01@1969-12-31 23:59:59"},  # before the epoch
])
def test_a_packed_records_line_is_what_unpack_gives_with_its_times_in_microseconds(fields):
    fold, record = _record(**fields)
    packed = fold._packer.pack(record)
    assert isinstance(packed, str)
    assert fold._packer.line(packed) == _expected_line(fold._packer.unpack(packed)) == _expected_line(record)


def test_an_end_before_the_creation_packed_gives_the_same_microseconds():
    """A negative end delta ("+-...") read as unpack reads it (no item gives one: readable_end drops it)."""
    fold, record = _record()
    created = record[_packing._CREATED]
    record = record[:_packing._END] + (created - timedelta(microseconds=1500001),) + record[_packing._END + 1:]
    packed = fold._packer.pack(record)
    assert "+-" in packed
    assert fold._packer.line(packed) == _expected_line(record)


def test_a_record_left_as_a_tuple_gives_its_values_as_they_are():
    """A record whose values are not all strings (a hand-built item) stays a tuple: its line is its values."""
    fold, record = _record(job_name=42)
    packed = fold._packer.pack(record)
    assert packed is record
    assert fold._packer.line(packed) == _expected_line(record)
    assert fold._packer.line(packed)[0][_packing._JOB] == 42


def _filled_fold():
    """A fold holding window sessions (one excluded by the patterns, one after the cache's bound, one running)
    and history sessions (one without a VM identity, kept as the item)."""
    fold = em_compliance.session_fold(NOW, lookback_days=1, exclude_vms=["skip*"])
    window = [build_session("web01", "2025-06-04T10:00:00Z", vm_uid="urn:vmware:vm:x.vm-2"),
              build_session("web01", "2025-06-04T11:00:00.25Z", result="Failed", vm_uid="urn:vmware:vm:x.vm-2"),
              build_session("skip01", "2025-06-04T12:00:00Z"),
              build_session("db01", "2025-06-05T05:00:00Z", state="InProgress"),
              build_session("db01", "2025-06-05T05:30:00Z")]
    fold.add(window, em_compliance.KIND_BACKUP)
    fold.add([build_session("rep01", "2025-06-04T09:00:00Z", kind="replica")], em_compliance.KIND_REPLICA)
    history = [build_session("web01", "2025-05-30T10:00:00Z", vm_uid="urn:vmware:vm:x.vm-2"),
               build_session("web01", "2025-05-31T10:00:00Z", result="Warning", vm_uid="urn:vmware:vm:x.vm-2"),
               build_session(None, "2025-05-31T11:00:00Z")]
    history[-1]["vm_display_name"] = None
    fold.add_history(history, em_compliance.KIND_BACKUP)
    return fold


def test_the_history_lines_are_history_items_as_the_writer_wrote_them():
    fold = _filled_fold()
    expected = []
    for kind, session in history_items(fold):
        if "_created" in session:
            record = tuple(session[key] for key in _packing.RECORD_KEYS) + (
                session["_created"], session["_end"], session["_point_created"], kind, True)
            expected.append((kind, _expected_line(record), None))
        else:
            expected.append((kind, None, session))
    lines = list(fold.history_lines())
    assert sorted(map(repr, lines)) == sorted(map(repr, expected))
    assert [item for _kind, line, item in lines if item is not None][0]["vm_display_name"] is None
    assert len([line for _kind, line, item in lines if line is not None]) == 2


def test_the_window_lines_are_every_window_session_before_the_bound_excluded_ones_too():
    fold = _filled_fold()
    before = datetime(2025, 6, 5, 5, 30, tzinfo=UTC)
    lines = list(fold.window_lines(before))
    names = sorted((kind, line[0][_packing._VM_NAME], line[1]) for kind, line in lines)
    assert names == sorted([
        ("backup", "web01", _us(datetime(2025, 6, 4, 10, tzinfo=UTC))),
        ("backup", "web01", _us(datetime(2025, 6, 4, 11, 0, 0, 250000, tzinfo=UTC))),
        ("backup", "skip01", _us(datetime(2025, 6, 4, 12, tzinfo=UTC))),       # outside the patterns: cached too
        ("backup", "db01", _us(datetime(2025, 6, 5, 5, tzinfo=UTC))),           # running, before the bound
        ("replica", "rep01", _us(datetime(2025, 6, 4, 9, tzinfo=UTC)))])       # 05:30 is not before 05:30
    assert all(line[5] is False and line[4] == kind for kind, line in lines)
    # each the line of its record as unpack gives it
    records = [fold._packer.unpack(packed) for _order, joined in fold.groups.values()
               for packed in _fold._split(joined)] + [fold._packer.unpack(packed) for packed in fold.excluded]
    by_uid = dict((record[_packing._UID], _expected_line(record)) for record in records)
    assert all(line == by_uid[line[0][_packing._UID]] for _kind, line in lines)


def test_settle_files_the_history_as_packing_it_again_would():
    """settle hands _place the history's packed string as kept: the same string pack makes of its record."""
    fold = _filled_fold()
    kept = [packed for _created, packed in fold.history.values() if not _fold._is_item(packed)]
    assert kept and all(fold._packer.pack(fold._packer.unpack(packed)) == packed for packed in kept)
    fold.settle()
    placed = [packed for _order, joined in fold.groups.values() for packed in _fold._split(joined)]
    assert all(packed in placed for packed in kept)


def test_the_cache_written_holds_the_lines_of_the_dicts_path(tmp_path):
    """The file's decoded lines: the record lines as _record_line of history_items' dicts made them (format 4)."""
    fold = _filled_fold()
    path = str(tmp_path / "c.history-cache.json.gz")
    entries = list(history_cache._entries(fold, datetime(2025, 6, 5, 5, 30, tzinfo=UTC)))
    history_cache._write_atomic(path, {"format": history_cache.FORMAT}, iter(entries), 0o600)
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        written = [json.loads(line) for line in stream]
    assert written[0] == {"format": history_cache.FORMAT} and written[-1] == {"items": len(entries)}
    assert written[1:-1] == json.loads(json.dumps(entries))
    history = [entry for entry in written[1:-1] if len(entry) == 5]
    assert all(isinstance(entry[2], int) and entry[1][_packing._VM_NAME] == "web01" for entry in history)
    assert [entry for entry in written[1:-1] if len(entry) == 2][0][1]["vm_display_name"] is None
    assert len([entry for entry in written[1:-1] if entry[-1] == "window"]) == 5


# ---- one secret search per batch of lines ---------------------------------------------------------------

def _per_line(texts):
    """What the writer wrote before: each line scrubbed alone."""
    return "".join(em_secrets.scrub(text) + "\n" for text in texts).encode("utf-8")


def test_a_batch_without_a_secret_is_the_lines_as_they_are():
    texts = [json.dumps(["backup", ["a", "b"]]), json.dumps({"items": 1})]
    assert history_cache._lines(texts) == _per_line(texts) == (texts[0] + "\n" + texts[1] + "\n").encode("utf-8")


def test_a_secret_in_one_line_of_a_batch_is_masked_there_only():
    secret = "h9-Batch-Secret-\u03a9"
    em_secrets.register(secret)
    texts = [json.dumps(["backup", ["vm01@x", "clean"]]),
             json.dumps(["backup", ["vm02@x " + secret.upper(), "clean"]], ensure_ascii=False),
             json.dumps(["backup", ["vm03@x", "clean"]])]
    written = history_cache._lines(texts)
    assert written == _per_line(texts)
    assert secret.upper().encode("utf-8") not in written and b"vm02@x ********" in written
    assert written.count(b"********") == 1


def test_a_secret_the_join_of_two_lines_would_make_masks_nothing():
    """A form holding a newline (a password with one) cannot match inside a JSON line; the batch's join puts a
    newline between two lines: the match found there must not mask across them (it would break both lines)."""
    encode = history_cache._ENCODER.encode
    first, second = encode(["backup", ["x", "tail-h9"]]), encode(["backup", ["head-h9", "y"]])
    secret = 'tail-h9"]]\n["backup",["head-h9'
    em_secrets.register(secret)
    assert em_secrets.found(first + "\n" + second)   # the join holds the form
    written = history_cache._lines([first, second])
    assert written == _per_line([first, second]) == (first + "\n" + second + "\n").encode("utf-8")
    assert [json.loads(line) for line in written.decode("utf-8").splitlines()] == [json.loads(first),
                                                                                   json.loads(second)]


def test_found_is_whether_scrub_changes_the_text():
    em_secrets.register("h9-found-secret")
    assert em_secrets.found("a H9-FOUND-SECRET b") and em_secrets.scrub("a H9-FOUND-SECRET b") == "a ******** b"
    text = "nothing registered here"
    assert not em_secrets.found(text) and em_secrets.scrub(text) is text


# ---- the C encoder made once per file ------------------------------------------------------------------

_VALUES = [["backup", ["uid", None, u"\u03a9 \"quoted\" \\ \n", "x"], 1717552800000000, None, -5, "window"],
           {"format": 4, "identity": {"em": "https://em", "kinds": ["backup"]}, "window_cached": True, "f": 1.5},
           ["job", "backup_job_sessions", {"uid": "u", "z": 1e300, "a": [], "n": float("nan")}],
           ["backup", {"creation_time": datetime(2025, 6, 5, tzinfo=UTC)}]]   # default=str, as _ENCODER


def test_the_line_encoder_writes_the_text_of_json_encoder():
    encode = history_cache._encoder()
    assert encode is not history_cache._ENCODER.encode   # CPython: the C encoder made once
    assert [encode(value) for value in _VALUES] == [history_cache._ENCODER.encode(value) for value in _VALUES]


def test_the_line_encoder_keeps_the_circular_reference_check():
    looped = ["backup"]
    looped.append(looped)
    encode = history_cache._encoder()
    with pytest.raises(ValueError):
        encode(looped)
    assert encode(_VALUES[0]) == history_cache._ENCODER.encode(_VALUES[0])


@pytest.mark.parametrize("make", [None, "wrong-text", "wrong-signature"])
def test_the_line_encoder_is_json_encoders_where_the_c_encoder_differs(monkeypatch, make):
    if make == "wrong-text":
        def make(*args):
            return lambda value, level: ["[]"]
    elif make == "wrong-signature":
        def make(*args):
            raise TypeError("another signature")
    monkeypatch.setattr(history_cache, "_C_MAKE_ENCODER", make)
    assert history_cache._encoder() == history_cache._ENCODER.encode


# ---- _place and add_history read the record's positions ------------------------------------------------

def _scope_items():
    """Sessions in and out of VM, job and server patterns, with and without server UID or VM UID, one dated ahead."""
    return [build_session("web01", "2025-06-04T10:00:00Z", vm_uid="urn:vmware:vm:x.vm-2"),
            build_session("WEB01", "2025-06-04T11:00:00Z"),                                  # the UID of its name
            build_session("skip01", "2025-06-04T12:00:00Z", vm_uid="urn:vmware:vm:x.vm-9"),
            build_session("db01", "2025-06-04T13:00:00Z", job="Copy Job 7"),
            build_session("db01", "2025-06-04T14:00:00Z", server="vbr09.example.com"),
            build_session("db02", "2025-06-04T15:00:00Z", server="vbr02.example.com", server_uid=None),
            build_session("db03", "2025-06-04T16:00:00Z", server=None, server_uid=None),
            build_session("db04", "2025-06-05T07:00:00Z", end="2025-06-05T09:00:00Z")]       # ahead of now


def _expected_place(fold, items, kind):
    """What _place did with a dict of each record (record_view): in scope by policy.session_in_scope, the server
    key by sessions.server_key, the VM by its UID or name key, each in-server-scope session a sign of life."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import policy as _policy
    from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import sessions as _sessions
    groups, excluded, servers = set(), 0, set()
    for item in items:
        view = _fold.record_view(fold._record(item, kind, False))
        server_scope = _policy.in_scope(view["backup_server_name"], fold.policy["include_servers"],
                                        fold.policy["exclude_servers"])
        if server_scope and _policy.session_in_scope(view, fold.policy):
            vm = view["vm_uid"].lower() if view["vm_uid"] else _sessions._name_key(view["vm_display_name"])
            groups.add((_sessions.server_key(view), vm))
        else:
            excluded += 1
        if server_scope:
            servers |= {_sessions.server_key(view), "known:" + str(view["backup_server_name"] or "").lower()}
    return groups, excluded, servers


@pytest.mark.parametrize("patterns", [
    {},
    {"exclude_vms": ["skip*"]},
    {"include_jobs": ["backup*"], "exclude_servers": ["vbr09*"]},
    {"include_servers": ["vbr01*", "vbr02*"]},
])
def test_placing_reads_the_records_positions_as_it_read_their_dict(patterns):
    fold = em_compliance.session_fold(NOW, lookback_days=2, **patterns)
    items = _scope_items()
    groups, excluded, servers = _expected_place(fold, items, em_compliance.KIND_BACKUP)
    fold.add(items, em_compliance.KIND_BACKUP)
    assert set(fold.groups) == groups
    assert len(fold.excluded) == excluded
    assert set(fold.last_seen) | set(fold.ahead_seen) == servers
    assert fold.uids.get(("urn:veeam:backupserver:vbr01.example.com", "web01")) == ("urn:vmware:vm:x.vm-2",)
    if not patterns:  # web01 by UID and by name (merged at the walk), skip01, db01 on two servers, db02-04
        assert len(groups) == 8 and excluded == 0


def test_a_cached_records_history_key_is_its_items():
    """add_history of records (the cache's read back) keeps per key what add_history of the items keeps."""
    items = [build_session("web01", "2025-05-30T10:00:00Z", vm_uid="urn:vmware:vm:x.vm-2"),
             build_session("web01", "2025-05-31T10:00:00Z", vm_uid="urn:vmware:vm:x.vm-2"),
             build_session("WEB01", "2025-05-31T10:00:00Z", vm_uid="URN:VMWARE:VM:X.VM-2", job="BACKUP JOB 1"),
             build_session("web01", "2025-05-31T11:00:00Z", vm_uid="urn:vmware:vm:x.vm-2", result="Failed"),
             build_session("web01", "2025-05-31T12:00:00Z", vm_uid="urn:vmware:vm:x.vm-2", state="InProgress"),
             build_session("db01", "2025-05-31T12:00:00Z", server_uid=None, server="VBR02.example.com"),
             build_session("db01", "2025-05-31T13:00:00Z", server_uid=None, server="vbr02.EXAMPLE.com")]
    by_items, by_records = (em_compliance.session_fold(NOW) for _twice in range(2))
    by_items.add_history(items, em_compliance.KIND_BACKUP)
    records = [by_records._record(item, em_compliance.KIND_BACKUP, True) for item in items]
    by_records.add_history(records, em_compliance.KIND_BACKUP, records=True)
    assert sorted(map(repr, history_items(by_records))) == sorted(map(repr, history_items(by_items)))
    assert len(by_items.history) == 4   # web01 Success (3 reduced to 1), Failed, running; db01 (2 reduced to 1)


@pytest.mark.parametrize("first, second", [
    (u"ΟΔΟΣ", u"ΣΟΔΟ"),            # a sigma ending the first text, one opening the second
    (u"ΟΔΟΣ'", u"'ΣΟΔΟ"),          # behind a case-ignorable apostrophe
    (u"[\"ΟΔΟΣ\"]", u"[\"Σ\"]"),
])
def test_the_lower_case_of_texts_joined_by_a_newline_is_theirs_joined(first, second):
    """found() on a batch sees every form per-line found() sees: str.lower's one rule with context (a final
    sigma) reads the newline as the end of a word, as the end of a text."""
    assert (first + "\n" + second).lower() == first.lower() + "\n" + second.lower()
    secret = u"h9-ΟΔΟΣ"
    em_secrets.register(secret)
    texts = [history_cache._ENCODER.encode(["backup", [u"x " + secret]]), history_cache._ENCODER.encode([first])]
    assert history_cache._lines(texts) == _per_line(texts) and secret.encode("utf-8") not in _per_line(texts)
