# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The HTML report's tables: findings, summary tiles, VMs, backup servers, jobs and the day grid."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.backupops.veeam_em.plugins.module_utils._report.common import STATUS_RANK, plural, vm_label
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.history import job_key
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html_changes import since_td
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html_base import (
    CELL_SYMBOLS, CELL_TITLES, h, status_td, table, td, time_td, todo_td)


def finding_rows(items, tags=None):
    """One row per finding; with ``tags`` (html_changes.since_map) a last column 'new' / 'since <date>'."""
    rows = []
    for item in items:
        rows.append(([since_td(item, tags)] if tags is not None else []) + [
            td(item.get("backup_server_name") or ("(all)" if item.get("scope") == "global" else "")),
            td(item.get("vm_display_name") or ""),
            td(item.get("code")), td(item.get("kind") or ""),
            detail_td(item), td(item.get("job_name") or ""), time_td(item.get("time")),
        ])
    return rows


def detail_td(item):
    """The finding's message and the EM session it is about, by the name the Veeam console lists.

    No link: the session's Href (not kept by the read) is an API resource that answers 401 without
    an EM logon session header, and EM has no documented web page per session.
    """
    session = item.get("session_name")
    return u'<td class="text">%s%s</td>' % (
        h(item.get("message")), (u'<br><span class="muted">session %s</span>' % h(session)) if session else u"")


def summary_cards(result):
    """Tiles that say what they count: VMs by status, then servers, jobs, findings and sessions.

    The job tiles count from the same rows as the "Jobs with failed runs" table, so they agree."""
    summary = result["summary"]
    cards = [("VMs judged", summary.get("vms_total"), False),
             ("VMs compliant", summary.get("vms_compliant"), False),
             ("VMs with warnings", summary.get("vms_warning"), False),
             ("VMs in violation", summary.get("vms_violation"), True),
             ("VMs seen only before the window", summary.get("vms_from_history", 0), False),
             ("backup servers", summary.get("servers_total"), False),
             ("silent backup servers", summary.get("servers_silent"), True),
             ("jobs", summary.get("jobs_total", 0), False),
             ("jobs whose last run failed", jobs_last_run_failed(result), True),
             ("jobs with failed runs in the window", len(failing_jobs(result)), True),
             ("violation findings (all VMs, servers, jobs)", summary.get("violations_total"), True),
             ("warning findings", summary.get("warnings_total"), False),
             ("read errors", summary.get("errors_total", 0), True),
             ("backup sessions", summary.get("backup_sessions"), False),
             ("copy sessions", summary.get("copy_sessions", 0), False),
             ("replica sessions", summary.get("replica_sessions"), False)]
    return u'<div class="cards">%s</div>' % u"".join(
        u'<div class="card%s"><b>%s</b>%s</div>' % (u" bad" if bad and value else u"", h(value), h(label))
        for label, value, bad in cards)


def grid(result, vms=None):
    days = result.get("window", {}).get("days", [])
    headers = ["status", "backup server", "VM", "kind"] + [d[5:] for d in days]
    rows = []
    for row in result["vms"] if vms is None else vms:
        for kind in ("backup", "copy", "replica"):
            block = row.get(kind)
            if block is None and not (kind == "backup" and row.get("replica") is None):
                continue
            cells = {c["date"]: c for c in (block or {}).get("daily", [])}
            line = [status_td(row["status"]), td(row.get("backup_server_name") or ""),
                    td(vm_label(row)), td(kind)]
            for day in days:
                cell = cells.get(day, {"cell": "none", "sessions": 0})
                title = "%s %s: %s (%s)" % (day, kind, CELL_TITLES.get(cell["cell"], cell["cell"]),
                                            plural(cell.get("sessions", 0), "session"))
                line.append(u'<td class="cell %s" title="%s">%s</td>' % (
                    h(cell["cell"]), h(title), h(CELL_SYMBOLS.get(cell["cell"], "?"))))
            rows.append(line)
    legend = u'<p class="legend">%s</p>' % u"".join(
        u'<span class="%s">%s %s</span>' % (h(k), h(CELL_SYMBOLS[k]), h(CELL_TITLES[k]))
        for k in ("success", "warning", "recovered", "failed", "running", "none"))
    return legend + table(headers, rows, css="grid sortable", filter_label="VMs")


def vm_rows(result, vms=None):
    rows = []
    for row in result["vms"] if vms is None else vms:
        backup = row.get("backup") or {}
        replica = row.get("replica") or {}
        rows.append([
            status_td(row["status"]), td(row.get("backup_server_name") or ""), td(vm_label(row)),
            td(", ".join(row.get("reasons", []))),
            time_td(backup.get("last_success_time")), td(backup.get("last_success_age_hours"), "num"),
            time_td(replica.get("last_success_time")), td(", ".join(row.get("jobs", []))),
            td("yes" if row.get("expected") else ""),
        ])
    return rows


def server_display_status(server):
    """A server's status as shown: never green while VMs on it are in violation or warning.

    The evaluation's own server status judges only the server (does it report?); the page
    colours the row by the worst of that and its VMs, so that a server with violations is not
    read as healthy at a glance.
    """
    status = server.get("status") or "compliant"
    if server.get("vms_violation") and STATUS_RANK.get(status, 3) > STATUS_RANK["violation"]:
        return "violation"
    if server.get("vms_warning") and STATUS_RANK.get(status, 3) > STATUS_RANK["warning"]:
        return "warning"
    return status


