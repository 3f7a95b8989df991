"""Filter building: values are always quoted, never able to change the query's meaning."""
import datetime
import re
from urllib.parse import unquote

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_filter_expr as f
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMValidationError

UTC = datetime.timezone.utc
NOW = datetime.datetime(2025, 6, 5, 12, 0, 0, tzinfo=UTC)


def split_top_level(expression):
    """Tokenise an EM expression the way the server must: quoted strings are opaque.

    Returns the structural characters (; , ( )) outside quotes and the quoted values, so a
    test can prove a value did not add structure.
    """
    structure, values, index, current = [], [], 0, None
    while index < len(expression):
        char = expression[index]
        if current is not None:
            if char == '"' and expression[index + 1:index + 2] == '"':
                current += '"'
                index += 1
            elif char == '"':
                values.append(current)
                current = None
            else:
                current += char
        elif char == '"':
            current = ""
        elif char in ";,()":
            structure.append(char)
        index += 1
    assert current is None, "unterminated quote in %r" % expression
    return structure, values


TRICKY_VALUES = [
    "plain",
    "with space",
    'say "hi"',
    '"',
    '""',
    'a";Result=="Success',          # injection attempt: close the quote, add an AND
    'x",Name=="y',                   # injection attempt: OR
    "a);(b",                        # parentheses
    "Name==other",
    "a;b,c",
    "!=<>=",
    "50% & more + #1",
    "C:\\Backup\\Job 1\\file.vbk",
    "Ünïcødé ✓ 日本",
    "trailing space ",
    "",
    "'single'",
    "a&filter=State==Completed",     # attempt to inject a URL parameter
]


@pytest.mark.parametrize("value", TRICKY_VALUES)
def test_quoted_value_round_trips_and_adds_no_structure(value):
    clause = f.comparison("Name", "==", value, "name")
    assert clause.startswith('Name=="') and clause.endswith('"')
    structure, values = split_top_level(clause)
    assert structure == []
    assert values == [value]


@pytest.mark.parametrize("value", TRICKY_VALUES)
def test_encoded_filter_has_no_bare_separators(value):
    expression = f.all_of([f.comparison("Name", "==", value, "name"), 'Result=="Failed"'])
    encoded = f.encode_query([("filter", expression)])
    name, _sep, encoded_value = encoded.partition("=")
    assert name == "filter"
    assert re.fullmatch(r"[A-Za-z0-9_.~%-]*", encoded_value), encoded_value
    assert unquote(encoded_value) == expression


def test_encode_query_encodes_every_special_character():
    encoded = f.encode_query([("filter", ';,()=<>!" &+%#')])
    assert encoded == "filter=%3B%2C%28%29%3D%3C%3E%21%22%20%26%2B%25%23"


def test_encode_query_non_ascii_is_utf8():
    assert f.encode_query([("filter", "é")]) == "filter=%C3%A9"


def test_encode_query_skips_none():
    assert f.encode_query([("type", "Task"), ("format", None), ("page", 2)]) == "type=Task&page=2"


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "tab\there", "nul\x00", "del\x7f", "c1\x85", "ls\u2028"])
def test_control_characters_are_refused_naming_option_and_value(value):
    with pytest.raises(EMValidationError) as error:
        f.quote_value(value, "vm_display_name")
    assert "vm_display_name" in str(error.value)
    assert repr(value) in str(error.value)


def test_any_of_single_and_group():
    assert f.any_of("Result", ["Failed"], "result") == 'Result=="Failed"'
    assert f.any_of("Result", ["Failed", "Warning"], "result") == '(Result=="Failed",Result=="Warning")'
    assert f.any_of("Result", [], "result") is None


def test_all_of_and_raw_filter_in_parentheses():
    expression = f.all_of(['A=="1"', None, '(B=="2",B=="3")'], raw_filter="C==x,D==y")
    assert expression == 'A=="1";(B=="2",B=="3");(C==x,D==y)'
    assert f.all_of([]) is None


@pytest.mark.parametrize("raw", ["a==1),(b==2", "(a==1", 'Name=="x', ")(", 'Name=="a)"),(b==1'])
def test_raw_filter_that_could_escape_its_group_is_refused(raw):
    with pytest.raises(EMValidationError) as error:
        f.check_raw_filter(raw)
    assert "filter" in str(error.value)


@pytest.mark.parametrize("raw", ['Name=="a)b"', 'Name=="say ""(hi"""', "(a==1;b==2),(c==3)", "Result>=Warning"])
def test_raw_filter_balanced_is_accepted(raw):
    assert f.check_raw_filter(raw) == raw


def test_raw_filter_control_characters_refused():
    with pytest.raises(EMValidationError):
        f.check_raw_filter("Result==Failed\n;x==1")


def test_unknown_operator_is_an_internal_error():
    with pytest.raises(EMValidationError):
        f.comparison("Name", "=~", "x", "name")


@pytest.mark.parametrize("value, expected", [
    ("failed", "Failed"), ("FAILED", "Failed"), (" Warning ", "Warning"), ("success", "Success"),
])
def test_enum_case_insensitive_canonical(value, expected):
    assert f.canonical_choice(value, ("Success", "Warning", "Failed"), "result") == expected


def test_enum_unknown_value_lists_choices():
    with pytest.raises(EMValidationError) as error:
        f.canonical_choice("Broken", ("Success", "Warning", "Failed"), "result")
    assert "result" in str(error.value) and "Success, Warning, Failed" in str(error.value)


