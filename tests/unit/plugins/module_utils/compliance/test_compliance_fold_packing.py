# -*- coding: utf-8 -*-
"""The fold's packed records and history keys (issue 18): the compact forms give back every value exactly,
and are used only where they can."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import fold as _fold
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import packing as _packing

from .conftest import build_session

NOW = "2025-06-05T06:00:00Z"
GUID = "1ad54825-b8f9-4a3a-93f2-bc4a7c8d69c5"


def _record(**fields):
    fold = em_compliance.session_fold(NOW)
    item = build_session(**dict({"vm_uid": "urn:vmware:vm:x.vm-1"}, **fields.pop("item", {})))
    item.update(fields)
    return fold, fold._record(item, em_compliance.KIND_BACKUP, False)


# An item's fields each way a record may pack them (compact or not), shared with test_compliance_cache_packed_lines
RECORD_FIELD_CASES = [
    {"uid": "urn:veeam:BackupTaskSession:" + GUID, "name": "vm01@2025-06-05 01:00:00"},       # both compact
    {"uid": "urn:veeam:BackupTaskSession:" + GUID.upper(), "name": "vm01@2025-06-05 01:00:01"},  # neither
    {"uid": "urn:veeam:BackupTaskSession:{%s}" % GUID, "name": "vm01@2025-06-05T01:00:00Z"},
    {"uid": "not-a-urn", "name": "vm01", "restore_point_uid": "urn:veeam:RestorePoint:" + GUID},
    {"uid": "urn:veeam:X:", "name": "@2025-06-05 01:00:00", "vm_display_name": None},
    {"creation_time": "2025-06-05T01:00:00.123456Z", "end_time": "2025-06-05T01:10:00.000001Z",
     "restore_point_time": "2025-06-05T01:05:00.5Z", "name": "vm01@2025-06-05 01:00:00"},
    {"end_time": None, "state": "InProgress"},
]


@pytest.mark.parametrize("fields", RECORD_FIELD_CASES)
def test_a_packed_record_unpacks_to_the_record_exactly(fields):
    fold, record = _record(**fields)
    packed = fold._packer.pack(record)
    assert isinstance(packed, str)
    assert fold._packer.unpack(packed) == record


def test_a_canonical_guid_and_the_default_name_are_packed_short():
    fold, record = _record(uid="urn:veeam:BackupTaskSession:" + GUID, name="vm01@2025-06-05 01:00:00")
    packed = fold._packer.pack(record)
    assert GUID not in packed and "vm01@" not in packed
    _fold2, other = _record(uid="urn:veeam:BackupTaskSession:" + GUID.upper(), name="vm01@2025-06-05 01:00:01")
    assert GUID.upper() in _fold2._packer.pack(other) and "vm01@2025-06-05 01:00:01" in _fold2._packer.pack(other)


def test_history_keys_of_different_values_differ_and_equal_values_agree():
    packer = _fold._Packer()
    base = ("backup", "srv", "uid", "vm", "job")
    tuples = [base + (result, running) for result in ("Success", "Failed", None, "1", "0", "", 1, 0, True)
              for running in (False, True)]
    # the key tells apart exactly what the tuple told apart (1 == True in a tuple too)
    assert len(set(packer.key(values) for values in tuples)) == len(set(tuples)) == 16
    assert packer.key(base + ("Success", False)) == packer.key(tuple(base) + ("Success", False))
    assert packer.key(base + (1, False)) == base + (1, False)  # not a string: the tuple itself
    assert packer.key(("backup", "a\x1fb", "uid", "vm", "job", "Success", False))[1] == "a\x1fb"


def test_the_index_is_forgotten_at_settle_and_a_later_pack_still_unpacks_exactly():
    """settle() drops the value -> number index (issue 18); the table stays, so every record packed
    before unpacks as it was, and one packed after (a value given a second number) too."""
    fold, record = _record(uid="urn:veeam:BackupTaskSession:" + GUID)
    packer = fold._packer  # pylint: disable=protected-access
    before = packer.pack(record)
    fold.settle()
    assert packer.index == {} and packer.table
    after = packer.pack(record)
    assert packer.unpack(before) == packer.unpack(after) == record


@pytest.mark.parametrize("created", [
    datetime(2025, 6, 5, 1, 0, 0, tzinfo=timezone.utc), datetime(2025, 6, 5, 23, 59, 59, 999999, tzinfo=timezone.utc),
    datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc), datetime(999, 12, 31, 9, 5, 7, tzinfo=timezone.utc),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc), datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=timezone.utc),
    datetime(2025, 6, 5, 1, 2, 3, tzinfo=timezone(timedelta(hours=-4, minutes=-30))), datetime(2025, 6, 5, 1, 2, 3)])
def test_the_default_name_is_the_isoformat_text_of_the_creation_time(created):
    """_default_name writes the time field by field (each date once): the text isoformat gives, for any
    time (years below 1000 padded, microseconds cut, another offset's or a naive wall clock), so that a
    name is packed short exactly when it is the default and unpacks to itself."""
    for vm_name in ("vm01", "", None, "a@b"):
        assert _packing._default_name(vm_name, created) == "%s@%s" % (vm_name, created.isoformat(" ")[:19])


_PINNED_ITEM = {"uid": "urn:veeam:BackupTaskSession:" + GUID, "name": "vm01@2025-06-05 01:00:00",
                "vm_display_name": "vm01", "vm_uid": "urn:vmware:vm:x.vm-1", "job_name": "Backup Job 1",
                "backup_server_uid": "urn:veeam:BackupServer:" + GUID.upper(), "backup_server_name": "vbr01",
                "state": "Completed", "result": "Success", "reason": "",
                "restore_point_uid": "urn:veeam:RestorePoint:{%s}" % GUID,
                "job_session_uid": "urn:veeam:BackupJobSession:" + GUID,
                "creation_time": "2025-06-05T01:00:00.123456Z", "end_time": "2025-06-05T01:10:00.000001Z",
                "restore_point_time": "2025-06-05T01:05:00.5Z"}


def test_the_packed_form_is_pinned():
    """The packed strings, field by field, as the packer wrote them before pack was made faster (issue 18: the
    warm night's read back packs every cached session): the same table numbers, compact GUIDs (URL-safe base64,
    '-' and '_' too), default name, hexadecimal times, a relative end; None, a non-canonical UID, a running
    replica read in the history."""
    fold = em_compliance.session_fold(NOW)
    packer = _fold._Packer()
    records = [fold._record(_PINNED_ITEM, em_compliance.KIND_BACKUP, False),
               fold._record(dict(_PINNED_ITEM, uid="not-a-urn", name="vm01@2025-06-05 01:00:01", end_time=None,
                                 state="InProgress", restore_point_time=None, reason=None),
                            em_compliance.KIND_REPLICA, True),
               fold._record(dict(_PINNED_ITEM, uid="urn:veeam:BackupTaskSession:fbfffbff-ffff-ffff-ffff-ffffffffffff"),
                            em_compliance.KIND_BACKUP, False)]
    tail = "\x1f9:{%s}\x1f\x00\x1f10\x1f636c8a2090640\x1f" % GUID
    assert [packer.pack(record) for record in records] == [
        "0;GtVIJbj5SjqT8rxKfI1pxQ\x1f\x00@\x1f1\x1f2\x1f3\x1f4\x1f5\x1f6\x1f7\x1f8" + tail
        + "+23c163c1\x1f636c8b3f06820\x1f11\x1f",
        "8:not-a-urn\x1fvm01@2025-06-05 01:00:01\x1f1\x1f2\x1f3\x1f4\x1f5\x1f12\x1f7\x1f\x00\x1f9:{%s}\x1f\x00"
        "\x1f10\x1f636c8a2090640\x1f\x00\x1f\x00\x1f13\x1f1" % GUID,   # its job session kept (session 14)
        "0;-__7_________________w\x1f\x00@\x1f1\x1f2\x1f3\x1f4\x1f5\x1f6\x1f7\x1f8" + tail
        + "+23c163c1\x1f636c8b3f06820\x1f11\x1f"]
    assert packer.table == ["urn:veeam:BackupTaskSession:", "vm01", "urn:vmware:vm:x.vm-1", "Backup Job 1",
                            "urn:veeam:BackupServer:" + GUID.upper(), "vbr01", "Completed", "Success", "",
                            "urn:veeam:RestorePoint:", "urn:veeam:BackupJobSession:" + GUID, "backup", "InProgress",
                            "replica"]
    assert [packer.unpack(packer.pack(record)) for record in records] == records


_NOT_PLACED = ("uid", "name", "restore_point_uid", "replica_point_uid")


@pytest.mark.parametrize("fields", RECORD_FIELD_CASES)
def test_placing_gives_unpacks_values_but_the_uids_the_name_and_the_restore_point(fields):
    """_Packer.placing (settle's unpack, issue 18): the table's values, both times, the kind and the history flag as
    unpack gives them; the task session's UID and name, the restore point's UID and time None."""
    fold, record = _record(**fields)
    packer = fold._packer
    placing, whole = packer.placing(packer.pack(record)), packer.unpack(packer.pack(record))
    assert len(placing) == len(whole) == len(record)
    for position, key in enumerate(_packing.RECORD_KEYS):
        assert placing[position] == (None if key in _NOT_PLACED else whole[position]), key
    assert placing[_packing._CREATED:] == (whole[_packing._CREATED], whole[_packing._END], None) + whole[
        _packing._KIND:]
    assert packer.placing(record) is record   # a record left as a tuple: as it is


def _history_items():
    """History sessions whose placing exercises every branch of _place: servers in and out of the server
    patterns, VMs and jobs in and out of the VM and job patterns, a VM named without its UID, an end dated ahead
    of now (clock_skew), a running session, another server with the same VM, a session without its server."""
    items = []
    for number in range(60):
        day = "2025-05-%02d" % (10 + number % 15)
        items.append(build_session(
            vm="vm%02d" % (number % 9), created="%sT0%d:00:00Z" % (day, number % 7),
            vm_uid=None if number % 5 == 0 else "urn:vmware:vm:x.vm-%d" % (number % 9),
            server=None if number == 13 else ("vbr01", "vbr02", "retired01")[number % 3], job=("Backup Job 1", "Dev Job", "Backup Job 2")[number % 4 % 3],
            result=("Success", "Failed", "Warning")[number % 3],
            state="InProgress" if number == 7 else "Completed",
            end="2025-06-09T00:00:00Z" if number == 11 else "default"))
    return items


@pytest.mark.parametrize("patterns", [
    {}, {"exclude_servers": ["retired*"]}, {"include_vms": ["vm0[1-5]"], "exclude_jobs": ["Dev*"]},
    {"exclude_vms": ["vm03"], "include_servers": ["vbr0*"], "include_jobs": ["Backup*"]}])
def test_settle_places_the_history_as_the_whole_records_would(monkeypatch, patterns):
    """settle hands _place what placing gives: the fold it leaves - groups, excluded, VM UIDs by name, the
    servers' signs of life (the rules', those dated ahead, the cache's) - is the one the whole records give."""
    items = _history_items()

    def settled(unpack_whole):
        with monkeypatch.context() as patch:
            if unpack_whole:
                patch.setattr(_packing._Packer, "placing", _packing._Packer.unpack)
            fold = em_compliance.session_fold(NOW, lookback_days=1, **patterns)
            fold.add_history([dict(item) for item in items], em_compliance.KIND_BACKUP)
            fold.settle()
        return (fold.groups, fold.excluded, fold.uids, fold.last_seen, fold.ahead_seen, fold.server_signs,
                fold.ignored)

    placed = settled(False)
    assert placed == settled(True)
    groups, excluded = placed[0], placed[1]
    assert groups and (excluded or not patterns)
