# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The compliance policy: options of the veeam_em_compliance filter and of the
    veeam_em_compliance_info module, which share module_utils/em_compliance.py.

    Defaults mirror em_compliance.DEFAULT_POLICY; a unit test compares them.
    """

    DOCUMENTATION = r"""
options:
  backup_rpo_hours:
    description:
      - Maximum age, in hours, of the data of the newest successful backup point. The age is
        counted from the time of the data - the task session's creation time (the snapshot is taken
        near the start of the task), or a restore point's own creation time when the session carries
        it as C(restore_point_time) - not from the end of the session.
      - A number from 0 to 1000000 (about a century); another value (or nan) fails before any request.
    type: float
    default: 24
  replica_rpo_hours:
    description:
      - Maximum age of the newest successful replica point, in hours; V(0) disables the check.
      - A number from 0 to 1000000 (about a century); another value (or nan) fails before any request.
    type: float
    default: 24
  lookback_days:
    description:
      - Length of the window, in days, that tells which VMs are protected at all.
      - A number from 0 to 40000 (about a century); another value (or nan) fails before any request.
    type: float
    default: 7
  recent_hours:
    description:
      - Recovered failures are reported when the failed session ended within this many hours, and
        finished long-running sessions when they ended within it, whenever they started (running
        ones every night). Set it to the interval between runs, so that each is reported once.
      - A number from 0 to 1000000 (about a century); another value (or nan) fails before any request.
    type: float
    default: 24
  accept_warnings:
    description: Count a C(Warning) result as a protected point.
    type: bool
    default: true
  max_duration_minutes:
    description:
      - Longest acceptable session duration; V(0) disables the check.
      - A number from 0 to 60000000 (about a century); another value (or nan) fails before any request.
    type: float
    default: 480
  stuck_hours:
    description:
      - A session InProgress or Pending for longer than this since its creation is stuck.
      - A number from 0 to 1000000 (about a century); another value (or nan) fails before any request.
    type: float
    default: 12
  copy_rpo_hours:
    description:
      - Maximum age, in hours, of the data of the newest successful backup-copy point (C(copy_rpo_exceeded));
        V(0) turns it off.
      - A backup task session is classified by the C(JobType) of its job session (read with the job
        sessions). Only C(Backup), C(AgentBackup) and C(NasBackup) take a new backup from the source;
        the others (C(BackupCopy), C(ImmediateBackupCopy), C(ImmediateBackupCopyWorker),
        C(AgentManagement), unknown types) form a copy time line of their own (C(copy) in the VM row,
        C(last_copy_failed)) and never satisfy the backup RPO nor recover a failed backup.
      - Without job sessions the job type is unknown and every session counts as a backup, as
        before job types were read; C(summary.backup_sessions_job_type_unknown) counts them.
      - A number from 0 to 1000000 (about a century); another value (or nan) fails before any request.
    type: float
    default: 0
  failed_job_severity:
    description:
      - Severity of C(job_failed) - a job whose newest finished job session failed (or ended with
        Warning while warnings are not accepted) and was not followed by a successful run or retry.
        A job session can fail after all its VMs succeeded (merge, synthetic full, transform).
    type: str
    choices: [warning, violation]
    default: warning
  expected_vm_match:
    description:
      - How O(expected_vms) names match EM's VM names; case is always ignored.
      - V(exact) - whole names.
      - V(fqdn) - whole names, or a bare host name and an FQDN whose first DNS label it is
        (C(sql-prod-026) = C(sql-prod-026.corp.example.com)); two FQDNs must be equal, so different
        domains never stand for each other. A name is read as an FQDN by its dots alone, so a VM renamed
        with a dotted suffix (C(sql02.old)) also stands for C(sql02); where VMs are renamed that way, use
        V(exact), or the old VM may satisfy the entry while the new one has no backup.
      - V(short) - first DNS labels only, whatever the domains.
      - An entry that matches nothing gets a "did you mean" with close EM names in its message.
    type: str
    choices: [exact, fqdn, short]
    default: fqdn
  include_vms:
    description:
      - Globs of VM display names to evaluate (empty = all).
      - An entry without a glob character (C(*), C(?), C([)) names one VM; when no VM of EM's answer matches it
        (as O(expected_vms) entries match, see O(expected_vm_match)) and it is not excluded, that VM gets a row
        of its own with C(never_backed_up) - a VM that left EM (after 30 days without sessions) or a name
        that selects nothing is never silently out of the run.
      - Case is ignored, and a pattern equal to a VM's name matches it (C(sql01 [DR]) names that VM, although
        C([DR]) is a glob set). The spaces around each pattern of this and the other include, exclude and
        known options are dropped (a comma-separated text from an AWX survey is split on the commas only); an
        empty pattern (a trailing comma) is refused.
      - An O(expected_vms) entry is judged when a VM name it stands for (see O(expected_vm_match)) may match
        these globs - C(sql02) under C(*.corp.example.com) is judged, since EM may name it
        C(sql02.corp.example.com) - and when its backup server is in the server scope (a server given by UID
        is judged unless that UID is excluded).
    type: list
    elements: str
    default: []
  exclude_vms:
    description: Globs of VM display names to ignore.
    type: list
    elements: str
    default: []
  include_jobs:
    description: Globs of job names whose sessions are evaluated (empty = all).
    type: list
    elements: str
    default: []
  exclude_jobs:
    description: Globs of job names whose sessions are ignored.
    type: list
    elements: str
    default: []
  include_servers:
    description: Globs of backup server names to evaluate (empty = all).
    type: list
    elements: str
    default: []
  exclude_servers:
    description: Globs of backup server names to ignore.
    type: list
    elements: str
    default: []
  expected_vms:
    description:
      - VMs that must be protected, e.g. from a CMDB. Each entry is a VM name or a dict with
        C(name) and optional C(backup_server) (name or UID).
    type: list
    elements: raw
    default: []
  known_backup_servers:
    description: Backup servers (names or UIDs) that must have sessions in the window.
    type: list
    elements: str
    default: []
  allow_partial_view:
    description:
      - Whether a view of only part of EM is acceptable. When the account is not a Portal Administrator
        (found by M(backupops.veeam_em.veeam_em_compliance_info) with one probe; the filter's C(view_limits)),
        each limit is a C(partial_view) finding with severity C(error) and the run is not compliant; V(true)
        makes it a warning.
    type: bool
    default: false
"""
