# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Building EM query filter expressions that values cannot escape from.

EM's filter grammar (em-api-facts.md 2.4): ``<field><op><value>``, ``;`` = AND, ``,`` = OR,
parentheses group. Values may be bare or wrapped in double quotes with inner quotes doubled;
unquoted spaces are silently dropped by EM. How EM treats ``;`` ``,`` ``(`` ``)`` inside a quoted
value is not documented [UNCONFIRMED]; the emulator protects everything up to the closing quote.

So the rule here is: every value is always wrapped in ``"..."`` with inner ``"`` doubled,
control characters are refused, and the whole expression is percent-encoded when put in the URL
(see ``encode_query``). A value can then never change the meaning of the expression.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 is not supported, kept for sanity tests
    from urllib import quote  # type: ignore

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_time
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMValidationError

UTC = datetime.timezone.utc
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
URN_RE = re.compile(r"^urn:veeam:([A-Za-z]+):(.+)$", re.IGNORECASE)
RELATIVE_RE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
RELATIVE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
COMPARISON_OPERATORS = ("==", "!=", "<", ">", "<=", ">=")


def _is_control(char):
    """C0/C1 controls, DEL and the Unicode line/paragraph separators: never legal in a value."""
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029)


def refuse_control_characters(value, option):
    """Fail with the option name and the (repr of the) value if it contains a control character."""
    for char in value:
        if _is_control(char):
            raise EMValidationError(
                "option %s: value %r contains the control character %r, which EM filters cannot carry"
                % (option, value, char))
    return value


def quote_value(value, option):
    """Wrap one value in double quotes, doubling inner quotes (EM's only escape)."""
    text = value if isinstance(value, str) else str(value)
    refuse_control_characters(text, option)
    return '"%s"' % text.replace('"', '""')


def comparison(field, operator, value, option):
    """``Field<op>"value"`` with a validated operator and a quoted value."""
    if operator not in COMPARISON_OPERATORS:
        raise EMValidationError("internal: unknown filter operator %r" % operator)
    return "%s%s%s" % (field, operator, quote_value(value, option))


def any_of(field, values, option, operator="=="):
    """OR group for a list of values: one clause bare, several in parentheses."""
    clauses = [comparison(field, operator, value, option) for value in values]
    if not clauses:
        return None
    if len(clauses) == 1:
        return clauses[0]
    return "(%s)" % ",".join(clauses)


def check_raw_filter(expression, option="filter"):
    """Accept a user-written EM expression only if it is self-contained.

    It is ANDed with the typed options inside parentheses; unbalanced parentheses or an open
    quote would let it escape that group and change what the typed options mean.
    """
    refuse_control_characters(expression, option)
    depth = 0
    in_quotes = False
    index = 0
    while index < len(expression):
        char = expression[index]
        if in_quotes:
            if char == '"':
                if expression[index + 1:index + 2] == '"':
                    index += 1  # doubled quote: a literal quote inside the value
                else:
                    in_quotes = False
        elif char == '"':
            in_quotes = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise EMValidationError("option %s: %r closes a parenthesis it never opened" % (option, expression))
        index += 1
    if in_quotes:
        raise EMValidationError("option %s: %r has an unterminated double quote" % (option, expression))
    if depth:
        raise EMValidationError("option %s: %r has an unclosed parenthesis" % (option, expression))
    if not expression.strip():
        raise EMValidationError("option %s: the filter expression is empty" % option)
    return expression


def all_of(clauses, raw_filter=None):
    """AND the typed clauses and, in its own parentheses, the raw expression."""
    parts = [clause for clause in clauses if clause]
    if raw_filter:
        parts.append("(%s)" % check_raw_filter(raw_filter))
    return ";".join(parts) or None


def encode_query(params):
    """Build ``a=b&c=d`` percent-encoding every name and value (nothing left for EM to misread).

    ``quote(safe='')`` leaves only ``A-Z a-z 0-9 _ . - ~`` bare, so ``; , ( ) = < > ! " & + % #``,
    spaces and non-ASCII (as UTF-8) are all encoded.
    """
    return "&".join("%s=%s" % (quote(str(name), safe=""), quote(str(value), safe=""))
                    for name, value in params if value is not None)


def canonical_choice(value, choices, option):
    """Case-insensitive match against the documented enum values; returns the canonical spelling."""
    text = value if isinstance(value, str) else str(value)
    for choice in choices:
        if text.strip().lower() == choice.lower():
            return choice
    raise EMValidationError("option %s: %r is not one of %s" % (option, value, ", ".join(choices)))


def canonical_uid(value, kind, option):
    """Accept ``urn:veeam:<Kind>:<guid>`` or a bare GUID; return the URN with a lower-case GUID.

    EM documents both forms as filter values (em-api-facts.md 2.4); we send the URN, which
    every documented example accepts.
    """
    text = (value if isinstance(value, str) else str(value)).strip()
    guid = text
    match = URN_RE.match(text)
    if match:
        if match.group(1).lower() != kind.lower():
            raise EMValidationError("option %s: %r is a %s URN, expected urn:veeam:%s:<guid> or a bare GUID"
                                    % (option, value, match.group(1), kind))
        guid = match.group(2)
    if not GUID_RE.match(guid):
        raise EMValidationError("option %s: %r is neither urn:veeam:%s:<guid> nor a GUID" % (option, value, kind))
    return "urn:veeam:%s:%s" % (kind, guid.lower())


def bare_guid(value, kind, option):
    """The lower-case GUID of a URN or GUID (for resource URLs such as /backupTaskSessions/{guid})."""
    return canonical_uid(value, kind, option).rsplit(":", 1)[1]


def parse_datetime(value, option, now=None):
    """Parse ISO 8601 (offset or Z; naive = UTC; date only = midnight UTC) or a relative window.

    Relative values (``30s``, ``90m``, ``24h``, ``7d``, ``2w``) mean "that long before now".
    Returns an aware UTC datetime; ``format_filter_datetime`` renders it for EM, which
    "accepts only UTC-formatted DateTime values" (em-api-facts.md 2.4).
    """
    if isinstance(value, datetime.datetime):
        return em_time.as_utc(value)
    text = value if isinstance(value, str) else str(value)
    relative = RELATIVE_RE.match(text)
    if relative:
        now = now or datetime.datetime.now(UTC)
        seconds = int(relative.group(1)) * RELATIVE_UNITS[relative.group(2).lower()]
        try:
            return (now - datetime.timedelta(seconds=seconds)).astimezone(UTC)
        except OverflowError:  # before year 1 (a traceback, 'MODULE FAILURE', before: attack, session 15)
            raise EMValidationError("option %s: %r reaches back before the year 1; give a shorter window or an "
                                    "ISO 8601 date/time" % (option, value))
    parts = em_time.split_iso(text)
    if parts is None:
        raise EMValidationError(
            "option %s: %r is not an ISO 8601 date/time (2025-06-05T01:04:29Z, +02:00 offsets allowed) "
            "nor a relative window such as 30s, 90m, 24h, 7d, 2w" % (option, value))
    try:
        return em_time.from_parts(parts)
    except ValueError as exc:
        raise EMValidationError("option %s: %r is not a valid date/time: %s" % (option, value, exc))


def format_filter_datetime(moment):
    """EM filter form: UTC, whole seconds, ``Z`` (fractions are dropped, i.e. rounded down)."""
    return em_time.format_z(moment, fraction=False)
