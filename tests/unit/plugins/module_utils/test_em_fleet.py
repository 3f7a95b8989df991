"""The fleet merge (module_utils/em_fleet.py) and its reports (em_fleet_report.py), issue 19: one verdict from many EMs, never a false compliant."""
import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_fleet, em_fleet_report
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_fleet import FleetInputError, merge

NOW = "2026-11-29T06:00:00Z"


@pytest.fixture(autouse=True)
def merge_clock(monkeypatch):
    """The controller's clock at NOW: a merge without ``now`` measures the parts' ages from the clock, and the
    parts of these tests are NOW's."""
    monkeypatch.setattr(em_fleet, "clock", lambda: datetime(2026, 11, 29, 6, 0, 0, tzinfo=timezone.utc))


def summary(vms=10, violation=0, warning=0, errors=0, silent=0, violations=None):
    return {"vms_total": vms, "vms_compliant": vms - violation - warning, "vms_warning": warning,
            "vms_violation": violation, "servers_total": 2, "servers_silent": silent, "jobs_total": 3,
            "jobs_failed": 0, "violations_total": violation + silent if violations is None else violations,
            "warnings_total": warning, "errors_total": errors, "reasons": {"rpo_exceeded": violation}, "no_data": False}


def part(em, status="compliant", **counts):
    texts = ["vbr01 / vm%d: rpo_exceeded" % i for i in range(counts.get("violation", 0))]
    return {"em": em, "status": status, "summary": summary(**counts), "first_violations": texts,
            "violations_omitted": 0, "first_errors": [], "errors_omitted": 0,
            "source": {"em_server": "https://%s:9398" % em, "username": "svc"},
            "generated_at": NOW, "window": {"start": "2026-11-22T06:00:00Z", "end": NOW},
            "reports": {"html": "/r/%s/compliance.html" % em}}


def unreadable(em):
    return {"em": em, "status": "error", "summary": summary(vms=0, errors=1), "first_errors": [
        "(all): read_error - Enterprise Manager could not be read: HTTP 401"], "errors_omitted": 0}


def by_em(result):
    return dict((entry["em"], entry) for entry in result["ems"])


# --- statuses ------------------------------------------------------------------------------------

def test_one_unreadable_em_makes_the_fleet_error_and_the_others_still_appear():
    result = merge([part("em-a"), part("em-b", "violation", violation=2), unreadable("em-c")], now=NOW)
    assert result["status"] == "error"
    assert result["compliant"] is False
    ems = by_em(result)
    assert (ems["em-a"]["status"], ems["em-b"]["status"], ems["em-c"]["status"]) == ("compliant", "violation", "error")
    assert result["summary"]["ems_total"] == 3
    assert (result["summary"]["ems_error"], result["summary"]["ems_violation"], result["summary"]["ems_compliant"]) == (
        1, 1, 1)
    assert [e["em"] for e in result["errors"]] == ["em-c"]
    assert result["errors"][0]["code"] == "em_error"
    assert "HTTP 401" in result["errors"][0]["message"]
    # worst first
    assert [e["em"] for e in result["ems"]] == ["em-c", "em-b", "em-a"]


def test_all_compliant_is_compliant_and_warning_stays_compliant():
    assert merge([part("em-a"), part("em-b")], now=NOW)["status"] == "compliant"
    result = merge([part("em-a"), part("em-b", "warning", warning=1)], now=NOW)
    assert (result["status"], result["compliant"]) == ("warning", True)


def test_violation_beats_warning_and_error_beats_violation():
    assert merge([part("a", "warning", warning=1), part("b", "violation", violation=1)])["status"] == "violation"
    assert merge([part("b", "violation", violation=1), unreadable("c")])["status"] == "error"


