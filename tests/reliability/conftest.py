"""Reliability suite set-up: one shared emulator, the per-test session check, and the ledger.

Every test records what it injected and how the collection behaved (``ledger`` fixture); after each
test the emulator must report zero open logon sessions (polled for a few seconds, because a
delayed request's handler finishes after the client gave up). At the end the counts are written to
``tests/reliability/results/latest.json`` and printed (docs/reliability.md quotes them).
"""
import datetime
import json
import os
import time

import pytest

from emulator.harness import Emulator
from reliability.support import FLEET, PASSWORD, USERNAME

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "latest.json")
OUTCOMES = ("recovered", "failed_cleanly", "refused", "held")


class Ledger:
    """Rows: one per fault (or hostile input, or check) a test exercised."""

    def __init__(self):
        self.rows = []
        self.tests = {}

    def record(self, test, fault, behaviour, outcome, faults_injected=0, items_expected=None, items_lost=0,
               items_duplicated=0, secrets_leaked=0, sessions_orphaned=0, note=""):
        assert outcome in OUTCOMES, outcome
        row = {"test": test, "fault": fault, "behaviour": behaviour, "outcome": outcome,
               "faults_injected": int(faults_injected), "items_expected": items_expected,
               "items_lost": int(items_lost), "items_duplicated": int(items_duplicated),
               "secrets_leaked": int(secrets_leaked), "sessions_leaked": 0,
               "sessions_orphaned_unavoidable": int(sessions_orphaned), "note": note}
        self.rows.append(row)
        return row

    def totals(self):
        rows = self.rows
        return {
            "tests": len(self.tests),
            "tests_passed": sum(1 for outcome in self.tests.values() if outcome == "passed"),
            "tests_failed": sum(1 for outcome in self.tests.values() if outcome == "failed"),
            "cases": len(rows),
            "faults_injected": sum(row["faults_injected"] for row in rows),
            "survived": sum(1 for row in rows if row["outcome"] == "recovered"),
            "failed_cleanly": sum(1 for row in rows if row["outcome"] == "failed_cleanly"),
            "refused_before_request": sum(1 for row in rows if row["outcome"] == "refused"),
            "held": sum(1 for row in rows if row["outcome"] == "held"),
            "items_checked": sum(row["items_expected"] or 0 for row in rows),
            "items_lost": sum(row["items_lost"] for row in rows),
            "items_duplicated": sum(row["items_duplicated"] for row in rows),
            "secrets_leaked": sum(row["secrets_leaked"] for row in rows),
            "sessions_leaked": sum(row["sessions_leaked"] for row in rows),
            "sessions_orphaned_unavoidable": sum(row["sessions_orphaned_unavoidable"] for row in rows),
        }


LEDGER = Ledger()


@pytest.fixture(scope="session")
def em():
    """The shared emulator: small fleet, HTTPS with its own CA, an unusual non-ASCII password."""
    with Emulator(tls=True, username=USERNAME, password=PASSWORD, **FLEET) as emulator:
        yield emulator


def wait_for_closed_sessions(emulator, seconds=8.0):
    deadline = time.monotonic() + seconds
    while True:
        open_sessions = emulator.stats()["open_sessions"]
        if open_sessions == 0 or time.monotonic() > deadline:
            return open_sessions
        time.sleep(0.1)


@pytest.fixture(autouse=True)
def sessions_closed(request, em):
    """Zero open logon sessions before and after every test (failures and timeouts included)."""
    em.clear_faults()
    assert wait_for_closed_sessions(em) == 0, "a previous test left a session open"
    first_row = len(LEDGER.rows)
    yield
    em.clear_faults()
    leaked = wait_for_closed_sessions(em)
    rows = LEDGER.rows[first_row:]
    if rows:
        rows[-1]["sessions_leaked"] = leaked
    else:
        LEDGER.record(request.node.nodeid, "-", "-", "held").update(sessions_leaked=leaked)
    assert leaked == 0, "%d logon session(s) left open on EM" % leaked


@pytest.fixture
def ledger(request):
    """``ledger(fault, behaviour, outcome, **counts)`` for the current test."""
    def record(fault, behaviour, outcome, **counts):
        return LEDGER.record(request.node.nodeid.split("::", 1)[-1], fault, behaviour, outcome, **counts)
    return record


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        LEDGER.tests[item.nodeid] = "passed" if report.passed else ("skipped" if report.skipped else "failed")
    elif report.when == "teardown" and report.failed:
        LEDGER.tests[item.nodeid] = "failed"
    return report


def pytest_sessionfinish(session, exitstatus):
    if not LEDGER.rows:
        return
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    document = {"generated_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "totals": LEDGER.totals(), "tests": LEDGER.tests, "rows": LEDGER.rows}
    with open(RESULTS, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, ensure_ascii=False)
        handle.write("\n")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not LEDGER.rows:
        return
    totals = LEDGER.totals()
    write = terminalreporter.write_line
    terminalreporter.section("reliability summary")
    write("tests %(tests)d (passed %(tests_passed)d, failed %(tests_failed)d), cases %(cases)d" % totals)
    write("faults injected %(faults_injected)d | survived %(survived)d | failed cleanly %(failed_cleanly)d | "
          "refused before any request %(refused_before_request)d | held %(held)d" % totals)
    write("items checked %(items_checked)d | items lost %(items_lost)d | items duplicated %(items_duplicated)d"
          % totals)
    write("secrets leaked %(secrets_leaked)d | sessions leaked %(sessions_leaked)d | "
          "sessions orphaned where no client could close them (logon timed out / logoff unreachable; EM expired "
          "them) %(sessions_orphaned_unavoidable)d"
          % totals)
    write("details: %s" % os.path.relpath(RESULTS))
