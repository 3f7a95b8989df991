"""Attacks end to end on the history cache's late-collection rules of session 9 (h-attack9).

The emulator's as-of view (tests/emulator/asof.py) replays nights, and a backup server EM cannot reach has its
sessions of the outage collected when it is back, with their past creation times (docs/em-api-facts.md 6 [INF]).
Every night runs warm (report_dir) and cold (history_cache=false) at the same ``now``; the module promises equal
``compliance`` - for a backup server quiet for longer than the overlap too (history_cache._quiet_through).
"""
from datetime import timedelta

import pytest

from emulator.harness import Emulator
from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_compliance_info as module
from unit.plugins.modules.module_runner import run_module

from integration.test_compliance_evolving_nights import (  # helpers only
    NOW, SERVER, _outage, _parse, _server_sessions)

pytestmark = pytest.mark.slow

OVERLAP_HOURS = 24
# A warning a later success made good is a recovered_failure warning when it ended within recent_hours: with
# warnings not accepted, a late Failed session changes a verdict, not only a count (as BEYOND_POLICY there).
POLICY = {"lookback_days": 3, "accept_warnings": False, "recent_hours": 72, "history_full_read_days": 10,
          "history_cache_overlap_hours": OVERLAP_HOURS, "page_size": 25}


@pytest.fixture(scope="module")
def em():
    with Emulator(vms=50, days=14, seed=7, tls=True, now=NOW, as_of=True) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def data(em):
    return em.dataset()


@pytest.fixture(autouse=True)
def as_of_without_outage(em):
    em.set_view(as_of=True)
    yield
    em.set_view(as_of=True)


def _run(em, capsys, now, **extra):
    args = {"server": em.host, "port": em.port, "username": em.username, "password": em.password,
            "ca_path": em.ca_file, "now": now}
    args.update(POLICY)
    args.update(extra)
    em.set_clock(now)
    result = run_module(module, args, capsys)
    assert not result.get("failed"), result.get("msg")
    return result


def _night(em, capsys, now, report_dir, **extra):
    warm = _run(em, capsys, now, report_dir=str(report_dir), **extra)
    cold = _run(em, capsys, now, history_cache=False, **extra)
    return warm, cold


def _statuses(result):
    return dict((row["vm_display_name"], row["status"]) for row in result["compliance"]["vms"])


# 97 h: longer than the 3-day window, so at the night before it ends the server's newest session is HISTORY
LONG_OUTAGE = ("2026-11-03T07:00:00Z", "2026-11-07T08:00:00Z")
LONG_NIGHTS = ["2026-11-03T06:00:00Z", "2026-11-04T06:00:00Z", "2026-11-05T06:00:00Z", "2026-11-06T06:00:00Z",
               "2026-11-07T06:00:00Z", "2026-11-07T09:00:00Z"]


# Found (h-attack9), fixed in session 9: a 97 h outage of vbr02, longer than the 3-day window (overlap 24 h): at the
#  night of 2026-11-07T06 vbr02's newest session is before the window start, a history session, and
#  HistoryCache.save runs before settle (SessionFold.add_history never notes last_seen): no quiet_server, the cache
#  covers up to that night. The night after the outage (2026-11-07T09) reads from 2026-11-06T06 and misses vbr02's
#  late sessions of [11-04T09, 11-06T06): 'erp (old)', sql_014 and web_024 are compliant warm and warning
#  (recovered_failure) cold, the jobs rows differ too (false compliant); quiet_server is said on 11-05 and no more
#  on 11-06/11-07
def test_an_outage_longer_than_the_window_judges_as_cold(em, data, capsys, tmp_path):
    start = _parse(LONG_OUTAGE[0])
    em.set_view(as_of=True, late_collection=_outage(*LONG_OUTAGE))
    _run(em, capsys, LONG_NIGHTS[0], report_dir=str(tmp_path))
    quiet = []
    for night in LONG_NIGHTS[1:-1]:          # during the outage: warm equals cold
        warm, cold = _night(em, capsys, night, tmp_path)
        assert warm["history_cache"]["used"] is True, warm["history_cache"]["reason"]
        assert warm["compliance"] == cold["compliance"], night
        quiet.append(warm["history_cache"].get("quiet_server"))
    warm, cold = _night(em, capsys, LONG_NIGHTS[-1], tmp_path)
    assert warm["history_cache"]["used"] is True, warm["history_cache"]["reason"]
    night = _parse(LONG_NIGHTS[-1])
    window_start = night - timedelta(days=POLICY["lookback_days"])
    read_from = _parse(warm["history_cache"]["window_read_from"])
    # the scenario: late non-successes of the window created more than the overlap before the night (what reading
    # from the previous night minus the overlap missed), and the warm night reads them again
    beyond = _server_sessions(data, SERVER, max(start, window_start), night - timedelta(hours=OVERLAP_HOURS))
    assert [s for s in beyond if s["result"] != "Success"], "no late non-success beyond the overlap"
    assert read_from <= max(start, window_start), (read_from, start)
    differing = [(name, status, _statuses(cold).get(name)) for name, status in sorted(_statuses(warm).items())
                 if _statuses(cold).get(name) != status]
    assert differing == [], (differing, quiet)   # now: [('erp (old)', 'compliant', 'warning'), ...]
    assert warm["compliance"] == cold["compliance"]
    # and it is said while vbr02 is quiet in EM, also once its newest session is history
    assert all(text and ("backup server %s has no session since" % SERVER) in text for text in quiet), quiet


