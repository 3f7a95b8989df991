# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""EM's scalar values to typed ones: text, int, bool, UTC ``Z`` times, bare GUIDs (used by em_parse.normalise).

A value that is absent or not of the type is None; a value EM cannot have sent (a number beyond
Int64, ``Infinity``) is an ``EMResponseError`` naming it, never a guess.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_time
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError

GUID_IN_TEXT_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def to_text(value):
    if value is None:
        return None
    if isinstance(value, dict):  # an element with attributes only; keep its text if any
        value = value.get("#text")
        return None if value is None else str(value)
    return str(value) if not isinstance(value, str) else value


MAX_INT_MAGNITUDE = 2 ** 63  # EM's numbers are .NET Int64 at most (sizes in bytes, counts)
MAX_NUMBER_TEXT = 40         # characters: an Int64 or a double in exponent form fits easily
NUMBER_TEXT_RE = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")


def to_int(value):
    """An integer field; None when absent or not a number at all.

    A number that cannot be one of EM's (``Infinity``, ``1e999999``, 5,000 digits, beyond Int64)
    is not guessed at and not dropped: it is an ``EMResponseError`` naming the value. Long texts are
    refused before ``int()`` (whose digit limit raises since Python 3.11) and ``float()`` run.
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, float) or (isinstance(value, str) and len(value.strip()) > MAX_NUMBER_TEXT):
        return _checked_int(value)
    try:
        number = int(value)
    except (TypeError, ValueError):
        return _checked_int(value)
    return _in_range(number, value)


def _checked_int(value):
    text = value if isinstance(value, float) else str(value).strip()
    if isinstance(text, str) and len(text) > MAX_NUMBER_TEXT:
        if NUMBER_TEXT_RE.match(text):
            raise EMResponseError("a numeric field holds %s... (%d characters), not a number EM can send"
                                  % (text[:20], len(text)))
        return None
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    if not float("-inf") < number < float("inf"):  # also False for NaN
        raise EMResponseError("a numeric field holds %r, not a finite number" % (text,))
    return _in_range(int(number), value)


def _in_range(number, value):
    if abs(number) > MAX_INT_MAGNITUDE:
        raise EMResponseError("a numeric field holds %s, beyond what EM can send" % (str(value)[:40],))
    return number


def finite_number(value):
    """``value`` as a float when it is a finite number, else None (not a number, ``nan``, ``inf``).

    The one check of the options given as numbers (timeouts, policy hours, cache hours, the EDA source's
    seconds): ``nan`` passes every ``< 0`` check and then compares false with every age (an RPO never
    exceeded), ``inf`` waits for ever or overflows a date. Callers word their own error, naming the option.
    """
    if isinstance(value, bool):
        return float(value)  # as float() does: the argspec's own conversion of yes/no to a float option
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int past a double (10 ** 400)
        return None
    return number if math.isfinite(number) else None


def finite_over(value, low, or_equal=False):
    """Whether ``value`` is a finite number (finite_number) above ``low``, or equal to it with ``or_equal``."""
    number = finite_number(value)
    return number is not None and (number > low or (or_equal and number == low))


def to_bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def to_datetime(value):
    """EM DateTime -> ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` in UTC (fraction as sent, <= 6 digits).

    EM sends 0-7 fraction digits with trailing zeros dropped; zone ``Z`` for session times, but
    schedule fields appear unzoned or with offsets (em-api-facts.md 5) - naive means UTC here.
    The grammar is em_time's; EM always sends seconds, so a shorter time is not read as one.
    Anything unparsable is returned unchanged rather than lost.
    """
    text = to_text(value)
    if not text:
        return None
    parts = em_time.split_iso(text)
    if parts is None or parts[5] is None:
        return text
    year, month, day, hour, minute, second, fraction, zone = parts
    if zone and zone.upper() != "Z":
        try:
            return em_time.format_z(em_time.from_parts(parts))
        except ValueError:
            return text
    # UTC already: text slicing, no datetime (this runs for every time of every item)
    fraction = (fraction or "")[:6].rstrip("0")
    return "%s-%s-%sT%s:%s:%s%sZ" % (year, month, day, hour, minute, second, "." + fraction if fraction else "")


def guid_of(text):
    """Bare lower-case GUID at the end of a URN or an Href path (None if there is none)."""
    if not text:
        return None
    path = str(text).split("?", 1)[0].rstrip("/")
    match = GUID_IN_TEXT_RE.search(path.rsplit("/", 1)[-1].rsplit(":", 1)[-1])
    return match.group(0).lower() if match else None
