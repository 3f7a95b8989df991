# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Compliance vocabulary: field lists, statuses, kinds, reason codes, cell values, the input error.

FOR INTERNAL COLLECTION USE ONLY: the public front is module_utils/em_compliance.py; names here may
change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_errors

# The compliance core's input error lives with every other exception (em_errors); its old name here stays.
ComplianceInputError = em_errors.ComplianceInputError


# The keys of each resource the evaluation reads (``uid`` is always returned). Readers ask EM's
# client for exactly these (option ``fields``); tests/unit/plugins/filter/
# test_compliance_role_contract.py records the keys the evaluation really touches and fails when
# these lists drift from them.
TASK_SESSION_FIELDS = ("name", "vm_display_name", "vm_uid", "job_name", "backup_server_uid",
                       "backup_server_name", "creation_time", "end_time", "state", "result", "reason")


# job_session_uid: the job type of a backup task session is on its job session (fold.job_type_of).
BACKUP_TASK_SESSION_FIELDS = TASK_SESSION_FIELDS + ("restore_point_uid", "job_session_uid")


# job_session_uid: two VMs of one name in one replica job session are ambiguous_vm (a replica task session has no
# VmUid on any EM: FACTS 5.3; JobSessionUid is documented [DOC] and the emulator sends it).
REPLICA_TASK_SESSION_FIELDS = TASK_SESSION_FIELDS + ("replica_point_uid", "job_session_uid")


JOB_SESSION_FIELDS = ("name", "job_uid", "job_id", "job_name", "job_type", "backup_server_name", "creation_time",
                      "end_time", "state", "result", "is_retry")


BACKUP_SERVER_FIELDS = ("name",)


STATUS_COMPLIANT = "compliant"


STATUS_WARNING = "warning"


STATUS_VIOLATION = "violation"


# EM could not be read, or only in part (a failed read, an account that sees part of EM): the
# verdicts cover only what was read, so the run is neither compliant nor a list of breaches.
STATUS_ERROR = "error"


SEVERITY_RANK = {STATUS_COMPLIANT: 0, STATUS_WARNING: 1, STATUS_VIOLATION: 2, STATUS_ERROR: 3}


KIND_BACKUP = "backup"


KIND_REPLICA = "replica"


# Task sessions of backup-copy runs: their own time line, never the backup's (see fold.kind_of).
KIND_COPY = "copy"


KIND_JOB = "job"


# Job types (on the job session, FACTS 5.4/6) whose task sessions take a new backup of the VM from its
# source [DOC: the JobType enum; INF: which of them read the source]. Every other job type of a backup
# task session (BackupCopy, ImmediateBackupCopy, ImmediateBackupCopyWorker, AgentManagement and any
# type this collection does not know) copies or manages existing points: it goes to the copy time line
# and can neither satisfy the backup RPO nor "recover" a failed backup. A type EM sends that is not in
# this list is put there too, because counting a copy as a fresh backup is a false pass while the reverse
# is a visible alarm. (A session whose job type could not be found at all is another case: see
# fold.kind_of.)
SOURCE_BACKUP_JOB_TYPES = ("backup", "agentbackup", "nasbackup")


# Reason codes.  Severity is fixed per code except the *_warning codes, whose severity follows
# the accept_warnings policy (see rules.last_failed).
RPO_EXCEEDED = "rpo_exceeded"


REPLICA_RPO_EXCEEDED = "replica_rpo_exceeded"


LAST_BACKUP_FAILED = "last_backup_failed"


LAST_REPLICA_FAILED = "last_replica_failed"


LAST_BACKUP_WARNING = "last_backup_warning"


LAST_REPLICA_WARNING = "last_replica_warning"


RECOVERED_FAILURE = "recovered_failure"


STUCK_SESSION = "stuck_session"


LONG_RUNNING = "long_running"


NEVER_BACKED_UP = "never_backed_up"


NO_DATA = "no_data"


SERVER_SILENT = "server_silent"


COPY_RPO_EXCEEDED = "copy_rpo_exceeded"


LAST_COPY_FAILED = "last_copy_failed"


LAST_COPY_WARNING = "last_copy_warning"


JOB_FAILED = "job_failed"


UNREADABLE_SESSIONS = "unreadable_sessions"


READ_ERROR = "read_error"


PARTIAL_VIEW = "partial_view"


