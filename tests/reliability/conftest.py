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


def wait_for_sessions(emulator, at_most=0, seconds=8.0):
    """Open logon sessions, polled until at most ``at_most`` remain or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while True:
        open_sessions = emulator.stats()["open_sessions"]
        if open_sessions <= at_most or time.monotonic() > deadline:
            return open_sessions
        time.sleep(0.1)


@pytest.fixture(autouse=True)
def sessions_closed(request, em):
    """No logon session left open by any test (failures and timeouts included).

    Measured as a difference, so that one leaking test fails alone instead of every test after it.
    """
    em.clear_faults()
    before = wait_for_sessions(em, seconds=3.0)
    first_row = len(LEDGER.rows)
    yield
    em.clear_faults()
    leaked = max(0, wait_for_sessions(em, at_most=before) - before)
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
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: hand the rows to the controller
        workeroutput["reliability_ledger"] = json.dumps({"rows": LEDGER.rows, "tests": LEDGER.tests})
        return
    if not LEDGER.rows:
        return
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    document = {"generated_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "totals": LEDGER.totals(), "tests": LEDGER.tests, "rows": LEDGER.rows}
    with open(RESULTS, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    with open(RESULTS[:-len(".json")] + ".md", "w", encoding="utf-8") as handle:
        handle.write(markdown(document))


def markdown(document):
    """The fault -> behaviour -> test table of docs/reliability.md, as measured by this run."""
    def cell(text):
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| fault / input | behaviour | outcome | test | faults injected | items checked / lost / dup "
             "| secrets leaked | sessions leaked |", "|---|---|---|---|---|---|---|---|"]
    for row in document["rows"]:
        items = "-" if row["items_expected"] is None else "%d / %d / %d" % (
            row["items_expected"], row["items_lost"], row["items_duplicated"])
        sessions = str(row["sessions_leaked"])
        if row["sessions_orphaned_unavoidable"]:
            sessions += " (+%d orphaned, expired by EM)" % row["sessions_orphaned_unavoidable"]
        lines.append("| %s | %s | %s | `%s` | %d | %s | %d | %s |" % (
            cell(row["fault"]), cell(row["behaviour"]), row["outcome"], cell(row["test"]), row["faults_injected"],
            items, row["secrets_leaked"], sessions))
    totals = document["totals"]
    lines += ["", "Totals (%s): %s" % (document["generated_at"], ", ".join(
        "%s %s" % (key.replace("_", " "), value) for key, value in totals.items())), ""]
    return "\n".join(lines)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist controller: collect each worker's rows."""
    data = getattr(node, "workeroutput", {}).get("reliability_ledger")
    if data:
        data = json.loads(data)
        LEDGER.rows.extend(data["rows"])
        LEDGER.tests.update(data["tests"])


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
