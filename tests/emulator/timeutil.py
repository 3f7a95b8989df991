"""Time helpers: the emulator keeps every timestamp as integer microseconds since the epoch (UTC).

Integers compare and bisect fast on 150k-item lists; formatting follows EM's own style
(``2025-06-05T01:04:29.56Z``: fractional seconds with trailing zeros dropped, ``Z`` suffix).
"""
import calendar
import re
import time

US = 1_000_000
DAY_US = 86400 * US

_DT_RE = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[Tt ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


def parse_dt(text):
    """Parse an ISO-8601-ish date/time into epoch microseconds; ``ValueError`` if unparseable.

    Accepts what EM clients send in filters: with or without ``Z``, 0-7 (we allow 9) fraction
    digits, date-only (midnight UTC), ``+hh:mm`` offsets. Unzoned values are UTC (Centreon style).
    """
    m = _DT_RE.match(text or "")
    if not m:
        raise ValueError("not a DateTime value: %r" % (text,))
    y, mo, d, hh, mi, ss, frac, tz = m.groups()
    try:
        secs = calendar.timegm((int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), 0, 0, 0))
        # timegm does not validate ranges; round-trip to reject 2025-13-40 and friends
        check = time.gmtime(secs)
        if (check.tm_year, check.tm_mon, check.tm_mday) != (int(y), int(mo), int(d)) or int(hh or 0) > 23 \
                or int(mi or 0) > 59 or int(ss or 0) > 59:
            raise ValueError
    except (ValueError, OverflowError):
        raise ValueError("not a valid date: %r" % (text,))
    us = secs * US
    if frac:
        us += int((frac + "000000")[:6])
    if tz and tz.upper() not in ("Z", "UTC"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        off = int(digits[:2]) * 3600 + (int(digits[2:4]) if len(digits) > 2 else 0) * 60
        us -= sign * off * US
    return us


def fmt_dt(us):
    """EM DateTime text for epoch microseconds (``None`` stays ``None``)."""
    if us is None:
        return None
    s, frac = divmod(us, US)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s))
    if frac:
        return "%s.%sZ" % (base, ("%06d" % frac).rstrip("0"))
    return base + "Z"


def fmt_name_ts(us):
    """Timestamp part of a session Name: ``yyyy-MM-dd HH:mm:ss`` (seconds, as in EM examples)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(us // US))


def now_us():
    return int(time.time() * US)
