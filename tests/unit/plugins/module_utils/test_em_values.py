"""em_values: EM's scalar values to typed ones (moved from test_em_parse with the code)."""
import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_values


@pytest.mark.parametrize("value, expected", [
    ("2025-06-05T01:04:29.56Z", "2025-06-05T01:04:29.56Z"),
    ("2025-06-05T01:04:29.5600000Z", "2025-06-05T01:04:29.56Z"),
    ("2025-08-16T05:25:01.879599Z", "2025-08-16T05:25:01.879599Z"),
    ("2025-08-16T05:25:01.8795991Z", "2025-08-16T05:25:01.879599Z"),
    ("2025-08-16T05:25:01.000Z", "2025-08-16T05:25:01Z"),
    ("2014-10-19T05:23:44Z", "2014-10-19T05:23:44Z"),
    ("2019-10-23T22:00:00+02:00", "2019-10-23T20:00:00Z"),
    ("2019-10-23T01:00:00.5-03:00", "2019-10-23T04:00:00.5Z"),
    ("2019-10-23T14:00:00", "2019-10-23T14:00:00Z"),
    ("1753-01-01T00:00:00Z", "1753-01-01T00:00:00Z"),
    ("", None),
    (None, None),
    ("garbage", "garbage"),
])
def test_em_datetimes_normalise_to_utc_z(value, expected):
    assert em_values.to_datetime(value) == expected


@pytest.mark.parametrize("value, expected", [("0", 0), (0, 0), ("12884901888", 12884901888), ("", None),
                                             (None, None), ("x", None), (True, None), ("1.0", 1)])
def test_to_int(value, expected):
    assert em_values.to_int(value) == expected


@pytest.mark.parametrize("value, expected", [("true", True), ("False", False), (True, True), (None, None),
                                             ("yes", None)])
def test_to_bool(value, expected):
    assert em_values.to_bool(value) == expected


def test_guid_of():
    assert em_values.guid_of("https://em/api/backupSessions/35C24055-BDEE-4E43-B655-A42DE408D2EC?format=Entity") == \
        "35c24055-bdee-4e43-b655-a42de408d2ec"
    assert em_values.guid_of("urn:veeam:Job:35c24055-bdee-4e43-b655-a42de408d2ec") == \
        "35c24055-bdee-4e43-b655-a42de408d2ec"
    assert em_values.guid_of("https://em/api/tasks/task-5") is None
    assert em_values.guid_of(None) is None


@pytest.mark.parametrize("value, expected", [
    ("0001-01-01T00:30:00+01:00", "0001-01-01T00:30:00+01:00"),   # out of range once moved to UTC: kept as sent
    ("2025-13-01T00:00:00+02:00", "2025-13-01T00:00:00+02:00"),   # no such month: kept as sent, no traceback
    ("2019-10-23T22:00:00+02", "2019-10-23T20:00:00Z"),           # em_time's grammar: +HH is an offset too
    ("2019-10-23T22:00", "2019-10-23T22:00"),                     # EM always sends seconds: not read as a time
])
def test_times_em_time_cannot_place_are_kept_as_sent(value, expected):
    assert em_values.to_datetime(value) == expected


@pytest.mark.parametrize("value, expected", [
    (0, 0.0), (1.5, 1.5), ("2.5", 2.5), (" 3 ", 3.0), (-4, -4.0), (True, 1.0), (1e308, 1e308),
    (float("nan"), None), ("nan", None), ("NaN", None), (float("inf"), None), ("-inf", None), ("1e999", None),
    (10 ** 400, None), ("", None), ("soon", None), (None, None), ([1], None), ({}, None),
])
def test_finite_number_is_a_float_or_none(value, expected):
    assert em_values.finite_number(value) == expected


@pytest.mark.parametrize("value, low, or_equal, expected", [
    (1, 0, False, True), (0, 0, False, False), (0, 0, True, True), (-0.5, 0, True, False),
    (float("nan"), 0, True, False), (float("inf"), 0, False, False), ("x", 0, True, False), (None, 0, True, False),
])
def test_finite_over_refuses_what_is_not_a_finite_number(value, low, or_equal, expected):
    assert em_values.finite_over(value, low, or_equal) is expected