def test_two_hosts_reading_the_same_em_are_named_in_a_warning():
    """Two inventory hosts pointing at one EM count its VMs twice: said in the result, the page and the stats."""
    twin = dict(part("em-b", "violation", vms=4, violation=1), source={"em_server": "https://EM-A:9398/", "username": "x"})
    result = merge([part("em-a", "violation", vms=4, violation=1), twin, part("em-c", vms=2)], now=NOW)
    assert [(w["code"], w["ems"], w["em_server"]) for w in result["warnings"]] == [
        ("same_em_twice", ["em-a", "em-b"], "https://em-a:9398")]
    assert "em-a and em-b read the same Enterprise Manager" in em_fleet_report.to_html(result)
    assert em_fleet.stats(result)["warnings"] == [result["warnings"][0]["message"]]
    assert merge([part("em-a"), part("em-b")], now=NOW)["warnings"] == []


def test_the_same_vm_name_on_two_ems_stays_two_vms():
    rows = [{"vm_display_name": "sql01", "vm_uid": "urn:VMware:Vm:x.vm-1", "backup_server_name": "vbr01",
             "status": "violation", "reasons": ["rpo_exceeded"]}]
    result = merge([part("em-a", "violation", vms=1, violation=1), part("em-b", "violation", vms=1, violation=1)],
                   now=NOW, vm_rows={"em-a": rows, "em-b": rows})
    assert result["summary"]["vms_total"] == 2
    assert result["summary"]["vms_violation"] == 2
    names = [(entry["em"], row["vm_display_name"]) for entry in result["ems"] for row in entry["vms"]]
    assert sorted(names) == [("em-a", "sql01"), ("em-b", "sql01")]
    junit = ET.fromstring(em_fleet_report.to_junit(result))
    vm_cases = [case for suite in junit.findall("testsuite") if suite.get("name") != "fleet"
                for case in suite.findall("testcase")]
    assert sorted(case.get("classname") for case in vm_cases) == ["em-a.vbr01", "em-b.vbr01"]


def test_counts_are_summed_per_em():
    result = merge([part("a", "violation", vms=10, violation=2), part("b", "warning", vms=7, warning=3)], now=NOW)
    s = result["summary"]
    assert (s["vms_total"], s["vms_violation"], s["vms_warning"], s["vms_compliant"]) == (17, 2, 3, 12)
    assert s["servers_total"] == 4
    assert s["jobs_total"] == 6


# --- never better than the evidence --------------------------------------------------------------

@pytest.mark.parametrize("override", [
    {"first_errors": ["(all): partial_view - the account sees part of EM"]},
    {"errors_omitted": 1},
    {"error": "the role failed before a verdict"},
    {"summary": summary(errors=1)},
    {"status": None},
])
def test_a_part_claiming_compliant_with_errors_is_error(override):
    claimed = dict(part("em-a"), **override)
    if claimed.get("status") is None:
        del claimed["status"]
    result = merge([claimed, part("em-b")], now=NOW)
    assert by_em(result)["em-a"]["status"] == "error"
    assert result["status"] == "error"


@pytest.mark.parametrize("override", [
    {"first_violations": ["vbr01 / vm1: rpo_exceeded"]},
    {"violations_omitted": 3},
    {"summary": summary(violation=1)},
    {"summary": summary(silent=1)},
    {"summary": summary(violations=1)},
])
def test_a_part_claiming_compliant_with_violations_is_violation(override):
    result = merge([dict(part("em-a"), **override)], now=NOW)
    assert result["status"] == "violation"
    assert result["compliant"] is False


def test_an_expected_em_without_a_part_is_an_error_not_a_gap():
    result = merge([part("em-a")], expected=["em-a", "em-b"], now=NOW)
    assert result["status"] == "error"
    missing = by_em(result)["em-b"]
    assert missing["status"] == "error"
    assert missing["missing"] is True
    assert [(e["em"], e["code"]) for e in result["errors"]] == [("em-b", "no_result")]
    assert result["summary"]["ems_total"] == 2