# A session dated after the evaluation time (a backup server's, EM's or the controller's clock is
# wrong): its success is no evidence of protection (rules.clock_skew).
CLOCK_SKEW = "clock_skew"


# Two VMs of one display name in one job session, without VmUid (before EM 13): one row judges both
# (rules.ambiguous_vm).
AMBIGUOUS_VM = "ambiguous_vm"

# Backup task sessions whose job session is not among the job sessions read (FACTS 6: the job type is on
# the job session): judged as copies, never as backups (fold.kind_of; rules.job_type_unknown).
JOB_TYPE_UNKNOWN = "job_type_unknown"


# An include pattern (include_vms, include_servers, include_jobs) that selects nothing of EM's answer: a typo, or
# VMs that left EM after 30 days without sessions (FACTS 6) - said, never a silent narrower run (rules.scope_unmatched).
SCOPE_UNMATCHED = "scope_unmatched"


REASON_CODES = (
    RPO_EXCEEDED, REPLICA_RPO_EXCEEDED, LAST_BACKUP_FAILED, LAST_REPLICA_FAILED,
    LAST_BACKUP_WARNING, LAST_REPLICA_WARNING, RECOVERED_FAILURE, STUCK_SESSION, LONG_RUNNING,
    NEVER_BACKED_UP, NO_DATA, SERVER_SILENT, COPY_RPO_EXCEEDED, LAST_COPY_FAILED, LAST_COPY_WARNING,
    JOB_FAILED, UNREADABLE_SESSIONS, READ_ERROR, PARTIAL_VIEW, CLOCK_SKEW, AMBIGUOUS_VM, JOB_TYPE_UNKNOWN,
    SCOPE_UNMATCHED,
)


# Per kind: (RPO code, open-failure code, open-warning code).
KIND_CODES = {
    KIND_BACKUP: (RPO_EXCEEDED, LAST_BACKUP_FAILED, LAST_BACKUP_WARNING),
    KIND_REPLICA: (REPLICA_RPO_EXCEEDED, LAST_REPLICA_FAILED, LAST_REPLICA_WARNING),
    KIND_COPY: (COPY_RPO_EXCEEDED, LAST_COPY_FAILED, LAST_COPY_WARNING),
}


# Per kind: the policy key of its RPO.
KIND_RPO_OPTIONS = {KIND_BACKUP: "backup_rpo_hours", KIND_REPLICA: "replica_rpo_hours", KIND_COPY: "copy_rpo_hours"}


EXPECTED_VM_MATCHES = ("exact", "fqdn", "short")


FAILED_JOB_SEVERITIES = (STATUS_WARNING, STATUS_VIOLATION)


STATE_COMPLETED = "Completed"


RUNNING_STATES = ("InProgress", "Pending")


RESULT_SUCCESS = "Success"


RESULT_WARNING = "Warning"


RESULT_FAILED = "Failed"


# Day-grid cell values (one per VM, kind and UTC day).
CELL_NONE = "none"


CELL_SUCCESS = "success"


CELL_WARNING = "warning"


CELL_RECOVERED = "recovered"


CELL_FAILED = "failed"


CELL_RUNNING = "running"


# How far back EM keeps sessions: collection endpoints return only the last 30 days (FACTS 6;
# whether /api/query is limited too is UNCONFIRMED). The VMs to judge are those of this history,
# not only those of the lookback window: a VM whose backups stopped must not drop out of sight.
HISTORY_DAYS = 30


# The keys the history (the sessions before the window) is read with: identity, scope, the time
# line of successes and the point a finding names; enough for the VM to be judged, not the reason
# texts and sizes the rules of the window read.
HISTORY_FIELDS = ("name", "vm_display_name", "vm_uid", "job_name", "backup_server_uid", "backup_server_name",
                  "creation_time", "end_time", "state", "result")


BACKUP_HISTORY_FIELDS = HISTORY_FIELDS + ("restore_point_uid",)


REPLICA_HISTORY_FIELDS = HISTORY_FIELDS + ("replica_point_uid",)


JOB_RUNNING_STATES = ("Starting", "Stopping", "Working", "Pausing", "Resuming")


# The keys a compact VM row keeps: who it is and the verdict. Everything else (findings with
# messages, per-kind detail, the day grid) stays in the full evaluation and its JSON report.
COMPACT_VM_KEYS = ("vm_display_name", "vm_uid", "backup_server_name", "backup_server_uid", "status", "reasons")
