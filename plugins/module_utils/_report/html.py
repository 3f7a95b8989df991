# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The self-contained HTML page: header, banner, what is wrong first, then every table."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.backupops.veeam_em.plugins.module_utils._report.common import check_result, plural
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html_base import (
    CSS, SCRIPT, h, local_time, show_time, table)
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html_changes import (
    changes_section, limit_rows, omitted_note, since_map, trend_section)
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html_causes import causes_section
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html_tables import (
    failing_jobs, failing_jobs_section, jobs_last_run_failed, finding_rows, grid, jobs_section, server_rows, summary_cards, vm_rows)


BANNER_WORDS = {
    "error": u"ERROR: Enterprise Manager could not be read in full - the verdicts below cover only what was read",
    "violation": u"VIOLATION: VMs, backup servers or jobs are out of policy",
    "warning": u"WARNING: every VM is protected, with warnings",
    "compliant": u"COMPLIANT: every VM judged is protected",
}


def banner_counts(result):
    """The banner's count line: each number names what it counts (VMs, servers, jobs or findings)."""
    summary = result["summary"]
    jobs = result.get("jobs", [])
    jobs_violation = sum(1 for job in jobs if job.get("status") == "violation")
    jobs_with_failed_runs = len(failing_jobs(result))
    parts = ["%d of %d VMs in violation" % (summary.get("vms_violation", 0), summary.get("vms_total", 0)),
             "%d with warnings" % summary.get("vms_warning", 0),
             "%d of %d backup servers silent" % (summary.get("servers_silent", 0), summary.get("servers_total", 0))]
    if "jobs" in result:
        parts.append("%d of %d jobs failed on their last run, %d had failed runs in the window (%d in violation)" % (
            jobs_last_run_failed(result), len(jobs), jobs_with_failed_runs, jobs_violation))
    parts.append("findings: %s, %s, %s" % (
        plural(summary.get("violations_total", 0), "violation"), plural(summary.get("warnings_total", 0), "warning"),
        plural(summary.get("errors_total", 0), "read error")))
    return "; ".join(parts)


def _banner(result):
    """The status in its own colour and words, and counts that say what they count."""
    status = result.get("status", "violation")
    errors = u"".join(u"<small>%s</small>" % h(item.get("message")) for item in result.get("errors", []))
    return u'<a id="status"></a><div class="banner %s">%s<small>%s</small>%s</div>' % (
        h(status), h(BANNER_WORDS.get(status, status.upper())), h(banner_counts(result)), errors)


def _source(result):
    """Which EM and account were read: the module adds ``source``; the filter's input may not."""
    source = result.get("source") or {}
    servers = source.get("em_servers") or ([source["em_server"]] if source.get("em_server") else [])
    return (", ".join(str(s) for s in servers) or "(not given to the report)",
            source.get("username") or "(not given to the report)")


def _header(result, title):
    window = result.get("window", {})
    policy = result.get("policy", {})
    servers, account = _source(result)
    generated = result.get("generated_at")
    local = local_time(generated)
    policy_text = (u"backup RPO %sh, replica RPO %s, copy RPO %s, warnings %s, max duration %s min, "
                   u"stuck after %sh, failed jobs are %s" % (
                       policy.get("backup_rpo_hours"),
                       ("%sh" % policy.get("replica_rpo_hours")) if policy.get("replica_rpo_hours") else "off",
                       ("%sh" % policy.get("copy_rpo_hours")) if policy.get("copy_rpo_hours") else "off",
                       "accepted" if policy.get("accept_warnings") else "not accepted",
                       policy.get("max_duration_minutes"), policy.get("stuck_hours"),
                       policy.get("failed_job_severity") or "warnings"))
    rows = [("Enterprise Manager", servers), ("Account", account),
            ("Window (UTC)", u"%s \u2192 %s (%s days)" % (
                show_time(window.get("start")), show_time(window.get("end")), window.get("lookback_days"))),
            ("Policy", policy_text),
            ("Generated", u"%s UTC%s" % (show_time(generated), (" (%s on the controller)" % local) if local else ""))]
    if window.get("replayed"):  # the module's mark: a now left in group_vars must not pass for tonight's run
        rows.insert(3, ("Replay", u"a past night: the evaluation time is %s hours before the controller's clock, "
                                  u"these are not tonight's verdicts" % window.get("replay_hours")))
    return u'<h1>%s</h1><dl class="meta">%s</dl>' % (
        h(title), u"".join(u"<dt>%s</dt><dd>%s</dd>" % (h(k), h(v)) for k, v in rows))