def test_an_empty_fleet_is_an_error_never_compliant():
    result = merge([], expected=[], now=NOW)
    assert result["status"] == "error"
    assert result["compliant"] is False
    assert [e["code"] for e in result["errors"]] == ["no_ems"]
    page = em_fleet_report.to_html(result)
    assert "no Enterprise Manager in the fleet" in page
    junit = ET.fromstring(em_fleet_report.to_junit(result))
    assert junit.get("errors") == "1"


def test_a_part_of_an_em_not_expected_is_kept_and_marked():
    result = merge([part("em-a"), part("em-x")], expected=["em-a"], now=NOW)
    assert by_em(result)["em-x"]["expected"] is False
    assert by_em(result)["em-a"]["expected"] is True


# --- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("parts, words", [
    ("em-a", "parts must be a list"),
    ([["em-a"]], "parts[0] must be a dict"),
    ([{"status": "compliant"}], "parts[0].em must name the EM"),
    ([{"em": "a", "status": "green"}], "parts[0].status must be one of"),
    ([{"em": "a", "status": "compliant", "colour": "green"}], "parts[0] has unknown keys colour"),
    ([{"em": "a", "status": "compliant", "summary": {"vms_total": -1}}], "parts[0].summary.vms_total must be a count"),
    ([{"em": "a", "status": "compliant", "summary": {"vms_total": "many"}}], "parts[0].summary.vms_total"),
    ([{"em": "a", "status": "compliant", "summary": {"vms_total": True}}], "parts[0].summary.vms_total"),
    # int(inf) and float(10 ** 400) raised OverflowError: a crash of the merge, not a named refusal
    ([{"em": "a", "status": "compliant", "summary": {"vms_total": float("inf")}}], "parts[0].summary.vms_total must be a count"),
    ([{"em": "a", "status": "compliant", "summary": {"vms_total": 10 ** 400}}], "parts[0].summary.vms_total must be a count"),
    ([{"em": "a", "status": "compliant", "summary": {"vms_total": float("nan")}}], "parts[0].summary.vms_total must be a count"),
    ([{"em": "a", "status": "compliant", "summary": {"vms_total": 2.5}}], "parts[0].summary.vms_total must be a count"),
    ([{"em": "a", "status": "compliant", "first_violations": "x"}], "parts[0].first_violations must be a list"),
    ([{"em": "a", "status": "compliant"}, {"em": "a", "status": "compliant"}], "EM 'a' has two parts"),
])
def test_bad_parts_are_named(parts, words):
    with pytest.raises(FleetInputError) as raised:
        merge(parts, now=NOW)
    assert words in str(raised.value)


def test_bad_now_and_vm_rows_are_named():
    with pytest.raises(FleetInputError, match="now must be a UTC time"):
        merge([part("a")], now="yesterday")
    with pytest.raises(FleetInputError, match="vm_rows names EMs without a part: b"):
        merge([part("a")], now=NOW, vm_rows={"b": []})
    with pytest.raises(FleetInputError, match="vm_rows\\['a'\\] must be a list"):
        merge([part("a")], now=NOW, vm_rows={"a": "rows"})


def test_counts_given_as_numeric_strings_are_read():
    """set_stats and extra vars can turn numbers into strings; a count that is a number is read as one."""
    claimed = part("a", "violation", violation=1)
    claimed["summary"] = dict((k, str(v)) if isinstance(v, int) and not isinstance(v, bool) else (k, v)
                              for k, v in claimed["summary"].items())
    assert merge([claimed], now=NOW)["summary"]["vms_violation"] == 1


# --- reports -------------------------------------------------------------------------------------

