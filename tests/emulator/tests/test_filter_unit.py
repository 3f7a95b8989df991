"""Unit tests of the filter parser/evaluator (called directly, no server)."""
import pytest

from emulator.filterexpr import FilterError, compile_filter, parse, time_bounds
from emulator.querydefs import TASK_SESSION_FIELDS
from emulator.timeutil import fmt_dt, parse_dt


class Srv:
    def __init__(self, name, guid):
        self.name = name
        self.uid = "urn:veeam:BackupServer:" + guid


class Job:
    def __init__(self, name, srv):
        self.name, self.server, self.uid = name, srv, "urn:veeam:Job:11111111-1111-4111-8111-111111111111"


class JS:
    def __init__(self, job):
        self.job = job
        self.uid = "urn:veeam:BackupJobSession:22222222-2222-4222-8222-222222222222"


class T:
    def __init__(self, name, result="Success", state="Completed", ct="2025-06-05T01:00:00Z", size=10,
                 reason=""):
        self.vm_name = name
        self.name = name + "@x"
        self.result = result
        self.state = state
        self.ct = parse_dt(ct)
        self.et = None if state != "Completed" else self.ct + 1
        self.total_size = size
        self.reason = reason
        self.js = JS(Job("Backup Job 1", Srv("vbr01.corp.example.com", "33333333-3333-4333-8333-333333333333")))
        self.uid = "urn:veeam:BackupTaskSession:44444444-4444-4444-8444-44444444444" + str(len(name) % 10)


ITEMS = [
    T("dbserver01", "Failed", size=0, reason="Error: disk full"),
    T("web 01", "Warning", ct="2025-06-04T23:00:00Z"),
    T('fs "legacy"', "Success", ct="2025-06-05T02:00:00.5Z", size=100),
    T("a;b,(c)", "Success", size=50),
    T("running", None, state="InProgress", ct="2025-06-05T03:00:00Z", size=0),
]


def run(expr):
    pred = compile_filter(parse(expr), TASK_SESSION_FIELDS, "BackupTaskSession")
    return [t.vm_name for t in ITEMS if pred(t)]


@pytest.mark.parametrize("expr,expected", [
    ("Result==Failed", ["dbserver01"]),
    ("Result!=Success", ["dbserver01", "web 01", "running"]),       # null Result satisfies != only
    ("Result<Failed", ["web 01", 'fs "legacy"', "a;b,(c)"]),         # Success < Warning < Failed
    ("Result>Success", ["dbserver01", "web 01"]),
    ("Result<=Warning", ["web 01", 'fs "legacy"', "a;b,(c)"]),
    ("Result>=Warning", ["dbserver01", "web 01"]),
    ("TotalSize>=50", ['fs "legacy"', "a;b,(c)"]),
    ("TotalSize<10", ["dbserver01", "running"]),
    ("State==InProgress", ["running"]),
    ("State<Completed", ["running"]),                                # InProgress < Pending < Completed
])
def test_six_operators_and_enum_order(expr, expected):
    assert run(expr) == expected


def test_and_or_grouping_and_precedence():
    # AND binds tighter than OR [UNCONFIRMED, chosen]: a,b;c == a,(b;c)
    assert run("Result==Failed,Result==Success;TotalSize==100") == ["dbserver01", 'fs "legacy"']
    assert run("(Result==Failed,Result==Success);TotalSize==100") == ['fs "legacy"']
    assert run("((Result==Failed))") == ["dbserver01"]
    assert run("Result==Success;TotalSize>10;TotalSize<100") == ["a;b,(c)"]


def test_case_insensitive_fields_values_and_strings():
    assert run("result==FAILED") == ["dbserver01"]
    assert run("VMDISPLAYNAME==DBSERVER01") == ["dbserver01"]
    assert run("vmdisplayname<dbserver02;vmdisplayname>a") == ["dbserver01", "a;b,(c)"]


def test_quoting_rules():
    assert run('VmDisplayName=="web 01"') == ["web 01"]
    assert run("VmDisplayName==web 01") == []    # unquoted spaces are dropped: the value is "web01"
    assert run('VmDisplayName=="fs ""legacy"""') == ['fs "legacy"']      # doubled quotes
    assert run('VmDisplayName=="a;b,(c)"') == ["a;b,(c)"]               # quotes protect ; , ( )
    assert run('(VmDisplayName=="a;b,(c)",Result==Failed)') == ["dbserver01", "a;b,(c)"]
    assert run('Reason=="Error: disk full"') == ["dbserver01"]