GUID = "38ceb150-e0a8-4f87-8a17-243afc1b98f4"


@pytest.mark.parametrize("value", [GUID, GUID.upper(), "urn:veeam:BackupTaskSession:" + GUID,
                                   "URN:VEEAM:backuptasksession:" + GUID.upper(), " %s " % GUID])
def test_uid_accepts_urn_or_guid(value):
    assert f.canonical_uid(value, "BackupTaskSession", "uid") == "urn:veeam:BackupTaskSession:" + GUID
    assert f.bare_guid(value, "BackupTaskSession", "id") == GUID


@pytest.mark.parametrize("value", ["not-a-guid", GUID[:-1], GUID + "0", "urn:veeam:Job:" + GUID,
                                   "urn:veeam:BackupTaskSession:xyz", GUID + '";x==1', ""])
def test_uid_rejects_bad_shapes_and_wrong_kinds(value):
    with pytest.raises(EMValidationError) as error:
        f.canonical_uid(value, "BackupTaskSession", "uid")
    assert "uid" in str(error.value)


@pytest.mark.parametrize("value, expected", [
    ("2025-06-05T01:04:29Z", "2025-06-05T01:04:29Z"),
    ("2025-06-05T01:04:29.56Z", "2025-06-05T01:04:29Z"),
    ("2025-06-05T01:04:29.1234567Z", "2025-06-05T01:04:29Z"),
    ("2025-06-05T03:04:29+02:00", "2025-06-05T01:04:29Z"),
    ("2025-06-05T03:04:29+0200", "2025-06-05T01:04:29Z"),
    ("2025-06-04T22:04:29-03:00", "2025-06-05T01:04:29Z"),
    ("2025-06-05T01:04:29", "2025-06-05T01:04:29Z"),      # naive = UTC
    ("2025-06-05 01:04:29", "2025-06-05T01:04:29Z"),
    ("2025-06-05T01:04", "2025-06-05T01:04:00Z"),
    ("2025-06-05", "2025-06-05T00:00:00Z"),
    ("2025-06-05t01:04:29z", "2025-06-05T01:04:29Z"),
    ("24h", "2025-06-04T12:00:00Z"),
    ("7d", "2025-05-29T12:00:00Z"),
    ("90m", "2025-06-05T10:30:00Z"),
    ("30s", "2025-06-05T11:59:30Z"),
    ("2w", "2025-05-22T12:00:00Z"),
    (" 2H ", "2025-06-05T10:00:00Z"),
    ("0h", "2025-06-05T12:00:00Z"),
])
def test_datetimes_become_utc_z(value, expected):
    assert f.format_filter_datetime(f.parse_datetime(value, "created_after", now=NOW)) == expected


def test_datetime_objects_are_accepted():
    naive = datetime.datetime(2025, 6, 5, 1, 2, 3)
    assert f.format_filter_datetime(f.parse_datetime(naive, "x")) == "2025-06-05T01:02:03Z"


def test_format_filter_datetime_itself_converts_to_utc():
    # Callers pass datetimes from other places too (em_job_session_info: the earliest session minus a margin);
    # EM "accepts only UTC" (em-api-facts.md 2.4), so the formatter must not trust its input's zone.
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    moment = datetime.datetime(2025, 6, 5, 3, 2, 3, 999999, tzinfo=plus_two)
    assert f.format_filter_datetime(moment) == "2025-06-05T01:02:03Z"


@pytest.mark.parametrize("value", ["yesterday", "24", "h24", "-5d", "5y", "2025-13-01", "2025-02-30T00:00:00Z",
                                   "2025-06-05T25:00:00Z", "2025/06/05", "2025-06-05T01:04:29+25:00x", "",
                                   "2025-06-05T01:04:29Z;Result==Failed"])
def test_bad_datetimes_fail_naming_the_option(value):
    with pytest.raises(EMValidationError) as error:
        f.parse_datetime(value, "ended_before", now=NOW)
    assert "ended_before" in str(error.value)


def test_relative_without_now_uses_current_time():
    before = datetime.datetime.now(UTC)
    moment = f.parse_datetime("1h", "created_after")
    assert before - datetime.timedelta(hours=1, seconds=5) <= moment <= before - datetime.timedelta(minutes=59)


def test_a_time_out_of_range_after_its_offset_is_an_option_error_not_a_traceback():
    # em_time turns datetime's OverflowError into ValueError, so the option is named (issue 16)
    with pytest.raises(EMValidationError, match="option created_after: '0001-01-01T00:30:00\\+01:00' is not a valid"):
        f.parse_datetime("0001-01-01T00:30:00+01:00", "created_after", now=NOW)


@pytest.mark.parametrize("value", ["99999999d", "9999999999999999999999d", "999999999999w", "739407d"])
def test_a_relative_window_reaching_before_year_one_names_the_option(value):
    """Found (attack, session 15): a relative window with a large count overflowed (OverflowError in
    parse_datetime: a module traceback, 'MODULE FAILURE'). Now it is an option error naming the value."""
    with pytest.raises(EMValidationError, match="option created_after: %r reaches back before the year 1" % value):
        f.parse_datetime(value, "created_after", now=NOW)


def test_a_relative_window_back_to_year_one_is_still_a_time():
    assert f.parse_datetime("739406d", "created_after", now=NOW) == datetime.datetime(1, 1, 1, 12, tzinfo=UTC)