def test_reports_put_the_fleet_first_and_a_section_per_em():
    hostile = u'em "<b>" & \u00fc'
    result = merge([part("em-a"), part(hostile, "violation", violation=1), unreadable("em-c")], now=NOW)
    reports = em_fleet_report.render(result, ["json", "junit", "html"], report_dir="/r")
    assert json.loads(reports["json"]) == json.loads(json.dumps(result))
    junit = ET.fromstring(reports["junit"])
    first = junit.findall("testsuite")[0]
    assert first.get("name") == "fleet"
    assert (first.get("tests"), first.get("failures"), first.get("errors")) == ("3", "1", "1")
    assert (junit.get("tests"), junit.get("failures"), junit.get("errors")) == ("3", "1", "1")
    page = reports["html"]
    assert page.index('class="banner error"') < page.index('id="em-0"')
    assert page.count('<a id="em-') == 3
    assert hostile not in page
    assert "em &quot;&lt;b&gt;&quot; &amp; \u00fc" in page
    assert 'href="em-a/compliance.html"' in page  # per-EM reports linked relatively


def test_stats_are_small_and_bounded():
    parts = [unreadable("em-%02d" % i) for i in range(30)]
    view = em_fleet.stats(merge(parts, now=NOW), max_items=5)
    assert len(view["first_errors"]) == 5
    assert view["errors_omitted"] == 25
    assert view["status"] == "error"
    assert len(view["ems"]) == 30
    assert all(len(line) <= 310 for line in view["first_errors"])


def test_unknown_report_format_is_named():
    with pytest.raises(FleetInputError, match="report_formats: unknown format 'pdf'"):
        em_fleet_report.render(merge([part("a")], now=NOW), ["pdf"])


def test_the_suite_of_an_unreadable_em_carries_its_error_not_zero_tests():
    """The per-EM suite of an EM that could not be read was <testsuite tests="0" errors="0"/>: a CI view
    by suite showed that EM as an empty, green suite. It must carry the read error as an <error>."""
    result = merge([unreadable("em-bad"), part("em-a", vms=1)], now=NOW, vm_rows={"em-bad": [], "em-a": [
        {"vm_display_name": "sql01", "backup_server_name": "vbr01", "status": "compliant", "reasons": []}]})
    junit = ET.fromstring(em_fleet_report.to_junit(result))
    suites = dict((suite.get("name"), suite) for suite in junit.findall("testsuite"))
    assert suites["em-bad"].get("errors") == "1"
    assert suites["em-bad"].get("tests") == "1"
    errors = [case.find("error") for case in suites["em-bad"].findall("testcase")]
    assert "could not be read: HTTP 401" in errors[0].text
    assert (suites["em-a"].get("tests"), suites["em-a"].get("errors")) == ("1", "0")


# --- the fleet message (mail / webhook through the role's channels) ------------------------------

def test_the_message_lists_violations_and_errors_by_em_and_counts_what_it_leaves_out():
    em_a = dict(part("em-a", "violation", violation=3), violations_omitted=4)  # em-a listed 3 of 7
    result = merge([em_a, part("em-b", "violation", violation=2), unreadable("em-c")], now=NOW)
    message = em_fleet.message(result, "Fleet compliance", max_items=4)
    assert message["first_violations"] == ["em-a: vbr01 / vm0: rpo_exceeded", "em-a: vbr01 / vm1: rpo_exceeded",
                                           "em-a: vbr01 / vm2: rpo_exceeded", "em-b: vbr01 / vm0: rpo_exceeded"]
    assert message["violations_omitted"] == 3 + 4 + 2 - 4  # em-a's own 4 left out, and em-b's second
    assert message["first_errors"] == ["em-c: (all): read_error - Enterprise Manager could not be read: HTTP 401"]
    assert message["errors_omitted"] == 0
    assert message["headline"] == ("[ERROR] Fleet compliance - %d violation(s) on 5 VM(s) in 3 Enterprise "
                                   "Manager(s), 1 error(s)" % result["summary"]["violations_total"])
    counts = dict((count["title"], count["value"]) for count in message["counts"])
    assert counts["Enterprise Managers"] == "3 total, 0 compliant, 0 warning, 2 violation, 1 error"
    assert counts["VMs"] == "20 total, 15 compliant, 0 warning, 5 violation"
    assert message["generic"]["ems"] == {"em-a": "violation", "em-b": "violation", "em-c": "error"}
    assert message["generic"]["compliant"] is False and message["generic"]["status"] == "error"


