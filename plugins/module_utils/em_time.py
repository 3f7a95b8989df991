# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Times: the collection's one ISO 8601 grammar, zone parser and UTC ``Z`` formatter (imports nothing).

EM sends ``Z`` strings with 0-7 fraction digits, which ``datetime.fromisoformat`` of Python
3.9/3.10 rejects, so the grammar is a regex; EM's usual shape takes a fast path through the C
parser first (``parse_iso`` runs ~100,000 times a night in the compliance evaluation).
Callers turn ``ValueError`` into their own error: the filter builder into ``EMValidationError``
naming the option, the compliance core into ``ComplianceInputError``, the parser keeps the text.
Relative windows (``24h``, ``7d``) are filter syntax and stay in em_filter_expr.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from datetime import datetime, timedelta, timezone

UTC = timezone.utc

# date, optional time (minutes, seconds and fraction optional), optional zone: Z, +HH, +HHMM, +HH:MM.
# A time without a zone is UTC (EM and the modules only produce UTC).
ISO_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*$",
    re.IGNORECASE,
)


def as_utc(moment):
    """An aware UTC datetime; a naive one is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def split_iso(text):
    """The ISO 8601 parts ``(year, month, day, hour, minute, second, fraction, zone)`` as texts, or None.

    Parts that are absent are None (``hour`` for a date only, ``second`` for ``HH:MM``).
    """
    match = ISO_RE.match(text)
    return match.groups() if match else None


def parse_zone(zone):
    """The offset of a zone designator (``Z``, ``+02``, ``+0200``, ``-04:30``; None = UTC) as a timedelta."""
    if not zone or zone in ("Z", "z"):
        return timedelta(0)
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    return -offset if zone[0] == "-" else offset


def from_parts(parts):
    """``split_iso`` parts -> aware UTC datetime; ``ValueError`` for a day, time or zone that cannot exist.

    ``timezone()`` refuses offsets of 24 hours or more; a result outside years 1-9999 is a
    ``ValueError`` too (not the ``OverflowError`` datetime arithmetic raises).
    """
    year, month, day, hour, minute, second, fraction, zone = parts
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                          micro, tzinfo=timezone(parse_zone(zone)))
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("date value out of range: %s" % exc)


def parse_iso(value):
    """An ISO 8601 time (or a datetime) as an aware UTC datetime; None for None or ""; else ``ValueError``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    fast = _fast_parse(value)
    if fast is not None:
        return fast
    parts = split_iso(str(value))
    if parts is None:
        raise ValueError("not an ISO 8601 time: %r" % (value,))
    return from_parts(parts)


def _fast_parse(value):
    """EM's usual 'YYYY-MM-DDTHH:MM:SS[.ffffff]Z' with the C parser; None for anything else.

    Only the exact shape is taken (the regex decides everything else, so both accept the same
    strings): 20 characters, or 22-27 with 1-6 fractional digits, 'T' and 'Z' in place.
    test_em_time proves the two agree.
    """
    if not isinstance(value, str) or not 20 <= len(value) <= 27 or value[10] != "T" or value[-1] != "Z" \
            or (len(value) > 20 and value[19] != "."):
        return None
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError:
        return None


def format_z(moment, fraction=True):
    """An aware datetime as the contract's UTC 'Z' string: seconds, then the microseconds without
    trailing zeros (none when ``fraction`` is false, i.e. rounded down); None for None."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    # isoformat, not strftime: the same text, a third of the time (issue 18: once per time of every
    # cached session); isoformat pads years below 1000 to four digits (ISO 8601), glibc's %Y did not.
    text = moment.replace(tzinfo=None, microsecond=0).isoformat()
    if fraction and moment.microsecond:
        text += (".%06d" % moment.microsecond).rstrip("0")
    return text + "Z"
