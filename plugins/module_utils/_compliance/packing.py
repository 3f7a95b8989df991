# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The session fold's records (fold.py): which keys of a task session are kept, and each record packed
into one short string (issue 18).

FOR INTERNAL COLLECTION USE ONLY: the public front is module_utils/em_compliance.py; names here may
change without notice.

A record is a tuple: the values of RECORD_KEYS, then the creation, end and restore point times
(datetimes), the kind and the history flag (_CREATED .. _HISTORY). ``_Packer`` turns it into one
string of fields (and back, exactly); split from fold.py, which files, merges and walks the records.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import functools
import re
from datetime import datetime, timedelta, timezone

# The keys of a task session the rules and rows read (grep '.get("' in _compliance/); the times are
# kept parsed. A key added to a rule must be added here: test_compliance_fold checks it.
RECORD_KEYS = ("uid", "name", "vm_display_name", "vm_uid", "job_name", "backup_server_uid", "backup_server_name",
               "state", "result", "reason", "restore_point_uid", "replica_point_uid", "job_session_uid")
_UID, _NAME, _VM_NAME, _VM_UID, _JOB, _SERVER_UID, _SERVER_NAME, _STATE = range(8)
_JOB_SESSION = RECORD_KEYS.index("job_session_uid")
_CREATED, _END, _POINT, _KIND, _HISTORY = range(len(RECORD_KEYS), len(RECORD_KEYS) + 5)
# Values that repeat from session to session: one string object each, shared by all the records.
_SHARED = tuple(i for i, key in enumerate(RECORD_KEYS)
                if key not in ("uid", "name", "restore_point_uid", "replica_point_uid"))
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_FIELD, _NONE, _RECORD = "\x1f", "\x00", "\x1e"
_URNS = (_UID, RECORD_KEYS.index("restore_point_uid"), RECORD_KEYS.index("replica_point_uid"))
# What pack does with the value at each position of RECORD_KEYS: a table number, a table number for
# a UID's type and its compact GUID, the task session's name (its default form compacted), as it is.
_SHARE, _URN, _NAMED, _AS_IS = range(4)
_HANDLING = tuple(_SHARE if position in _SHARED else _URN if position in _URNS else _NAMED if position == _NAME
                  else _AS_IS for position in range(len(RECORD_KEYS)))


