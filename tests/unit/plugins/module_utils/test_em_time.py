"""em_time: the one ISO 8601 grammar, its fast path, the zone parser and the 'Z' formatter."""
import itertools
import sys
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_time

UTC = timezone.utc


@pytest.mark.parametrize("text, expected", [
    ("2025-06-05T01:04:29Z", datetime(2025, 6, 5, 1, 4, 29, tzinfo=UTC)),
    ("2025-06-05T01:04:29.56Z", datetime(2025, 6, 5, 1, 4, 29, 560000, tzinfo=UTC)),
    ("2025-06-05T01:04:29.1234567Z", datetime(2025, 6, 5, 1, 4, 29, 123456, tzinfo=UTC)),
    ("2025-06-05T03:04:29+02:00", datetime(2025, 6, 5, 1, 4, 29, tzinfo=UTC)),
    ("2025-06-04T20:34:29-0430", datetime(2025, 6, 5, 1, 4, 29, tzinfo=UTC)),
    ("2025-06-05T03:04:29+02", datetime(2025, 6, 5, 1, 4, 29, tzinfo=UTC)),
    ("2025-06-05T01:04:29", datetime(2025, 6, 5, 1, 4, 29, tzinfo=UTC)),
    ("2025-06-05 01:04", datetime(2025, 6, 5, 1, 4, tzinfo=UTC)),
    ("2025-06-05", datetime(2025, 6, 5, tzinfo=UTC)),
    (" 2025-06-05t01:04:29z ", datetime(2025, 6, 5, 1, 4, 29, tzinfo=UTC)),
])
def test_parse_iso_reads_em_strings_and_offsets_as_utc(text, expected):
    moment = em_time.parse_iso(text)
    assert moment == expected and moment.utcoffset() == timedelta(0)


def test_parse_iso_empty_datetime_and_garbage():
    assert em_time.parse_iso(None) is None
    assert em_time.parse_iso("") is None
    assert em_time.parse_iso(datetime(2025, 6, 5, 1, 0)) == datetime(2025, 6, 5, 1, 0, tzinfo=UTC)
    plus_two = timezone(timedelta(hours=2))
    assert em_time.parse_iso(datetime(2025, 6, 5, 3, 0, tzinfo=plus_two)).hour == 1
    for bad in ("yesterday", "2025-13-01", "2025-02-30T00:00:00Z", "2025-06-05T25:00:00Z"):
        with pytest.raises(ValueError):
            em_time.parse_iso(bad)


@pytest.mark.parametrize("text", ["2025-06-05T01:04:29+24:00", "2025-06-05T01:04:29-99:00",
                                  "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_zones_and_results_that_cannot_exist_are_value_errors(text):
    with pytest.raises(ValueError):
        em_time.parse_iso(text)


@pytest.mark.parametrize("zone, minutes", [(None, 0), ("Z", 0), ("z", 0), ("+02", 120), ("+0230", 150),
                                           ("-04:30", -270), ("+00:00", 0)])
def test_parse_zone(zone, minutes):
    assert em_time.parse_zone(zone) == timedelta(minutes=minutes)


def test_format_z_trims_the_fraction_and_converts_to_utc():
    plus_two = timezone(timedelta(hours=2))
    assert em_time.format_z(datetime(2025, 6, 5, 3, 4, 29, 560000, tzinfo=plus_two)) == "2025-06-05T01:04:29.56Z"
    assert em_time.format_z(datetime(2025, 6, 5, 3, 4, 29, 560000, tzinfo=plus_two), fraction=False) \
        == "2025-06-05T01:04:29Z"
    assert em_time.format_z(datetime(2025, 6, 5, 1, 4, 29, tzinfo=UTC)) == "2025-06-05T01:04:29Z"
    assert em_time.format_z(None) is None


def test_fast_time_parser_agrees_with_the_general_one(monkeypatch):
    """parse_iso's C fast path must accept nothing the regex would read differently.

    (Moved with the parser from the compliance tests, where it tested _compliance.sessions.)
    """
    real_fast = em_time._fast_parse

    def general(text):
        monkeypatch.setattr(em_time, "_fast_parse", lambda value: None)
        try:
            return em_time.parse_iso(text)
        finally:
            monkeypatch.setattr(em_time, "_fast_parse", real_fast)

    bases = ["2025-06-05T01:04:29", "2024-02-29T23:59:59", "2025-12-31T00:00:00"]
    fractions = ["", ".5", ".56", ".123", ".1234", ".123456", ".1234567", ".", ".12a"]
    tails = ["Z", "z", "", "+02:00", " Z"]
    fast_taken = 0
    for base, fraction, tail in itertools.product(bases, fractions, tails):
        text = base + fraction + tail
        try:
            expected = general(text)
        except ValueError:
            expected = ValueError
        try:
            got = em_time.parse_iso(text)
        except ValueError:
            got = ValueError
        assert got == expected, text
        fast_taken += real_fast(text) is not None
    # the comparison means something only if the fast path really answered: every 'Z' text with 0-6
    # fraction digits (Python < 3.11's fromisoformat reads only 0, 3 or 6 of them)
    assert fast_taken == 3 * (6 if sys.version_info >= (3, 11) else 3), fast_taken


def test_format_z_writes_iso_8601_years_below_1000_with_four_digits():
    """glibc's strftime('%Y') wrote year 1 as '1': not ISO 8601, and parse_iso could not read it back."""
    moment = datetime(1, 1, 1, 0, 0, 0, 500000, tzinfo=timezone.utc)
    assert em_time.format_z(moment) == "0001-01-01T00:00:00.5Z"
    assert em_time.format_z(moment, fraction=False) == "0001-01-01T00:00:00Z"
    assert em_time.format_z(datetime(2026, 11, 29, 6, 0, 0, 120, tzinfo=timezone.utc)) == "2026-11-29T06:00:00.00012Z"
