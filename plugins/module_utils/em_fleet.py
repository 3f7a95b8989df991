# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""One fleet verdict from the compliance results of many Enterprise Managers (issue 19).

Input: one *part* per EM - the small dict the fleet playbook builds from each EM's
``veeam_em_compliance_result`` and publishes with ``set_stats`` under a key of its own (the AWX
artifact), optionally with the EM's compact VM rows when the merge runs in the same play run.
Output: one merged result (fleet status first, one entry per EM) and its JSON, JUnit and HTML
reports. Used by the ``veeam_em_compliance_merge`` module.

Rules (the project's first standard: what cannot be read is said loudly):
- the fleet status is the worst EM status; an EM that could not be read is ``error`` for its part,
  so the fleet is ``error`` - never ``compliant`` - while the other EMs' verdicts still appear;
- an EM that was expected (an inventory host) and sent no part is ``error`` (``no_result``);
- no EM at all is ``error`` (an empty fleet is not a compliant one);
- a part never reads better than its own counts (errors listed -> error, violations -> violation);
- VMs are counted per EM and never matched by name across EMs: the same name on two EMs is two VMs;
- a part is tonight's or it is not a pass (``check_part_times``): one older than the merge's time (its ``now``,
  else the controller's clock) by more than ``max_part_age_hours``, one generated more than an hour after it (a
  wrong clock), or one without a readable time is ``error``,
  its age in hours said; two parts of one EM are refused (which of them is tonight's is not for the merge to guess).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re
from datetime import datetime, timedelta, timezone

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import FleetInputError  # noqa: F401
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_time import format_z, parse_iso

STATUSES = ("error", "violation", "warning", "compliant")
RANK = {"error": 0, "violation": 1, "warning": 2, "compliant": 3}
# Counts summed over the EMs (keys of each EM's compliance summary; a missing count is 0).
SUMMARY_KEYS = ("vms_total", "vms_compliant", "vms_warning", "vms_violation", "servers_total", "servers_silent",
                "jobs_total", "jobs_failed", "violations_total", "warnings_total", "errors_total")
PART_KEYS = ("em", "status", "error", "source", "generated_at", "window", "summary", "first_violations",
             "violations_omitted", "first_errors", "errors_omitted", "reports")
VM_ROW_KEYS = ("vm_display_name", "vm_uid", "backup_server_name", "status", "reasons")
NO_RESULT = ("no result from this Enterprise Manager reached the merge: its run (or its AWX job slice) ended "
             "before it published one - see that job's output")
NO_EMS = "no Enterprise Manager in the fleet: the inventory group is empty or no result reached the merge"
_ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
# A nightly run repeats every 24 hours, so last night's part is about 24 hours older than tonight's merge: a bound of
# half the period catches it whatever the hour each run started, and still takes a merge that runs up to 12 hours
# after its first EM was read. There is no off switch: a part of another night is never a pass.
MAX_PART_AGE_HOURS = 12.0
# A part generated this long after the merge's time was judged by a clock that is wrong (the EM host's or ours).
FUTURE_SLACK = timedelta(hours=1)


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------

def _where(index, key=None):
    return "parts[%d]%s" % (index, "." + key if key else "")


def _string_list(part, index, key):
    value = part.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FleetInputError("%s must be a list of strings, got %r" % (_where(index, key), value))
    return list(value)


def _count(value, where):
    if isinstance(value, bool) or value is None:
        raise FleetInputError("%s must be a count (integer >= 0), got %r" % (where, value))
    try:
        number = int(value)
        whole = number == float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: inf, and an int past a double (was a crash)
        raise FleetInputError("%s must be a count (integer >= 0), got %r" % (where, value))
    if number < 0 or not whole:
        raise FleetInputError("%s must be a count (integer >= 0), got %r" % (where, value))
    return number


def _summary(part, index):
    summary = part.get("summary") or {}
    if not isinstance(summary, dict):
        raise FleetInputError("%s must be a dict of counts, got %r" % (_where(index, "summary"), summary))
    return dict((key, _count(summary.get(key, 0), _where(index, "summary." + key))) for key in SUMMARY_KEYS)


def _vm_rows(rows, em):
    """The compact VM rows of one EM (vm_rows[em]); None = not given (an AWX artifact has none)."""
    if rows is None:
        return None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise FleetInputError("vm_rows[%r] must be a list of VM rows (dicts)" % (em,))
    return [dict((key, row.get(key)) for key in VM_ROW_KEYS) for row in rows]


def normalise_part(part, index):
    """A validated copy of one part, with its effective status (never better than its counts)."""
    if not isinstance(part, dict):
        raise FleetInputError("%s must be a dict (one EM's part), got %r" % (_where(index), type(part).__name__))
    unknown = sorted(set(part) - set(PART_KEYS))
    if unknown:
        raise FleetInputError("%s has unknown keys %s (known: %s)" % (
            _where(index), ", ".join(unknown), ", ".join(PART_KEYS)))
    em = part.get("em")
    if not isinstance(em, str) or not em.strip():
        raise FleetInputError("%s must name the EM (its inventory host), got %r" % (_where(index, "em"), em))
    status = part.get("status")
    if status is not None and status not in STATUSES:
        raise FleetInputError("%s must be one of %s, got %r" % (_where(index, "status"), ", ".join(STATUSES), status))
    error = part.get("error")
    if error is not None and not isinstance(error, str):
        raise FleetInputError("%s must be a message (string), got %r" % (_where(index, "error"), error))
    for key in ("source", "window", "reports"):
        if part.get(key) is not None and not isinstance(part[key], dict):
            raise FleetInputError("%s must be a dict, got %r" % (_where(index, key), part[key]))
    entry = {
        "em": em, "error": error or None,
        "source": dict(part.get("source") or {}), "generated_at": part.get("generated_at"),
        "window": dict(part.get("window") or {}), "summary": _summary(part, index),
        "first_violations": _string_list(part, index, "first_violations"),
        "violations_omitted": _count(part.get("violations_omitted", 0), _where(index, "violations_omitted")),
        "first_errors": _string_list(part, index, "first_errors"),
        "errors_omitted": _count(part.get("errors_omitted", 0), _where(index, "errors_omitted")),
        "reports": dict(part.get("reports") or {}),
        "expected": True,
    }
    if error and error not in entry["first_errors"]:
        entry["first_errors"].insert(0, error)
    entry["status"] = effective_status(status, entry)
    entry["compliant"] = entry["status"] in ("compliant", "warning")
    return entry


def effective_status(status, entry):
    """The part's status, made worse where its own evidence says so (a false compliant is the worst bug)."""
    summary = entry["summary"]
    if status is None or status == "error" or entry["error"] or entry["first_errors"] or entry["errors_omitted"] \
            or summary["errors_total"]:
        return "error"
    if summary["vms_violation"] or summary["servers_silent"] or summary["violations_total"] \
            or entry["first_violations"] or entry["violations_omitted"]:
        return "violation"
    return status


def missing_entry(em):
    """An expected EM that sent nothing: an error of its own, never a silent gap."""
    entry = normalise_part({"em": em, "status": "error", "error": NO_RESULT}, 0)
    entry["missing"] = True
    return entry


# ---------------------------------------------------------------------------------------------
# merge
# ---------------------------------------------------------------------------------------------

def clock():
    """The controller's clock (UTC); a test replaces it."""
    return datetime.now(timezone.utc)


def utc_now():
    return clock().strftime("%Y-%m-%dT%H:%M:%SZ")


def check_now(now):
    if now is not None and not _ISO_Z.match(str(now)):
        raise FleetInputError("now must be a UTC time like 2026-11-29T06:00:00Z, got %r" % (now,))
    return now


def check_max_part_age(hours):
    """``max_part_age_hours`` as a float: a finite number of hours above 0 (0 or inf would not be a bound)."""
    try:
        value = None if isinstance(hours, bool) else float(hours)
    except (TypeError, ValueError, OverflowError):
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        raise FleetInputError("max_part_age_hours must be a number of hours above 0 (there is no off switch: a part "
                              "of another night is never a pass), got %r" % (hours,))
    return value


def merge(parts, expected=(), now=None, vm_rows=None, max_part_age_hours=MAX_PART_AGE_HOURS):
    """The fleet result of the parts (list of dicts) and the EMs that must be in it (host names).

    vm_rows: optional dict EM name -> that EM's compact VM rows (listed per EM in the result).
    max_part_age_hours: how much older than the reference time a part may be (``check_part_times``)."""
    if not isinstance(parts, list):
        raise FleetInputError("parts must be a list of per-EM parts, got %r" % type(parts).__name__)
    if vm_rows is not None and not isinstance(vm_rows, dict):
        raise FleetInputError("vm_rows must be a dict (EM name -> VM rows), got %r" % type(vm_rows).__name__)
    check_now(now)
    max_age = check_max_part_age(max_part_age_hours)
    entries = {}
    for index, part in enumerate(parts):
        entry = normalise_part(part, index)
        if entry["em"] in entries:
            # refused, not "the newest wins": a leftover part can carry the newer time (a wrong clock) and the
            # playbook already prefers this run's part over an artifact; two parts left here is a collection bug
            raise FleetInputError("%s: EM %r has two parts (one result per EM), generated at %s and %s" % (
                _where(index, "em"), entry["em"], entries[entry["em"]]["generated_at"], entry["generated_at"]))
        rows = _vm_rows((vm_rows or {}).get(entry["em"]), entry["em"])
        if rows is not None:
            entry["vms"] = rows
        entries[entry["em"]] = entry
    unknown = sorted(set(vm_rows or {}) - set(entries), key=str)
    if unknown:
        raise FleetInputError("vm_rows names EMs without a part: %s" % ", ".join(str(em) for em in unknown))
    part_age = check_part_times(entries.values(), now, max_age)
    expected = list(expected or [])
    for em in expected:
        if em not in entries:
            entries[em] = missing_entry(em)
    if expected:
        for em, entry in entries.items():
            entry["expected"] = em in expected
    ems = sorted(entries.values(), key=lambda e: (RANK[e["status"]], e["em"].lower(), e["em"]))
    errors = [{"em": e["em"], "code": e.get("time_error") or ("no_result" if e.get("missing") else "em_error"),
               "message": "; ".join(e["first_errors"]) or "status error"} for e in ems if e["status"] == "error"]
    if not ems:
        errors.append({"em": None, "code": "no_ems", "message": NO_EMS})
    status = ems[0]["status"] if ems else "error"
    return {
        "warnings": same_server_warnings(ems),
        "status": status,
        "compliant": status in ("compliant", "warning"),
        "generated_at": now or utc_now(),
        "summary": fleet_summary(ems, errors),
        "ems": ems,
        "errors": errors,
        "expected": expected,
        "part_age": part_age,
    }


# ---------------------------------------------------------------------------------------------
# the parts' times: tonight's, or not a pass
# ---------------------------------------------------------------------------------------------

def check_part_times(entries, now, max_age_hours):
    """Make every part that is not of this run an ``error`` of its EM (``time_error``: ``stale_part``,
    ``future_part``, ``no_time``) and give each part with a time its ``age_hours``; returns the result's
    ``part_age`` (``reference``, ``max_hours``).

    The reference is ``now`` when given (a night replayed), else the controller's clock: a part left over from
    an earlier night (an EM whose run died before writing its part, an AWX merge node relaunched with its old
    artifacts - every part then old) is a day or more behind it. Not the newest part: when every part is old, the
    newest is old too, and the fleet read as compliant on last week's parts (found by review, session 16)."""
    reference = parse_iso(now) if now else clock()
    for entry in entries:
        time = _part_time(entry)
        if not isinstance(time, datetime):
            # a run that failed before its verdict sends no time and is an error already: not told twice
            if not (entry["generated_at"] is None and entry["status"] == "error"):
                _time_error(entry, "no_time", "this part has %s, so it cannot be told from a part of an earlier "
                                              "night: not a verdict of this run" % time)
            continue
        entry["age_hours"] = _hours(reference - time)
        # differences, not reference + 1 h: that overflows at the calendar's end (now=9999-12-31T23:30:00Z)
        if time - reference > FUTURE_SLACK:
            _time_error(entry, "future_part", "this part was generated at %s, %s hours after the merge's time %s: a "
                                              "wrong clock (the EM host's or the controller's), not a verdict of this "
                                              "run" % (format_z(time), _hours(time - reference), format_z(reference)))
        elif reference - time > timedelta(hours=max_age_hours):  # the bound itself passes, a second past it not
            _time_error(entry, "stale_part", "this part is %s hours older than the merge's time %s (generated at "
                                             "%s; max_part_age_hours=%s): a result left over from an earlier run, "
                                             "not this run's verdict" % (
                                                 entry["age_hours"], format_z(reference), format_z(time), max_age_hours))
    return {"reference": format_z(reference), "max_hours": max_age_hours}


def _part_time(entry):
    """The time a part speaks for (the older of ``generated_at`` and ``window.end``), or why there is none."""
    times = []
    for key, value in (("generated_at", entry["generated_at"]), ("window.end", entry["window"].get("end"))):
        if value is None and key == "window.end":
            continue  # generated_at alone dates the part
        try:
            times.append(parse_iso(value))
        except (TypeError, ValueError):
            return "%s %r, not a time" % (key, value)
        if times[-1] is None:
            return "no %s" % key
    return min(times)


def _hours(delta):
    return round(delta.total_seconds() / 3600.0, 1)


def _time_error(entry, code, text):
    entry["first_errors"].insert(0, text)
    entry["status"] = "error"
    entry["compliant"] = False
    entry.setdefault("time_error", code)


def same_server_warnings(ems):
    """One warning per Enterprise Manager read by two or more inventory hosts (their VMs are then
    counted twice in the fleet counts): ``[{code, em_server, ems, message}]``."""
    hosts = {}
    for entry in ems:
        server = str(entry["source"].get("em_server") or "").strip().rstrip("/").lower()
        if server:
            hosts.setdefault(server, []).append(entry["em"])
    return [{"code": "same_em_twice", "em_server": server, "ems": sorted(names),
             "message": "%s read the same Enterprise Manager %s: its VMs are counted once per host in the fleet "
                        "counts (one inventory host per EM)" % (" and ".join(sorted(names)), server)}
            for server, names in sorted(hosts.items()) if len(names) > 1]


def fleet_summary(ems, errors):
    summary = {"ems_total": len(ems)}
    for status in STATUSES:
        summary["ems_" + status] = sum(1 for e in ems if e["status"] == status)
    for key in SUMMARY_KEYS:
        summary[key] = sum(e["summary"][key] for e in ems)
    summary["fleet_errors"] = len(errors)
    return summary


def stats(result, max_items=10):
    """The small view for set_stats (AWX keeps it per job): counts, statuses, the first errors."""
    return {
        "status": result["status"], "compliant": result["compliant"], "generated_at": result["generated_at"],
        "summary": result["summary"],
        "ems": dict((e["em"], e["status"]) for e in result["ems"]),
        "first_errors": ["%s: %s" % (err["em"] or "(fleet)", err["message"][:300]) for err in result["errors"][:max_items]],
        "errors_omitted": max(len(result["errors"]) - max_items, 0),
        "warnings": [warning["message"][:300] for warning in result.get("warnings", [])[:max_items]],
    }


def message(result, title, max_items=20):
    """The fleet verdict as the role's delivery channels render it (roles/veeam_em_compliance/tasks/
    deliver_channels.yml): ``headline``, ``scope``, ``counts`` ([{title, value}]), the first
    ``max_items`` violations and errors (each ``"<em>: <text>"``, 300 characters at most) with how
    many were left out, and ``generic`` (the generic webhook's JSON besides title, lists and text).

    Built here rather than in Jinja so that the counts follow the merged numbers exactly, and an
    error of the fleet itself (no EM at all) is named like an EM's."""
    summary = result["summary"]
    status = result["status"]
    violations = [(e["em"], text) for e in result["ems"] for text in e["first_violations"]]
    violations_total = len(violations) + sum(e["violations_omitted"] for e in result["ems"])
    errors = [(err["em"] or "(fleet)", err["message"]) for err in result["errors"]]
    shown = max(int(max_items), 0)
    ems = "%d Enterprise Manager(s)" % summary["ems_total"]
    return {
        "headline": "[%s] %s - %d violation(s) on %d VM(s) in %s, %d error(s)" % (
            status.upper(), title, summary["violations_total"], summary["vms_violation"], ems, len(errors)),
        "scope": "the fleet",
        "counts": [
            {"title": "Enterprise Managers", "value": "%d total, %s" % (summary["ems_total"], ", ".join(
                "%d %s" % (summary["ems_" + name], name) for name in ("compliant", "warning", "violation", "error")))},
            {"title": "Evaluated", "value": "%s (UTC)" % result["generated_at"]},
            {"title": "VMs", "value": "%d total, %d compliant, %d warning, %d violation" % (
                summary["vms_total"], summary["vms_compliant"], summary["vms_warning"], summary["vms_violation"])},
            {"title": "Backup servers", "value": "%d total, %d silent" % (
                summary["servers_total"], summary["servers_silent"])},
            {"title": "Jobs", "value": "%d total, %d failed" % (summary["jobs_total"], summary["jobs_failed"])},
            {"title": "Findings", "value": "%d violation(s), %d error(s)" % (summary["violations_total"], len(errors))},
        ],
        "first_violations": [_line(em, text) for em, text in violations[:shown]],
        # what the parts left out (each EM lists only its first ones) and what this message leaves out
        "violations_omitted": violations_total - len(violations[:shown]),
        "first_errors": [_line(em, text) for em, text in errors[:shown]],
        "errors_omitted": len(errors) - len(errors[:shown]),
        "generic": {"status": status, "compliant": result["compliant"], "em_server": ems,
                    "generated_at": result["generated_at"], "summary": summary,
                    "ems": dict((e["em"], e["status"]) for e in result["ems"]),
                    "warnings": [warning["message"] for warning in result.get("warnings", [])]},
    }


def _line(em, text):
    line = "%s: %s" % (em, text)
    return line if len(line) <= 300 else line[:297] + "..."