def _cut_session(data):
    """A task session of SERVER created on 2026-11-04 that runs for 4 s or more, not a retry: the outage begins at
    its midpoint (EM keeps it InProgress until the server is back)."""
    job_sessions = dict((s["id"], s) for s in data["job_sessions"])
    day = _server_sessions(data, SERVER, _parse("2026-11-04T00:00:00Z"), _parse("2026-11-05T00:00:00Z"))
    for session in sorted(day, key=lambda s: s["creation_time"]):
        if session["end_time"] and not job_sessions[session["job_session_id"]]["is_retry"] and \
                _parse(session["end_time"]) - _parse(session["creation_time"]) >= timedelta(seconds=4):
            return session
    raise AssertionError("no session of %s to cut on 2026-11-04" % SERVER)


def test_an_outage_that_begins_while_a_session_of_the_server_runs_judges_as_cold(em, data, capsys, tmp_path):
    """Held: an outage of SERVER (49 h, longer than the 24 h overlap, inside the 3-day window) that begins in the
    middle of one of its task sessions: EM shows it InProgress until the server is back (the as-of view), so it
    bounds read_through (the oldest running session) as well as the quiet rule does; every warm night equals the
    cold one, the night after the outage too."""
    session = _cut_session(data)
    created, ended = _parse(session["creation_time"]), _parse(session["end_time"])
    start = created + (ended - created) / 2
    until = start + timedelta(hours=49)

    def fmt(moment):
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    em.set_view(as_of=True, late_collection=_outage(fmt(start), fmt(until)))
    nights = [start - timedelta(hours=23), start + timedelta(hours=1), start + timedelta(hours=25),
              until + timedelta(hours=1), until + timedelta(hours=25)]
    _run(em, capsys, fmt(nights[0]), report_dir=str(tmp_path))
    for night in nights[1:]:
        warm, cold = _night(em, capsys, fmt(night), tmp_path)
        assert warm["history_cache"]["used"] is True, warm["history_cache"]["reason"]
        assert warm["compliance"] == cold["compliance"], fmt(night)
        if night == nights[3]:      # the night after the outage reads again from before it began
            assert _parse(warm["history_cache"]["window_read_from"]) <= created


# 49 h, inside the 3-day window (as test_compliance_evolving_nights' BEYOND_OUTAGE)
INSIDE_OUTAGE = ("2026-11-04T07:00:00Z", "2026-11-06T08:00:00Z")
INSIDE_NIGHTS = ["2026-11-04T06:00:00Z", "2026-11-05T06:00:00Z", "2026-11-06T06:00:00Z", "2026-11-06T09:00:00Z"]


# Found (h-attack9), fixed in session 9: exclude_servers: [vbr02] during a 49 h outage of vbr02 (inside the 3-day
#  window), the pattern dropped on the night after it (2026-11-06T09): vbr02 out of scope leaves no fold.last_seen
#  (SessionFold._place returns before _seen), so no quiet_server holds the cache back; the night vbr02 is in scope
#  again reads from 2026-11-05T06 and misses its late sessions of [11-04T07, 11-05T06): warm compliance differs from
#  cold - here the missed late sessions are successes, so the warm RPO findings are older (erp (old) 57.83 h,
#  sql_014 67.91 h, web_024 'none in the window' warm, fresher cold) and the server row counts 47 sessions warm, 69
#  cold; with a late Failed session the same gap is a false compliant (the unit test
#  test_a_quiet_server_outside_the_server_patterns_still_holds_the_cache_back)
def test_a_server_back_in_scope_after_its_outage_judges_as_cold(em, data, capsys, tmp_path):
    em.set_view(as_of=True, late_collection=_outage(*INSIDE_OUTAGE))
    excluded = dict(exclude_servers=[SERVER])
    _run(em, capsys, INSIDE_NIGHTS[0], report_dir=str(tmp_path), **excluded)
    for night in INSIDE_NIGHTS[1:-1]:
        warm, cold = _night(em, capsys, night, tmp_path, **excluded)
        assert warm["compliance"] == cold["compliance"], night
    warm, cold = _night(em, capsys, INSIDE_NIGHTS[-1], tmp_path)
    assert warm["history_cache"]["used"] is True, warm["history_cache"]["reason"]
    assert _statuses(warm) == _statuses(cold)   # here the statuses agree; the rows do not
    rows = [(name, _counts(warm).get(name), counts) for name, counts in sorted(_counts(cold).items())
            if _counts(warm).get(name) != counts]
    assert rows == [], rows
    assert (_only(warm, cold), _only(cold, warm)) == ([], [])
    assert warm["compliance"] == cold["compliance"]


def _only(result, other):
    """(VM, code, message) of the violations of ``result`` that ``other`` does not have."""
    return sorted((v.get("vm_display_name"), v["code"], v.get("message")) for v in result["compliance"]["violations"]
                  if v not in other["compliance"]["violations"])


def _counts(result):
    """{VM name: (backup failed, backup warning, backup total)} of the VMs of SERVER."""
    keys = ("failed", "warning", "total")
    return dict((row["vm_display_name"], tuple((row.get("backup") or {}).get(key) for key in keys))
                for row in result["compliance"]["vms"] if row.get("backup_server_name") == SERVER)