def _nav(result):
    links = [("causes", "Causes"), ("violations", "Violations"), ("warnings", "Warnings"), ("vms", "VMs"),
             ("servers", "Backup servers"), ("grid", "Day grid")]
    if result.get("errors"):
        links.insert(0, ("errors", "Errors"))
    if "jobs" in result:
        links.insert(0, ("failing-jobs", "Failing jobs"))
        links.append(("jobs", "Jobs"))
    if result.get("changes"):
        links.insert(links.index(("violations", "Violations")), ("changes", "Since last report"))
    if result.get("trend"):
        links.append(("trend", "Trend"))
    return u"<nav>%s</nav>" % u"".join(u'<a href="#%s">%s</a>' % (h(a), h(t)) for a, t in links)


FINDING_HEADERS = ["backup server", "VM", "reason", "kind", "detail", "job", "time (UTC)"]


def _errors_section(result, tags):
    """Errors (EM not read, or only in part) first: they limit every verdict below them."""
    if not result.get("errors"):
        return u""
    return (u'<a id="errors"></a><h2>Errors (%d)</h2>' % len(result["errors"])
            + table(_finding_headers(tags), finding_rows(result["errors"], tags), filter_label="errors"))


def _finding_headers(tags):
    return (["since last report"] if tags is not None else []) + FINDING_HEADERS


def _findings_section(anchor, name, items, tags, max_rows, json_href):
    title = u'<a id="%s"></a><h2>%s (%d)</h2>' % (h(anchor), h(name), len(items))
    if not items:
        return title + u"<p>None.</p>"
    shown, omitted = limit_rows(items, max_rows)
    return (title + omitted_note(omitted, len(items), json_href)
            + table(_finding_headers(tags), finding_rows(shown, tags), filter_label=name.lower()))


def _vm_sections(result, max_rows, json_href):
    """The VMs table and the day grid; above ``max_rows`` VMs only those not compliant, then the JSON."""
    shown, omitted = limit_rows(result["vms"], max_rows, keep=lambda row: row.get("status") != "compliant")
    note = omitted_note(omitted, len(result["vms"]), json_href)
    return [
        u'<a id="vms"></a><h2>VMs (%d)</h2>' % len(result["vms"]), note,
        table(["status", "backup server", "VM", "reasons", "last backup point (UTC)", "age (h)",
               "last replica point (UTC)", "jobs", "expected"], vm_rows(result, shown), filter_label="VMs"),
        u'<a id="servers"></a><h2>Backup servers (%d)</h2>' % len(result.get("servers", [])),
        table(["status", "backup server", "sessions", "last session (UTC)", "VMs", "VMs in violation",
               "VMs with warnings", "reasons", "what to do"], server_rows(result), filter_label="servers"),
        jobs_section(result),
        u'<a id="grid"></a><h2>Results per VM and day (UTC)</h2>', note,
        grid(result, shown),
    ]


def to_html(result, title="Veeam backup compliance", max_rows=None, json_href=None):
    """A self-contained HTML page (inline CSS and one small inline script, no external assets).

    What is wrong comes first: the banner, failing jobs, causes grouped with a line on what to do,
    what changed since the last report (when ``result`` carries ``changes``, see _report/history.py),
    then every finding, the VMs, backup servers, all jobs, the day grid and the nightly trend.
    ``max_rows``: above that many VMs the tables keep the VMs not compliant (at most ``max_rows``
    rows each) and say how many rows are only in the JSON report (``json_href``, relative link).
    """
    check_result(result)
    tags = since_map(result)
    parts = [
        u"<!DOCTYPE html>",
        u'<html lang="en"><head><meta charset="utf-8">',
        u'<meta name="viewport" content="width=device-width, initial-scale=1">',
        u"<title>%s</title><style>%s</style></head><body>" % (h(title), CSS),
        _header(result, title),
        _banner(result),
        _nav(result),
        summary_cards(result),
        _errors_section(result, tags),
        failing_jobs_section(result),
        causes_section(result),
        changes_section(result),
        _findings_section("violations", "Violations", result.get("violations", []), tags, max_rows, json_href),
        _findings_section("warnings", "Warnings", result.get("warnings", []), None, max_rows, json_href),
    ] + _vm_sections(result, max_rows, json_href) + [
        trend_section(result),
        u'<p class="muted">Generated by backupops.veeam_em.veeam_em_compliance. Times are UTC.</p>',
        u"<script>%s</script>" % SCRIPT,
        u"</body></html>",
    ]
    return u"\n".join(parts) + u"\n"