def test_the_message_of_an_empty_fleet_names_the_fleet_error_and_never_passes():
    message = em_fleet.message(merge([], now=NOW), "t")
    assert message["generic"]["status"] == "error" and message["generic"]["compliant"] is False
    assert message["first_errors"] == ["(fleet): " + em_fleet.NO_EMS]


def test_message_lines_are_cut_to_300_characters_and_zero_items_lists_nothing():
    long_part = dict(part("em-a", "violation", violation=1), first_violations=["x" * 500])
    result = merge([long_part], now=NOW)
    line = em_fleet.message(result, "t")["first_violations"][0]
    assert len(line) == 300 and line.startswith("em-a: xxx") and line.endswith("...")
    none = em_fleet.message(result, "t", max_items=0)
    assert none["first_violations"] == [] and none["violations_omitted"] == 1


# --- a part is this run's, or it is not a pass ---------------------------------------------------

def dated(em, generated_at, window_end=None, status="compliant"):
    """A compliant part generated at ``generated_at`` (its window ending there unless told)."""
    return dict(part(em, status), generated_at=generated_at,
                window={"start": "2026-11-01T00:00:00Z", "end": window_end or generated_at})


@pytest.mark.parametrize("now", [NOW, None])
def test_a_part_left_from_an_earlier_night_is_an_error_naming_its_age(now):
    """An EM whose nightly run died before writing left last week's part: it was merged as tonight's and the
    fleet read compliant. It is an error of that EM, its age in hours said, with or without the merge's now."""
    result = merge([part("em-a"), dated("em-b", "2026-11-22T06:00:00Z")], now=now)
    assert (result["status"], result["compliant"]) == ("error", False)
    stale = by_em(result)["em-b"]
    assert (stale["status"], stale["time_error"], stale["age_hours"]) == ("error", "stale_part", 168.0)
    assert [(e["em"], e["code"]) for e in result["errors"]] == [("em-b", "stale_part")]
    assert "168.0 hours" in result["errors"][0]["message"] and "2026-11-22T06:00:00Z" in result["errors"][0]["message"]
    assert any(line.startswith("em-b: this part is 168.0 hours older than the merge's time") for line in em_fleet.stats(result)["first_errors"])
    assert (by_em(result)["em-a"]["status"], by_em(result)["em-a"]["age_hours"]) == ("compliant", 0.0)
    assert result["part_age"] == {"reference": NOW, "max_hours": 12.0}


def test_last_nights_part_is_caught_by_the_default_bound_when_tonights_run_started_earlier():
    """Last night's part of a run that started at 02:00 is 23 hours older than tonight's at 01:00: a bound of a day
    would take it for tonight's."""
    result = merge([dated("em-a", "2026-11-29T01:00:00Z"), dated("em-b", "2026-11-28T02:00:00Z")])
    assert by_em(result)["em-b"]["time_error"] == "stale_part"
    assert result["status"] == "error"


def test_the_age_bound_is_included_and_one_second_past_it_is_not():
    at_bound = merge([part("em-a"), dated("em-b", "2026-11-28T18:00:00Z")], now=NOW, max_part_age_hours=12)
    assert at_bound["status"] == "compliant"
    past = merge([part("em-a"), dated("em-b", "2026-11-28T17:59:59Z")], now=NOW, max_part_age_hours=12)
    assert by_em(past)["em-b"]["time_error"] == "stale_part"
    assert merge([part("em-a"), dated("em-b", "2026-11-28T17:59:59Z")], max_part_age_hours="12.5")["status"] == "compliant"


def test_a_window_ending_long_before_the_others_is_stale_too():
    result = merge([part("em-a"), dated("em-b", NOW, window_end="2026-11-26T06:00:00Z")], now=NOW)
    assert (by_em(result)["em-b"]["time_error"], by_em(result)["em-b"]["age_hours"]) == ("stale_part", 72.0)


