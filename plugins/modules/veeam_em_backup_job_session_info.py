#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: veeam_em_backup_job_session_info
short_description: Read backup job sessions (one per job run), optionally with their task sessions, from Veeam Backup Enterprise Manager
version_added: 1.0.0
description:
  - Reads C(BackupJobSession) objects from the Veeam Backup Enterprise Manager (EM) REST API with the
    query service (C(GET /api/query?type=BackupJobSession&format=Entities)), walking every page, or one
    session by O(id).
  - Every typed option becomes a quoted, percent-encoded EM filter clause; options are ANDed, list values ORed.
    Values can never change the meaning of the query.
  - With O(include_task_sessions) the task sessions (one per VM) of every returned job session are read too,
    without one request per job session (see the option).
  - Items are normalised to flat snake_case dictionaries, identical for XML and JSON responses.
  - EM's keys are matched in any case (EM 13.0.1 writes its JSON keys in camelCase, older versions in
    PascalCase). An answer whose collection cannot be found, or a page that EM's paging information
    says holds items but from which none can be read, fails the module; it never reads as an empty list.
  - Placeholder times (C(1900-01-01T00:00:00), C(0001-01-01T00:00:00), anything before 1970) are returned
    as null, and so is an end time on a running session or one earlier than the creation time.
  - Job sessions or task sessions that lack a UID or a creation time are returned (with null there) and a
    warning gives their count and the first one's UID.
author:
  - backupops engineering (@backupops)
extends_documentation_fragment:
  - backupops.veeam_em.connection
  - backupops.veeam_em.job_session_query
  - backupops.veeam_em.query_paging
  - backupops.veeam_em.attributes.info_module
options:
  fields:
    choices: [uid, id, name, job_uid, job_id, job_name, job_type, backup_server_uid, backup_server_name,
              creation_time, end_time, state, result, progress, is_retry, failure_message, links]
  job_type:
    description:
      - Job types, ORed. One or more of C(Backup), C(BackupCopy), C(ImmediateBackupCopy), C(ImmediateBackupCopyWorker), C(AgentBackup),
        C(AgentManagement), C(NasBackup) (case-insensitive).
    type: list
    elements: str
notes:
  - Retries are separate job sessions with RV(backup_job_sessions[].is_retry) true; a job whose last retry succeeded has recovered.
  - Portal Users see only the backup servers their role covers; an empty result is not proof of health.
seealso:
  - module: backupops.veeam_em.veeam_em_replica_job_session_info
  - module: backupops.veeam_em.veeam_em_backup_task_session_info
  - module: backupops.veeam_em.veeam_em_job
"""

EXAMPLES = r"""
- name: Failed backup job runs of the last 24 hours, with the VMs of each run
  backupops.veeam_em.veeam_em_backup_job_session_info:
    server: em.example.com
    username: 'EXAMPLE\svc-ansible'
    password: "{{ vault_em_password }}"
    ca_path: /etc/pki/em-ca.pem
    created_after: 24h
    result: Failed
    include_task_sessions: true
  register: failed_runs

- name: Retries of one job
  backupops.veeam_em.veeam_em_backup_job_session_info:
    server: https://em.example.com:9398
    job_name: Backup Job 1
    is_retry: true
    sort_by: creation_time
    sort_order: desc
    limit: 10

- name: Running sessions (every state but Stopped)
  backupops.veeam_em.veeam_em_backup_job_session_info:
    server: em.example.com
    state: [Starting, Working, Pausing, Resuming, Stopping]

- name: One session by UID
  backupops.veeam_em.veeam_em_backup_job_session_info:
    server: em.example.com
    id: urn:veeam:BackupJobSession:1f038a6b-7968-4052-be97-3ed6b7aaf6a3
