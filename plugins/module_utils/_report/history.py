# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""What changed since the previous report, and the success rate per VM and job over the kept nights.

Each written report leaves two small records beside it (and dated copies of them):

* ``<basename>.state.json`` - the key of every error and violation with the date it was first
  seen and a readable line: the next report compares with it (new, "since <date>", resolved);
* ``<basename>.trend.json`` - the keys of the VMs and jobs, OK or not: the trend reads up to 30
  of them, so they hold nothing else (at 50,000 VMs about 2 MB each, parsed in a fraction of a
  second; with the findings in the same file it was 12 MB and 0.4 s each).

Neither re-reads a previous full JSON report (hundreds of megabytes at 50,000 VMs). A directory
that has only a previous JSON report (written before states existed) is compared with it once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools

STATE_VERSION = 1
_OK = ("compliant", "warning")  # a night counts as a success unless the row is in violation or error
_TEXT_CHARS = 300  # resolved findings keep a readable line, bounded


def vm_key(row):
    """One VM of one backup server, as EM names it (the UID when EM gives one)."""
    return "%s/%s" % (row.get("backup_server_name") or "", row.get("vm_uid") or row.get("vm_display_name") or "")


def job_key(job):
    return "%s/%s" % (job.get("backup_server_name") or "", job.get("job_name") or "")


def finding_key(item):
    """A finding across nights: its code and what it is about, never its text (an age changes nightly)."""
    return "|".join(str(item.get(key) or "") for key in (
        "severity", "code", "scope", "backup_server_name", "vm_uid", "vm_display_name", "job_name", "kind"))


def tracked_findings(result):
    """The findings compared between nights: what is wrong (errors and violations), not warnings."""
    return list(result.get("errors", [])) + list(result.get("violations", []))


def _night(generated_at):
    return str(generated_at or "")[:10]


# Codes saying EM was not read in full: such a night cannot tell that a finding went away.
UNREAD_CODES = ("read_error", "partial_view")


def read_in_full(result):
    """False when the result says EM could not be read, or only in part (read_error, partial_view)."""
    return not any(item.get("code") in UNREAD_CODES for item in result.get("errors", []))


def compare(previous, result):
    """``changes`` of the report: new, recurring (with the date first seen) and resolved findings.

    Without a previous state the report says it is the first one: nothing is called new. A result
    not read in full resolves nothing (``not_read_in_full``): a finding it does not show may only
    be unread.
    """
    now = result.get("generated_at")
    if previous is None:
        return {"first_report": True, "previous_generated_at": None, "new": [], "recurring": [], "resolved": [],
                "not_read_in_full": not read_in_full(result)}
    before = previous.get("findings") or {}
    new, recurring, current = [], [], set()
    for item in tracked_findings(result):
        key = finding_key(item)
        current.add(key)
        entry = {"key": key, "code": item.get("code"), "severity": item.get("severity"), "text": item.get("text")}
        if key in before:
            entry["since"] = before[key][0]
            recurring.append(entry)
        else:
            entry["since"] = now
            new.append(entry)
    complete = read_in_full(result)
    resolved = [{"key": key, "since": since, "text": text} for key, (since, text) in sorted(before.items())
                if key not in current] if complete else []
    return {"first_report": False, "previous_generated_at": previous.get("generated_at"),
            "new": new, "recurring": recurring, "resolved": resolved, "not_read_in_full": not complete}


def _split(rows, key_of, is_ok):
    ok, bad = [], []
    for row in rows:
        (ok if is_ok(row) else bad).append(key_of(row))
    return {"ok": ok, "bad": bad}