def test_a_part_from_the_future_is_an_error_and_not_the_reference(monkeypatch):
    """A part dated ahead (a wrong clock) is no verdict of this run, and must not make the others look stale."""
    result = merge([part("em-a"), dated("em-b", "2026-11-29T07:00:01Z"), dated("em-c", "2026-11-29T06:59:59Z")], now=NOW)
    assert [(e["em"], e["code"]) for e in result["errors"]] == [("em-b", "future_part")]
    assert "1.0 hours after the merge's time 2026-11-29T06:00:00Z" in result["errors"][0]["message"]
    monkeypatch.setattr(em_fleet, "clock", lambda: datetime(2026, 11, 29, 6, 0, 0, tzinfo=timezone.utc))
    result = merge([part("em-a"), dated("em-b", "2026-12-20T06:00:00Z")])
    assert [(e["em"], e["code"]) for e in result["errors"]] == [("em-b", "future_part")]
    assert result["part_age"]["reference"] == NOW


@pytest.mark.parametrize("override, words", [
    ({"generated_at": None}, "this part has no generated_at"),
    ({"generated_at": "last night"}, "generated_at 'last night', not a time"),
    ({"generated_at": 1764396000}, "generated_at 1764396000, not a time"),
    ({"window": {"end": "soon"}}, "window.end 'soon', not a time"),
])
def test_a_part_without_a_readable_time_is_an_error_naming_the_em(override, words):
    """em-c's run failed before its verdict (no generated_at): its own error says why, not told twice."""
    result = merge([part("em-a"), dict(part("em-b"), **override), unreadable("em-c")], now=NOW)
    assert [(e["em"], e["code"]) for e in result["errors"]] == [("em-b", "no_time"), ("em-c", "em_error")]
    assert words in result["errors"][0]["message"]
    assert by_em(result)["em-c"]["first_errors"] == unreadable("em-c")["first_errors"]


@pytest.mark.parametrize("hours", [-1, 0, "twelve", True, float("inf"), float("nan"), None])
def test_a_bad_max_part_age_is_named_with_its_value(hours):
    with pytest.raises(FleetInputError) as raised:
        merge([part("em-a")], now=NOW, max_part_age_hours=hours)
    assert "max_part_age_hours must be a number of hours above 0" in str(raised.value)
    assert str(raised.value).endswith("got %r" % (hours,))


def test_two_parts_of_one_em_are_refused_naming_both_times():
    with pytest.raises(FleetInputError, match="EM 'em-a' has two parts .*generated at 2026-11-22T06:00:00Z and "
                                              "2026-11-29T06:00:00Z"):
        merge([dated("em-a", "2026-11-22T06:00:00Z"), part("em-a")], now=NOW)


def test_parts_all_older_than_the_clock_are_errors(monkeypatch):
    """Every part of last week (an AWX merge node relaunched with its old artifacts): measured from the newest
    part, none was stale and the fleet read compliant with a warning (found by review, session 16). Measured from
    the clock, each is an error; a given ``now`` (a night replayed) is the time they are measured from."""
    monkeypatch.setattr(em_fleet, "clock", lambda: datetime(2026, 11, 29, 18, 0, 1, tzinfo=timezone.utc))
    result = merge([part("em-a"), part("em-b")])
    assert (result["status"], result["compliant"], result["warnings"]) == ("error", False, [])
    assert [(e["em"], e["code"]) for e in result["errors"]] == [("em-a", "stale_part"), ("em-b", "stale_part")]
    assert result["errors"][0]["message"].startswith(
        "this part is 12.0 hours older than the merge's time 2026-11-29T18:00:01Z (generated at 2026-11-29T06:00:00Z")
    monkeypatch.setattr(em_fleet, "clock", lambda: datetime(2026, 11, 29, 18, 0, 0, tzinfo=timezone.utc))
    assert merge([part("em-a"), part("em-b")])["status"] == "compliant"
    assert merge([part("em-a")], now=NOW)["status"] == "compliant"  # a given now is the time measured from
