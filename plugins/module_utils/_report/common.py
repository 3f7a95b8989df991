# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""What every report format shares: input check, labels, safe text, remediation lines."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import ReportInputError  # noqa: F401


# Characters XML 1.0 cannot carry at all, not even escaped.
_XML_INVALID = re.compile(u"[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value):
    """Text safe for XML 1.0: None becomes '', forbidden control characters become U+FFFD."""
    if value is None:
        return ""
    return _XML_INVALID.sub(u"\ufffd", str(value))


def check_result(result):
    if not isinstance(result, dict) or "vms" not in result or "summary" not in result:
        raise ReportInputError("the input must be the result of the veeam_em_compliance filter")


def row_findings(row):
    """The findings of a VM row; ReportInputError for a row without them (a compact row: detail=compact). A
    report that judges row by row (JUnit) never reads such a row as passing: the compact rows of a module
    whose reports could not be written, rendered by the role, showed every VM green (found by attack)."""
    if not isinstance(row, dict) or "findings" not in row:
        name = row.get("vm_display_name") if isinstance(row, dict) else row
        raise ReportInputError("the VM row %r carries no findings (a compact row, detail=compact): the reports are "
                               "rendered from the full evaluation" % (name,))
    return row["findings"]


def server_label(name):
    return name if name else "(unknown backup server)"


def vm_label(row):
    return row.get("vm_display_name") or row.get("vm_uid") or "(unnamed VM)"


def job_label(job):
    return "%s / %s" % (server_label(job.get("backup_server_name")), job.get("job_name") or "(unnamed job)")


# What a person does first about each reason code (one line, shown next to the finding). The codes
# are those of module_utils/_compliance/vocabulary.py; a code without a line gets the generic one.
REMEDIATION = {
    "rpo_exceeded": "Find why the VM's job did not run or failed (job history in the Veeam console); "
                    "run the job now, then fix the cause so the next run succeeds.",
    "replica_rpo_exceeded": "Check the replication job's schedule and last runs; start it once the cause is fixed.",
    "copy_rpo_exceeded": "Check the backup copy job (target repository reachable, copy window long enough); "
                         "start a copy now.",
    "last_backup_failed": "Read the failure reason below, fix it (host/credentials/storage), then retry the job "
                          "for this VM.",
    "last_replica_failed": "Read the failure reason, fix it, then retry the replication job.",
    "last_copy_failed": "Read the failure reason, fix it (often the copy target), then retry the copy job.",
    "last_backup_warning": "Read the warning in the session log; it often precedes a failure (disk space, CBT, tools).",
    "last_replica_warning": "Read the warning in the replica session log.",
    "last_copy_warning": "Read the warning in the copy session log.",
    "recovered_failure": "A retry succeeded; look at why the first try failed if it repeats.",
    "stuck_session": "The session has run for too long: check it in the Veeam console and stop it if it hangs "
                     "(locked snapshot, unresponsive proxy).",
    "long_running": "The run exceeds the allowed duration: check proxy/repository load or split the job.",
    "never_backed_up": "The VM is expected but no job covers it: add it to a job (or fix the expected list / name).",
    "server_silent": "The backup server reported nothing: check that it is running, reachable from Enterprise "
                     "Manager and that its jobs are scheduled.",
    "earlier_runs_failed": "The last run did not fail, but earlier runs in the window did: read why in the job's "
                           "history before it fails again.",
    "job_failed": "Open the job's last session in the Veeam console, fix the cause, then retry the job.",
    "unreadable_sessions": "Enterprise Manager returned sessions the report cannot read: check the EM version "
                           "and the read errors; the verdicts do not cover them.",
    "read_error": "Enterprise Manager could not be read: fix the connection/credentials named in the message and "
                  "run again - the verdicts are incomplete.",
    "partial_view": "Use an EM account with the Portal Administrator role, or accept the partial view on purpose "
                    "(allow_partial_view).",
    "clock_skew": "A session is dated in the future: set the clock (NTP) of the backup server, of Enterprise "
                  "Manager or of the Ansible controller; until then its successes are not counted.",
    "ambiguous_vm": "Two VMs share this name on one backup server and EM (before 13) sends no VM UID: rename one "
                    "of them (or upgrade EM) so that each is judged on its own sessions.",
    "job_type_unknown": "Backup task sessions whose job session EM did not return (a backup copy job whose session "
                        "runs for weeks) are judged as copies: check those jobs in the Veeam console.",
    "no_data": "Nothing was read: check the EM address, the account and the window, then run again.",
    "scope_unmatched": "An include pattern selects nothing: correct it (case is ignored, * and ? are wildcards), or "
                       "find the VMs it meant in the Veeam console - VMs that left EM are not backed up.",
}
GENERIC_REMEDIATION = "See the message; check the session in the Veeam console."

STATUS_RANK = {"error": 0, "violation": 1, "warning": 2, "compliant": 3}


def unique(values):
    """The values in their first order without repeats (a set beside the list: groups hold thousands)."""
    seen, found = set(), []
    for value in values:
        if value not in seen:
            seen.add(value)
            found.append(value)
    return found


def plural(count, word, plural=None):
    return "%d %s" % (count, word if count == 1 else (plural or word + "s"))
