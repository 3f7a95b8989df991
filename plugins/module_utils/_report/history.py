# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What changed since the previous report, and the success rate per VM and job over the kept nights.

Each written report leaves a small *state* beside it (``<basename>.state.json`` and a dated copy):
the status of every VM and job and the key of every error and violation, with the date it was
first seen. Comparing with it is what makes "new", "since <date>" and "resolved" possible without
re-reading the previous full JSON report (hundreds of megabytes at 50,000 VMs, every night, for
each of the kept nights). A directory that has only a previous JSON report (written before states
existed) is compared with that report once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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


def compare(previous, result):
    """``changes`` of the report: new, recurring (with the date first seen) and resolved findings.

    Without a previous state the report says it is the first one: nothing is called new.
    """
    now = result.get("generated_at")
    if previous is None:
        return {"first_report": True, "previous_generated_at": None, "new": [], "recurring": [], "resolved": []}
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
    resolved = [{"key": key, "since": since, "text": text} for key, (since, text) in sorted(before.items())
                if key not in current]
    return {"first_report": False, "previous_generated_at": previous.get("generated_at"),
            "new": new, "recurring": recurring, "resolved": resolved}


def state_of(result, changes=None):
    """The small record of one report that the next reports compare with and count nights from."""
    since = {}
    for entry in (changes or {}).get("recurring", []):
        since[entry["key"]] = entry["since"]
    findings = {}
    for item in tracked_findings(result):
        key = finding_key(item)
        findings[key] = [since.get(key, result.get("generated_at")), str(item.get("text") or "")[:_TEXT_CHARS]]
    return {
        "version": STATE_VERSION, "generated_at": result.get("generated_at"), "status": result.get("status"),
        "findings": findings,
        "vms": dict((vm_key(row), row.get("status")) for row in result.get("vms", [])),
        "jobs": dict((job_key(job), "failed" if job.get("failed") else "ok") for job in result.get("jobs", [])),
    }


def _nights(states, nights):
    """The newest state of each UTC night, newest ``nights`` nights, oldest first."""
    per_night = {}
    for state in states:
        night = _night(state.get("generated_at"))
        if night and (night not in per_night or state["generated_at"] > per_night[night]["generated_at"]):
            per_night[night] = state
    return [per_night[night] for night in sorted(per_night)[-nights:]] if nights > 0 else []


def _rates(rows, key_of, states, part, is_ok, label):
    """Rows below 100 %: nights seen, nights OK, rate, the nights as a string (oldest first)."""
    found = []
    for row in rows:
        key = key_of(row)
        marks = []
        for state in states:
            value = (state.get(part) or {}).get(key)
            marks.append("." if value is None else ("+" if is_ok(value) else "x"))
        seen = sum(1 for mark in marks if mark != ".")
        good = marks.count("+")
        if seen and good < seen:
            entry = label(row)
            entry.update(nights=seen, ok=good, rate=round(100.0 * good / seen, 1), marks="".join(marks))
            found.append(entry)
    found.sort(key=lambda entry: (entry["rate"], -entry["nights"]))
    return found


def trend(states, result, nights, current):
    """Success rate per VM and per job over the kept nights (the current report is the last night).

    ``marks``: one character per night, oldest first - ``+`` OK, ``x`` in violation/error (VM) or
    last run failed (job), ``.`` not in that night's report. Rows OK every night they were seen are
    left out (the count of nights says how many were compared). ``current``: state_of(result).
    """
    chosen = _nights([s for s in states if s.get("generated_at") != current["generated_at"]] + [current], nights)
    vms = _rates(result.get("vms", []), vm_key, chosen, "vms", lambda v: v in _OK, lambda row: {
        "backup_server_name": row.get("backup_server_name"), "vm_display_name": row.get("vm_display_name"),
        "vm_uid": row.get("vm_uid")})
    jobs = _rates(result.get("jobs", []), job_key, chosen, "jobs", lambda v: v == "ok", lambda job: {
        "backup_server_name": job.get("backup_server_name"), "job_name": job.get("job_name")})
    return {"nights": len(chosen), "first_night": _night(chosen[0]["generated_at"]) if chosen else None,
            "last_night": _night(chosen[-1]["generated_at"]) if chosen else None, "vms": vms, "jobs": jobs}