def test_unquoted_spaces_are_removed_from_values():
    assert run("VmDisplayName == dbserver 01") == ["dbserver01"]
    assert run("  Result  ==  Failed  ;  TotalSize == 0 ") == ["dbserver01"]


def test_injection_looking_values_are_data():
    assert run('VmDisplayName=="x;Result==Success"') == []
    with pytest.raises(FilterError):  # backslash is not an escape: the stray quote is a syntax error
        run('VmDisplayName=="x\\",Result==Success"')
    assert run('VmDisplayName=="\' OR 1=1 --"') == []
    assert run('VmDisplayName=="*"') == []


@pytest.mark.parametrize("value", [
    "2025-06-05T01:00:00Z", '"2025-06-05T01:00:00Z"', "2025-06-05T01:00:00", "2025-06-05T01:00:00.000Z",
    '"2025-06-05T01:00:00.0000000Z"', "2025-06-05T03:00:00+02:00",
])
def test_datetime_forms(value):
    assert run("CreationTime==" + value) == ["dbserver01", "a;b,(c)"]


def test_date_only_and_fraction():
    assert run("CreationTime>=2025-06-05") == ["dbserver01", 'fs "legacy"', "a;b,(c)", "running"]
    assert run('CreationTime<"2025-06-05"') == ["web 01"]
    assert run("CreationTime>2025-06-05T02:00:00Z;CreationTime<2025-06-05T02:00:01Z") == ['fs "legacy"']
    assert run("EndTime!=2025-06-05T01:00:00Z")[-1] == "running"   # null EndTime satisfies !=


def test_uid_accepts_urn_or_bare_guid():
    assert len(run("JobSessionUid==22222222-2222-4222-8222-222222222222")) == 5
    assert len(run("JobSessionUid==urn:veeam:BackupJobSession:22222222-2222-4222-8222-222222222222")) == 5
    assert len(run('BackupServerUid=="urn:veeam:BackupServer:33333333-3333-4333-8333-333333333333"')) == 5
    assert run("JobSessionUid==urn:veeam:Job:22222222-2222-4222-8222-222222222222") == []
    assert len(run("JobUid==11111111-1111-4111-8111-111111111111;JobName==\"backup job 1\"")) == 5
    assert len(run("BackupServerName==VBR01.corp.example.com")) == 5


@pytest.mark.parametrize("expr,fragment", [
    ("Nope==1", "unknown field 'Nope'"),
    ("Result==Maybe", "not a valid value for field 'Result'"),
    ("Result=Failed", "comparison operator"),
    ("Result==", "value expected"),
    ("(Result==Failed", "missing ')'"),
    ("Result==Failed)", "unexpected ')'"),
    ("Result==Failed;", "expression expected"),
    (";Result==Failed", "expression expected"),
    ('VmDisplayName=="abc', "unterminated"),
    ('VmDisplayName=="abc"x', "after a quoted value"),
    ("VmDisplayName==ab\"c", "inside an unquoted value"),
    ("TotalSize==big", "not a valid integer"),
    ("CreationTime>=yesterday", "not a valid UTC DateTime"),
    ("CreationTime>=2025-13-45", "not a valid UTC DateTime"),
    ("VmDisplayName==a==b", "operator character"),
    ("==x", "field name expected"),
])
def test_errors_name_the_problem(expr, fragment):
    with pytest.raises(FilterError) as ei:
        run(expr)
    assert fragment.lower() in str(ei.value).lower()


def test_empty_filter_matches_all():
    assert parse("") is None and parse("   ") is None
    assert len(run("")) == 5


def test_time_bounds_for_bisect():
    ast = parse('CreationTime>="2025-06-04T00:00:00Z";Result==Failed;CreationTime<2025-06-05')
    bounds = time_bounds(ast)
    lo, hi = bounds[0], bounds[1]
    assert fmt_dt(lo) == "2025-06-04T00:00:00Z" and fmt_dt(hi) == "2025-06-05T00:00:00Z"
    assert time_bounds(parse("CreationTime>=2025-06-04,Result==Failed")) is None  # OR: no shortcut
    assert time_bounds(parse("Result==Failed")) is None


def test_fmt_dt_trims_fraction():
    assert fmt_dt(parse_dt("2025-06-05T01:04:29.560Z")) == "2025-06-05T01:04:29.56Z"
    assert fmt_dt(parse_dt("2025-06-05T01:04:29Z")) == "2025-06-05T01:04:29Z"
    assert fmt_dt(parse_dt("2025-08-16T05:25:01.8795991Z")) == "2025-08-16T05:25:01.879599Z"