"""

RETURN = r"""
backup_job_sessions:
  description: The matching backup job sessions, in the requested sort order. Every key is always present.
  returned: always
  type: list
  elements: dict
  contains:
    uid:
      description: UID of the job session.
      type: str
      sample: urn:veeam:BackupJobSession:1f038a6b-7968-4052-be97-3ed6b7aaf6a3
    id:
      description: Bare lower-case GUID of the job session.
      type: str
      sample: 1f038a6b-7968-4052-be97-3ed6b7aaf6a3
    name:
      description: Session name, C(<job>@<creation time>) (EM 13 may add fractional seconds).
      type: str
      sample: "Backup Job 1@2025-08-15 20:00:24.003406"
    job_uid:
      description: UID of the job.
      type: str
      sample: urn:veeam:Job:0a6262a1-8add-49c5-85ea-0b1ba9361a3b
    job_id:
      description: Bare GUID of the job (the id for M(backupops.veeam_em.veeam_em_job)).
      type: str
      sample: 0a6262a1-8add-49c5-85ea-0b1ba9361a3b
    job_name:
      description: Name of the job.
      type: str
      sample: Backup Job 1
    job_type:
      description: Job type (C(Backup), C(BackupCopy), C(ImmediateBackupCopyWorker), ...).
      type: str
      sample: Backup
    backup_server_uid:
      description: UID of the backup server (from its link).
      type: str
      sample: urn:veeam:BackupServer:a0c8ea55-8bd4-49fe-9095-927d7bddddc3
    backup_server_name:
      description: Name of the backup server.
      type: str
      sample: enterprisevbr01.tech.local
    creation_time:
      description: Creation time, ISO 8601 UTC ending in C(Z); null when EM sent a placeholder (before 1970).
      type: str
      sample: "2025-08-15T20:00:24.003406Z"
    end_time:
      description:
        - End time, ISO 8601 UTC, or null while running (any state but C(Stopped)).
        - Also null when EM sent a placeholder (C(1900-01-01T00:00:00), C(0001-01-01T00:00:00), any time
          before 1970) or an end before the creation time.
      type: str
      sample: "2025-08-15T20:04:13.487602Z"
    state:
      description: C(Starting), C(Stopping), C(Working), C(Pausing), C(Resuming) or C(Stopped).
      type: str
      sample: Stopped
    result:
      description: C(Success), C(Warning), C(Failed), or null while running.
      type: str
      sample: Success
    progress:
      description: Progress in percent.
      type: int
      sample: 100
    is_retry:
      description: Whether this session is a retry of an earlier failed run.
      type: bool
      sample: false
    failure_message:
      description: Failure text EM sent (JSON only in practice), or null.
      type: str
      sample: null
    links:
      description: EM links of the session.
      type: list
      elements: dict
      sample: [{"rel": "Up", "type": "JobReference", "name": "Backup Job 1",
                "href": "https://em:9398/api/jobs/0a6262a1-8add-49c5-85ea-0b1ba9361a3b"}]
    task_sessions:
      description:
        - With O(include_task_sessions), the task sessions of this job session (oldest first), each shaped like
          the items of M(backupops.veeam_em.veeam_em_backup_task_session_info); otherwise null.
      type: list
      elements: dict
      sample: [{"uid": "urn:veeam:BackupTaskSession:38ceb150-e0a8-4f87-8a17-243afc1b98f4", "vm_display_name": "dbserver01",
                "state": "Completed", "result": "Success", "restore_point_uid": null}]
query:
  description: What was sent to EM for the job sessions, for troubleshooting.
  returned: always
  type: dict
  sample:
    type: BackupJobSession
    filter: 'CreationTime>="2025-06-04T01:00:00Z";Result=="Failed"'
    sort: sortDesc=CreationTime
    page_size: 1000
    pages: 1
    requests: 1
task_session_query:
  description:
    - With O(include_task_sessions), what was sent for the task sessions (C(batches) = task-session queries, one per
      40 job sessions); otherwise null.
  returned: always
  type: dict
  sample:
    type: BackupTaskSession
    batches: 1
    pages: 1
    requests: 1
"""

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_job_session_info import run_job_session_info_module
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import (
    BACKUP_JOB_SESSION, BACKUP_TASK_SESSION)


def main():
    run_job_session_info_module(BACKUP_JOB_SESSION, BACKUP_TASK_SESSION)


if __name__ == "__main__":
    main()
