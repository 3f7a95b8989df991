#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: veeam_em_job_info
short_description: Read backup, backup copy and replication jobs from Veeam Backup Enterprise Manager
version_added: 1.0.0
description:
  - Reads C(Job) objects from the Veeam Backup Enterprise Manager (EM) REST API with the query service
    (C(GET /api/query?type=Job&format=Entities)), walking every page, or one job by O(id).
  - Every typed option becomes a quoted, percent-encoded EM filter clause; options are ANDed, list values ORed.
  - Items are normalised to flat snake_case dictionaries, identical for XML and JSON responses.
  - EM's keys are matched in any case (EM 13.0.1 writes its JSON keys in camelCase, older versions in
    PascalCase). An answer whose collection cannot be found, or a page that EM's paging information
    says holds items but from which none can be read, fails the module; it never reads as an empty list.
  - B(Needs the Portal Administrator role); EM answers 403 to Portal Users.
author:
  - backupops engineering (@backupops)
extends_documentation_fragment:
  - backupops.veeam_em.connection
  - backupops.veeam_em.query_paging
  - backupops.veeam_em.attributes.info_module
options:
  fields:
    choices: [uid, id, name, job_type, platform, description, schedule_configured, schedule_enabled, next_run,
              backup_server_uid, backup_server_name, links]
  id:
    description:
      - Read one job by its UID (C(urn:veeam:Job:<guid>)) or bare GUID, with C(GET /api/jobs/<guid>?format=Entity).
      - Mutually exclusive with every filter option and O(filter).
      - An unknown id returns an empty list.
    type: str
  uid:
    description:
      - Job UIDs (URN or bare GUID), ORed.
    type: list
    elements: str
  name:
    description:
      - Job name. A string or a list of strings (ORed); a string is never split on commas. Exact match.
    type: raw
  description:
    description:
      - Exact job description. A string or a list of strings (ORed).
    type: raw
  job_type:
    description:
      - Job types, ORed. One or more of C(Backup), C(BackupCopy), C(ImmediateBackupCopy), C(Replica)
        (case-insensitive).
    type: list
    elements: str
  platform:
    description:
      - Platforms, ORed. One or more of C(VMware), C(Hyperv), C(vCloud) (case-insensitive).
    type: list
    elements: str
  schedule_configured:
    description:
      - Only jobs with (V(true)) or without (V(false)) scheduling options.
    type: bool
  schedule_enabled:
    description:
      - Only jobs whose schedule is enabled (V(true)) or disabled (V(false)).
    type: bool
  next_run_after:
    description:
      - Only scheduled jobs whose next run is at or after this time.
      - ISO 8601 (C(2025-06-05T01:04:29Z), offsets allowed; without a zone it is UTC) or a relative window
        before now (C(30s), C(90m), C(24h), C(7d), C(2w)).
    type: str
  next_run_before:
    description:
      - Only scheduled jobs whose next run is before this time (same formats as O(next_run_after)).
    type: str
  backup_server_name:
    description:
      - Name of the backup server the job is configured on. A string or a list of strings (ORed).
    type: raw
  backup_server_uid:
    description:
      - Backup server UIDs (C(urn:veeam:BackupServer:<guid>) or bare GUID), ORed.
    type: list
    elements: str
  sort_by:
    description:
      - Query field to sort by. A sort is always sent so that paging is stable.
    type: str
    default: name
    choices: [uid, name, description, job_type, platform, schedule_configured, schedule_enabled, next_run,
              backup_server_name, backup_server_uid]
  sort_order:
    description:
      - Sort direction.
    type: str
    default: asc
    choices: [asc, desc]
notes:
  - EM lists only backup, backup copy and replication jobs here (no agent, NAS or CDP jobs).
seealso:
  - module: backupops.veeam_em.veeam_em_job
  - module: backupops.veeam_em.veeam_em_backup_job_session_info
"""

EXAMPLES = r"""
- name: Enabled VMware backup jobs
  backupops.veeam_em.veeam_em_job_info:
    server: em.example.com
    username: 'EXAMPLE\emadmin'
    password: "{{ vault_em_password }}"
    ca_path: /etc/pki/em-ca.pem
    job_type: Backup
    platform: VMware
    schedule_enabled: true
  register: jobs

- name: Jobs of one backup server due to run before midnight
  backupops.veeam_em.veeam_em_job_info:
    server: em.example.com
    backup_server_name: vbr01.corp.example.com
    next_run_before: "2025-06-06T00:00:00Z"

- name: One job by UID
  backupops.veeam_em.veeam_em_job_info:
    server: em.example.com
    id: urn:veeam:Job:5658281f-625e-4627-89dd-d2a0c48be99e
"""

RETURN = r"""
jobs:
  description: The matching jobs, in the requested sort order. Every key is always present.
  returned: always
  type: list
  elements: dict
  contains:
    uid:
      description: UID of the job.
      type: str
      sample: urn:veeam:Job:5658281f-625e-4627-89dd-d2a0c48be99e
    id:
      description: Bare lower-case GUID of the job.
      type: str
      sample: 5658281f-625e-4627-89dd-d2a0c48be99e
    name:
      description: Job name.
      type: str
      sample: DB Backup
    job_type:
      description: C(Backup), C(BackupCopy), C(ImmediateBackupCopy) or C(Replica).
      type: str
      sample: Backup
    platform:
      description: C(VMware), C(Hyperv), C(vCloud) (EM 13 also sends C(CustomPlatform) for backup copy jobs).
      type: str
      sample: VMware
    description:
      description: Job description.
      type: str
      sample: Created by EXAMPLE\emadmin
    schedule_configured:
      description: Whether scheduling options are set.
      type: bool
      sample: true
    schedule_enabled:
      description: Whether the schedule is enabled.
      type: bool
      sample: true
    next_run:
      description: Next scheduled run, ISO 8601 UTC ending in C(Z), or null.
      type: str
      sample: "2025-06-05T22:00:00Z"
    backup_server_uid:
      description: UID of the backup server (from its link).
      type: str
      sample: urn:veeam:BackupServer:3cbab7db-fa0d-4c18-82b6-bc1816f0a128
    backup_server_name:
      description: Name of the backup server.
      type: str
      sample: enterprisevbr01.tech.local
    links:
      description: EM links of the job (C(Start), C(Stop), C(Retry) action links among them).
      type: list
      elements: dict
      sample: [{"rel": "Start", "type": null, "name": null,
                "href": "https://em:9398/api/jobs/5658281f-625e-4627-89dd-d2a0c48be99e?action=start"}]
query:
  description: What was sent to EM, for troubleshooting.
  returned: always
  type: dict
  sample:
    type: Job
    filter: 'JobType=="Backup";Platform=="VMware";ScheduleEnabled=="true"'
    sort: sortAsc=Name
    page_size: 1000
    pages: 1
    requests: 1
"""

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_module import run_resource_info_module
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import JOB


def main():
    run_resource_info_module(JOB)


if __name__ == "__main__":
    main()