class _Packer(object):
    """Records as one string each (issue 18: a tuple of Python objects was ~1 KB a session, 430,000
    sessions at 50,000 VMs). The values that repeat (VM, server, job, state, result, reason, job
    session, and the 'urn:veeam:Type:' prefix of a UID) are numbers into one table; times are
    microseconds since the epoch (exact). A record with a value that is not a string, or that holds
    the separators, stays a tuple (items a filter user built by hand): both unpack alike."""

    def __init__(self):
        self.index = {}
        self.table = []
        self._split = None   # (base, parity) while two processes number new values (split_numbers)

    def key(self, values):
        """fold_history's key (values, then the running flag) as one short string of table numbers
        (issue 18: a tuple of seven was ~110 bytes a key); the tuple itself when a value is not a
        string, or holds a separator."""
        fields = []
        for value in values[:-1]:
            if value is None:
                fields.append(_NONE)
            elif not isinstance(value, str) or _FIELD in value or _NONE in value:
                return values
            else:
                fields.append(self._number(value))
        return _FIELD.join(fields) + (_FIELD + "1" if values[-1] else _FIELD)

    def forget_index(self):
        """Drop the value -> number index once the reading is over (unpacking needs the table only).
        A value packed after this is given a new number: still unpacked exactly."""
        self.index = {}

    def _number(self, value):
        number = self.index.get(value)
        if number is None:
            split = self._split
            if split is not None and (len(self.table) - split[0]) % 2 != split[1]:
                self.table.append(None)   # the other process's position (split_numbers)
            number = self.index[value] = len(self.table)
            self.table.append(value)
        return str(number)

    # ---- two processes packing at once: the history cache's lines folded by a child (em_compliance_read.CacheLines)
    def split_numbers(self, parity):
        """From now on, number new values at the table positions base + ``parity`` + 2k only (base: the table's
        length at the first call); the child calls it with 0 after the fork, the parent with 1 before it, so the
        two never give one number to two values (None: no split, the fork refused). Why not renumber the child's
        records on the join: its ~54,000 records at 5,000 VMs would be unpacked and packed again (~0.5 s), where
        this renumbers a few history keys."""
        if parity is None:
            self._split = None
            return
        base = len(self.table) if self._split is None else self._split[0]
        self._split = (base, parity)

    def split_table(self):
        """The child's side of split_numbers: its table from the base (the other's positions hold None)."""
        return self.table[self._split[0]:]

    def join_numbers(self, table):
        """The parent's side of split_numbers: take in the values of the child's ``table`` (split_table) and end
        the split. Returns {the child's number: this packer's number} (both as text) of the values both numbered:
        the keys the child made (``key``) must name them by this packer's number (renumbered_key); its packed
        records need nothing (either number unpacks to the value)."""
        base, parity = self._split
        self._split = None
        own, index = self.table, self.index
        if len(own) < base + len(table):
            own.extend([None] * (base + len(table) - len(own)))
        numbers = {}
        for offset in range(1 - parity, len(table), 2):
            value = table[offset]
            if value is None:
                continue
            own[base + offset] = value
            number = index.setdefault(value, base + offset)
            if number != base + offset:
                numbers[str(base + offset)] = str(number)
        return numbers

    def pack(self, record):
        # One pass over the values with what to do with each (_HANDLING), the table numbers looked up
        # inline (issue 18: packing is a third of the warm night's cache read back, and runs for every
        # session read from EM). The index holds ints: text numbers were ~4 MB more at 50,000 VMs.
        fields = []
        append, index = fields.append, self.index
        for handling, value in zip(_HANDLING, record):
            if value is None:
                append(_NONE)
            elif not isinstance(value, str) or _FIELD in value or _NONE in value or _RECORD in value:
                return record
            elif handling == _SHARE:
                number = index.get(value)
                append(self._number(value) if number is None else str(number))
            elif handling == _URN:
                cut = value.rfind(":") + 1
                number = index.get(value[:cut])
                append((self._number(value[:cut]) if number is None else str(number)) + _guid(value[cut:]))
            elif handling == _NAMED and value == _default_name(record[_VM_NAME], record[_CREATED]):
                append(_DEFAULT_NAME)
            else:
                append(value)
        # the times as microseconds since the epoch in hexadecimal (exact, shorter than decimal), the end
        # relative to the creation
        created, ended, point = record[_CREATED], record[_END], record[_POINT]
        since = _microseconds(created)
        append("%x" % since)
        append(_NONE if ended is None else "+%x" % (_microseconds(ended) - since))
        append(_NONE if point is None else "%x" % _microseconds(point))
        append(self._number(record[_KIND]))
        append("1" if record[_HISTORY] else "")
        return _FIELD.join(fields)

    def unpack(self, packed):
        """The record of ``packed`` (a string of pack, or a record left as a tuple), exactly as packed.

        The hot spot of the evaluation (every session is unpacked once as its VM is walked, issue 18):
        each field is read by its position's way (_READ_AS), the URN prefixes looked up in the table."""
        if isinstance(packed, tuple):
            return packed
        fields = packed.split(_FIELD)
        created = _moment(fields[_CREATED])
        values = self._values(fields, created)
        ended = fields[_END]
        values += [created, None if ended == _NONE else _moment(ended[1:], created), _moment(fields[_POINT]),
                   self.table[int(fields[_KIND])], fields[_HISTORY] == "1"]
        return tuple(values)

    def placing(self, packed):
        """What SessionFold._place reads of ``packed``: unpack's record with the table's values (VM, job, backup
        server, state, result, reason, job session), the creation and end times, the kind and the history flag;
        the task session's UID and name and the restore point's UID and time None.

        SessionFold.settle places every history record it kept again (issue 18); the whole unpack made two GUIDs, a
        name and a third datetime there for nothing (about half its cost), each record being unpacked whole when
        its VM is walked. test_compliance_fold_packing checks _place does the same with either."""
        if isinstance(packed, tuple):
            return packed
        fields = packed.split(_FIELD)
        table = self.table
        values = [table[int(field)] if way is _AS_SHARED and field != _NONE else None
                  for field, way in zip(fields, _READ_AS)]
        created, ended = _moment(fields[_CREATED]), fields[_END]
        values += [created, None if ended == _NONE else _moment(ended[1:], created), None,
                   table[int(fields[_KIND])], fields[_HISTORY] == "1"]
        return tuple(values)

    def line(self, packed):
        """What unpack gives of ``packed``, with its times as microseconds since the epoch (None when absent),
        not datetimes: ``(values of RECORD_KEYS (a list), creation, end, restore point time, kind, history)``.

        What the history cache writes of a session (history_cache._entries, format 4's record line): taken from
        the packed fields as they are, no datetime made and turned back (issue 18: unpacking every cached session
        to a record, then to a dict, then to a line; with the encoder and the secret search changed too, the warm
        night's cache write at 5,000 VMs went from ~1.0 to ~0.8 s).
        The same numbers as _microseconds of unpack's datetimes, exactly (integer arithmetic both ways)."""
        if isinstance(packed, tuple):
            return (list(packed[:_CREATED]), _microseconds(packed[_CREATED]), _microseconds_or_none(packed[_END]),
                    _microseconds_or_none(packed[_POINT]), packed[_KIND], packed[_HISTORY])
        fields = packed.split(_FIELD)
        created = int(fields[_CREATED], 16)
        # the creation as a datetime only for a task session name of the default form (made from it)
        values = self._values(fields, created, as_moment=True)
        ended, point = fields[_END], fields[_POINT]
        return (values, created, None if ended == _NONE else created + int(ended[1:], 16),
                None if point == _NONE else int(point, 16), self.table[int(fields[_KIND])], fields[_HISTORY] == "1")

    def _values(self, fields, created, as_moment=False):
        """The values of RECORD_KEYS of a packed record's fields, each read by its position's way (_READ_AS), the
        URN prefixes looked up in the table; the default task session name made from ``created`` (a datetime, or
        microseconds with ``as_moment``)."""
        table = self.table
        values = []
        append = values.append
        for field, way in zip(fields, _READ_AS):
            if field == _NONE:
                append(None)
            elif way is _AS_SHARED:
                append(table[int(field)])
            elif way is _AS_URN:
                cut = len(field) - len(field.lstrip("0123456789"))
                append(table[int(field[:cut])] + (field[cut + 1:] if field[cut] == ":" else _unguid(field[cut:])))
            elif way is _AS_NAME and field == _DEFAULT_NAME:
                append(None)  # made below, once the VM name is known
            else:
                append(field)
        if values[_NAME] is None and fields[_NAME] == _DEFAULT_NAME:
            moment = _EPOCH + timedelta(0, 0, created) if as_moment else created
            values[_NAME] = _default_name(values[_VM_NAME], moment)
        return values


