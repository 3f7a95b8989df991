# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Query options of the job-session info modules (all but O(job_type), which differs).

    Mirrors em_resources.job_session_fields() and em_job_session_info.run_job_session_info_module(); a unit
    test compares them.
    """

    DOCUMENTATION = r"""
options:
  id:
    description:
      - Read one job session by its UID (C(urn:veeam:<Kind>JobSession:<guid>)) or bare GUID,
        with C(GET /api/backupSessions/<guid>?format=Entity) (backup) or C(GET /api/replicaSessions/<guid>?format=Entity) (replica).
      - Mutually exclusive with every filter option and O(filter).
      - An unknown id returns an empty list.
    type: str
  include_task_sessions:
    description:
      - Also return the task sessions (one per VM) of every job session, in the key C(task_sessions) of each item
        (oldest first; null when this is false).
      - Read without one request per job session - for every 40 job sessions, one task-session query
        with a C(JobSessionUid) OR-filter (walked page by page), grouped by job session.
    type: bool
    default: false
  uid:
    description:
      - Job session UIDs (URN or bare GUID). Several values are ORed.
    type: list
    elements: str
  name:
    description:
      - Job session name, C(<job>@<yyyy-MM-dd HH:mm:ss>). A string or a list of strings (ORed); a
        string is never split on commas. Exact match (EM has no wildcards).
    type: raw
  job_name:
    description:
      - Name of the job. A string or a list of strings (ORed).
    type: raw
  job_uid:
    description:
      - Job UIDs (C(urn:veeam:Job:<guid>) or bare GUID), ORed.
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
      - Job session states, ORed. One or more of C(Starting), C(Stopping), C(Working), C(Pausing), C(Resuming),
        C(Stopped) (case-insensitive). Every state but C(Stopped) means the job is running.
    type: list
    elements: str
  result:
    description:
      - Job session results, ORed. One or more of C(Success), C(Warning), C(Failed) (case-insensitive).
        Running sessions have no result.
    type: list
    elements: str
  is_retry:
    description:
      - V(true) for retry sessions only (EM records every automatic or manual retry as a separate job session),
        V(false) for first runs only. Omit for both.
    type: bool
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
    choices: [uid, name, job_name, job_uid, job_type, backup_server_name, backup_server_uid, state, result,
              is_retry, creation_time, end_time]
  sort_order:
    description:
      - Sort direction.
    type: str
    default: desc
    choices: [asc, desc]
"""