def state_of(result, changes=None, previous=None):
    """The findings record of one report (``.state.json``): what the next report compares with.

    A result not read in full keeps the ``previous`` state's findings beside its own, so that the
    night after an unreadable one still compares with what was last seen (not everything "new",
    the "since" dates kept)."""
    since = {}
    for entry in (changes or {}).get("recurring", []):
        since[entry["key"]] = entry["since"]
    findings = {}
    if previous and not read_in_full(result):
        findings.update(previous.get("findings") or {})
    for item in tracked_findings(result):
        key = finding_key(item)
        findings[key] = [since.get(key, result.get("generated_at")), str(item.get("text") or "")[:_TEXT_CHARS]]
    return {
        "version": STATE_VERSION, "generated_at": result.get("generated_at"), "status": result.get("status"),
        "findings": findings,
    }


def nights_state_of(result):
    """The record of one night for the trend (``.trend.json``): VMs and jobs, OK or not.

    Two lists of keys each, not a mapping: the trend reads up to 30 of them one after the other,
    and lists load with less memory than dicts (50,000 VMs).
    """
    return {
        "version": STATE_VERSION, "generated_at": result.get("generated_at"),
        "vms": _split(result.get("vms", []), vm_key, lambda row: row.get("status") in _OK),
        "jobs": _split(result.get("jobs", []), job_key, lambda job: not job.get("failed")),
    }


def nights_of(stamps, current_night, nights):
    """The kept runs the trend reads: the newest stamp of each UTC night before ``current_night``,
    at most ``nights - 1`` of them (the current report is the last night), oldest first."""
    newest = {}
    for stamp in stamps:
        night = "%s-%s-%s" % (stamp[:4], stamp[4:6], stamp[6:8])
        if night < current_night and stamp > newest.get(night, ""):
            newest[night] = stamp
    return [newest[night] for night in sorted(newest)[-(nights - 1):]] if nights > 1 else []


def _fold(marks, part):
    """One night's mark for each tracked key: + OK, x not, . absent from that night's report."""
    tonight = {}
    for mark, name in (("+", "ok"), ("x", "bad")):
        for key in (part or {}).get(name, []):
            if key in marks:
                tonight[key] = mark
    for key in marks:
        marks[key] += tonight.get(key, ".")


def _rates(rows, key_of, marks, label):
    """Rows below 100 %: nights seen, nights OK, rate, the nights as a string (oldest first)."""
    found = []
    for row in rows:
        line = marks[key_of(row)]
        seen = len(line) - line.count(".")
        good = line.count("+")
        if seen and good < seen:
            entry = label(row)
            entry.update(nights=seen, ok=good, rate=round(100.0 * good / seen, 1), marks=line)
            found.append(entry)
    found.sort(key=lambda entry: (entry["rate"], -entry["nights"]))
    return found


def trend(states, result, current):
    """Success rate per VM and per job over the nights of ``states`` (earlier runs, oldest first, read
    one at a time - a generator keeps one in memory) and ``current`` (nights_state_of(result), the last night).

    ``marks``: one character per night, oldest first - ``+`` OK, ``x`` in violation/error (VM) or
    last run failed (job), ``.`` not in that night's report. Rows OK every night they were seen are
    left out (the count of nights says how many were compared).
    """
    # the keys of ``current`` (nights_state_of(result): every row's), not made again (issue 18: 50,000 strings)
    vm_marks = dict.fromkeys(itertools.chain(current["vms"]["ok"], current["vms"]["bad"]), "")
    job_marks = dict((job_key(job), "") for job in result.get("jobs", []))
    first, count = None, 0
    for state in itertools.chain(states, [current]):
        _fold(vm_marks, state.get("vms"))
        _fold(job_marks, state.get("jobs"))
        first = first or _night(state.get("generated_at"))
        count += 1
    return {"nights": count, "first_night": first, "last_night": _night(current.get("generated_at")),
            "vms": _rates(result.get("vms", []), vm_key, vm_marks, lambda row: {
                "backup_server_name": row.get("backup_server_name"), "vm_display_name": row.get("vm_display_name"),
                "vm_uid": row.get("vm_uid")}),
            "jobs": _rates(result.get("jobs", []), job_key, job_marks, lambda job: {
                "backup_server_name": job.get("backup_server_name"), "job_name": job.get("job_name")})}