# How unpack reads the field at each position of RECORD_KEYS (pack's cases, in its order).
_AS_SHARED, _AS_URN, _AS_NAME, _AS_TEXT = "shared", "urn", "name", "text"
_READ_AS = tuple(_AS_SHARED if position in _SHARED else _AS_URN if position in _URNS else
                 _AS_NAME if position == _NAME else _AS_TEXT for position in range(len(RECORD_KEYS)))


# The compact forms of a record's fields (issue 18: ~65 of a record's ~185 characters). Each is used
# only where it gives back the exact value; else the field is kept as it was read.
_DEFAULT_NAME = _NONE + "@"   # EM's task session name "<VM name>@<creation time>" (the emulator's; [INF] EM's)


def renumbered_key(key, numbers):
    """A key of ``key`` with the numbers ``numbers`` maps (_Packer.join_numbers) replaced; its last field (the
    running flag) is not a number."""
    if not numbers or not isinstance(key, str):
        return key
    fields = key.split(_FIELD)
    return _FIELD.join([numbers.get(field, field) for field in fields[:-1]] + fields[-1:])


def _default_name(vm_name, created):
    """Made the same way when packing and unpacking from the same values: exact whatever they are.
    The text of ``created.isoformat(" ")[:19]`` (the date as isoformat writes it, then the wall-clock
    time to the second), with each date written once (_iso_date): half the cost of isoformat, and it
    runs for every record packed and unpacked (test_compliance_fold_packing checks it equals isoformat's)."""
    return "%s@%s %02d:%02d:%02d" % (vm_name, _iso_date(created.date()), created.hour, created.minute, created.second)


@functools.lru_cache(maxsize=4096)  # bounded: a long-lived controller process sees one entry a day
def _iso_date(day):
    return day.isoformat()


# A GUID as str(uuid.UUID(...)) writes it: what _unguid gives back, so only this form is compacted.
# (The uuid module was the evaluation's hot spot: UUID objects made and printed for every record unpacked.)
_URLSAFE = bytes.maketrans(b"+/", b"-_")   # base64's alphabet to the URL-safe one (base64.urlsafe_b64encode's)
_CANONICAL_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


def _guid(text):
    """':' and the text, or ';' and the 22 base64 characters of a canonical lower-case GUID."""
    if not _CANONICAL_GUID.match(text):
        return ":" + text
    # binascii, not base64.urlsafe_b64encode: the same bytes without its wrappers (once per UID packed)
    return ";" + binascii.b2a_base64(bytes.fromhex(text.replace("-", "")), newline=False)[:22].translate(
        _URLSAFE).decode("ascii")


def _unguid(field):
    """The GUID of _guid's ';' form (binascii, not base64.urlsafe_b64decode: a third less per GUID, and
    unpack makes two a session; '-' and '_' are the URL-safe alphabet's '+' and '/', the only change)."""
    if field[0] == ":":
        return field[1:]
    digits = binascii.a2b_base64(field[1:].replace("-", "+").replace("_", "/") + "==").hex()
    return "%s-%s-%s-%s-%s" % (digits[:8], digits[8:12], digits[12:16], digits[16:20], digits[20:])


def _moment(field, since=None):
    if field == _NONE:
        return None
    return (since or _EPOCH) + timedelta(0, 0, int(field, 16))  # (days, seconds, microseconds)


def _microseconds(moment):
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds


def _microseconds_or_none(moment):
    return None if moment is None else _microseconds(moment)
