# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Filter and sort options of the task-session info modules (paging and the rest: query_paging).

    Mirrors em_resources.task_session_fields() and em_query.query_argument_spec(); a unit test
    compares them, so a change in the table without a change here fails the tests.
    """

    DOCUMENTATION = r"""
options:
  id:
    description:
      - Read one task session by its UID (C(urn:veeam:<Kind>TaskSession:<guid>)) or bare GUID,
        with C(GET /api/<kind>TaskSessions/<guid>?format=Entity).
      - Mutually exclusive with every filter option and O(filter).
      - An unknown id returns an empty list.
    type: str
  uid:
    description:
      - Task session UIDs (URN or bare GUID). Several values are ORed.
    type: list
    elements: str
  name:
    description:
      - Task session name, C(<vm>@<yyyy-MM-dd HH:mm:ss>). A string or a list of strings (ORed); a
        string is never split on commas. Exact match (EM has no wildcards).
    type: raw
  vm_display_name:
    description:
      - VM display name. A string or a list of strings (ORed).
    type: raw
  job_name:
    description:
      - Name of the job that ran the task. A string or a list of strings (ORed).
    type: raw
  job_uid:
    description:
      - Job UIDs (C(urn:veeam:Job:<guid>) or bare GUID), ORed.
    type: list
    elements: str
  job_session_uid:
    description:
      - Job session UIDs (C(urn:veeam:BackupJobSession:<guid>) for backups,
        C(urn:veeam:ReplicaJobSession:<guid>) for replicas, or a bare GUID), ORed.
    type: list
    elements: str
  backup_server_name:
    description:
      - Name of the backup server (as registered in EM). A string or a list of strings (ORed).
    type: raw
  backup_server_uid:
    description:
      - Backup server UIDs (C(urn:veeam:BackupServer:<guid>) or bare GUID), ORed.
    type: list
    elements: str
  state:
    description:
      - Task session states, ORed. One or more of C(InProgress), C(Pending), C(Completed) (case-insensitive).
    type: list
    elements: str
  result:
    description:
      - Task session results, ORed. One or more of C(Success), C(Warning), C(Failed) (case-insensitive).
    type: list
    elements: str
  reason:
    description:
      - Exact warning/failure text. A string or a list of strings (ORed).
    type: raw
  total_size_min:
    description:
      - Only sessions whose total size in bytes is at least this.
    type: int
  total_size_max:
    description:
      - Only sessions whose total size in bytes is at most this.
    type: int
  created_after:
    description:
      - Only sessions created at or after this time.
      - ISO 8601 (C(2025-06-05T01:04:29Z), C(2025-06-05T03:04:29+02:00); without a zone it is UTC; a date
        alone is midnight UTC) or a relative window before now (C(30s), C(90m), C(24h), C(7d), C(2w)).
      - Sent to EM as UTC with whole seconds.
    type: str
  created_before:
    description:
      - Only sessions created before this time (same formats as O(created_after)).
    type: str
  ended_after:
    description:
      - Only sessions that ended at or after this time (same formats as O(created_after)).
    type: str
  ended_before:
    description:
      - Only sessions that ended before this time (same formats as O(created_after)).
    type: str
  sort_by:
    description:
      - Query field to sort by. A sort is always sent so that paging is stable.
    type: str
    default: creation_time
    choices: [uid, name, vm_display_name, job_name, job_uid, job_session_uid, backup_server_name,
              backup_server_uid, state, result, reason, total_size, creation_time, end_time]
  sort_order:
    description:
      - Sort direction.
    type: str
    default: desc
    choices: [asc, desc]
"""