def server_rows(result):
    servers = sorted(result.get("servers", []),
                     key=lambda s: (STATUS_RANK.get(server_display_status(s), 3), -(s.get("vms_violation") or 0)))
    return [[status_td(server_display_status(s)), td(s.get("backup_server_name") or ""),
             td(s.get("sessions"), "num"), time_td(s.get("last_session_time")), td(s.get("vms"), "num"),
             td(s.get("vms_violation"), "num"), td(s.get("vms_warning"), "num"),
             td(", ".join(s.get("reasons", []))), todo_td(s.get("reasons", []))]
            for s in servers]


def job_display_status(job):
    """A job's status as shown: a job with failed runs in the window is never green (issue 17)."""
    status = job.get("status") or "compliant"
    if job.get("failed_sessions") and status == "compliant":
        return "warning"
    return status


# Shown for a job whose last run succeeded after failed runs in the window (not a code of the
# evaluation: the evaluation judges the last run; the page says why such a job is not green).
EARLIER_RUNS_FAILED = "earlier_runs_failed"


def job_display_reasons(job):
    """The reasons shown for a job: its findings' codes, or why a job without findings is not green."""
    if job.get("reasons"):
        return list(job["reasons"])
    return [EARLIER_RUNS_FAILED] if job.get("failed_sessions") else []


def jobs_last_run_failed(result):
    """Jobs whose newest finished run failed and was not made good (the summary's jobs_failed)."""
    return sum(1 for job in result.get("jobs", []) if job.get("failed"))


def failing_jobs(result):
    """Jobs not compliant or with failed runs, worst first: status, then most failed runs, then newest."""
    jobs = [job for job in result.get("jobs", [])
            if job.get("status") != "compliant" or job.get("failed_sessions") or job.get("failed")]
    jobs.sort(key=lambda job: job.get("last_session_time") or "", reverse=True)
    jobs.sort(key=lambda job: -(job.get("failed_sessions") or 0))
    jobs.sort(key=lambda job: STATUS_RANK.get(job_display_status(job), 3))
    return jobs


def job_note(job):
    note = []
    if job.get("running"):
        note.append("running now")
    if job.get("recovered_by_retry"):
        note.append("recovered by a retry")
    elif job.get("last_is_retry"):
        note.append("last run was a retry")
    return ", ".join(note)


def job_row(job):
    return [
        status_td(job_display_status(job)), td(job.get("backup_server_name") or ""),
        td(job.get("job_name") or ""),
        td("%s of %s" % (job.get("failed_sessions") or 0, job.get("sessions") or 0), "num"),
        td(", ".join(job_display_reasons(job))), td(job.get("job_type") or ""),
        time_td(job.get("last_session_time")), td(job.get("last_result") or ""),
        td(job.get("retries"), "num"), td(job_note(job)),
    ]


JOB_HEADERS = ["status", "backup server", "job", "failed runs", "reasons", "type", "last run (UTC)", "last result",
               "retries", "note"]


def failing_jobs_section(result):
    if "jobs" not in result:
        return u""
    jobs = failing_jobs(result)
    title = u'<a id="failing-jobs"></a><h2>Jobs with failed runs (%d of %d jobs; last run failed: %d)</h2>' % (
        len(jobs), len(result["jobs"]), jobs_last_run_failed(result))
    if not jobs:
        return title + u"<p>No job had a failed run in the window.</p>"
    # "what to do" right after the reasons: at 1280 px the table scrolls in its box, and what a person
    # acts on must be in view without scrolling (the details follow).
    rows = [row[:5] + [todo_td(job_display_reasons(job) or ["job_failed"])] + row[5:]
            for row, job in ((job_row(job), job) for job in jobs)]
    headers = JOB_HEADERS[:5] + ["what to do"] + JOB_HEADERS[5:]
    if result.get("trend"):
        headers.append("nights OK")
        nights = job_nights(result["trend"])
        for row, job in zip(rows, jobs):
            row.append(nights(job))
    return title + table(headers, rows, filter_label="jobs")


def job_nights(trend):
    """A cell per job: its nights OK of the trend ('all 30' when it is not below 100 %)."""
    below = dict((job_key(entry), entry) for entry in trend.get("jobs", []))

    def cell(job):
        entry = below.get(job_key(job))
        if entry is None:
            return td("all %d" % trend["nights"], "num")
        return u'<td class="marks">%d of %d<br>%s</td>' % (entry["ok"], entry["nights"], h(entry["marks"]))
    return cell


def jobs_section(result):
    """Per-job status (from job sessions); absent from results made without job sessions."""
    if "jobs" not in result:
        return u""
    title = u'<a id="jobs"></a><h2>Jobs (%d)</h2>' % len(result["jobs"])
    if not result["jobs"]:
        return title + u"<p>No job sessions were read.</p>"
    jobs = sorted(result["jobs"], key=lambda job: (STATUS_RANK.get(job_display_status(job), 3),
                                                   -(job.get("failed_sessions") or 0)))
    return title + table(JOB_HEADERS, [job_row(job) for job in jobs], filter_label="jobs")


# Parts of a message that differ between VMs with the same cause: addresses, host names, numbers.
