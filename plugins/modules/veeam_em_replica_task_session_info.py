#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: veeam_em_replica_task_session_info
short_description: Read replica task sessions (one per VM and job run) from Veeam Backup Enterprise Manager
version_added: 1.0.0
description:
  - Reads C(ReplicaTaskSession) objects from the Veeam Backup Enterprise Manager (EM) REST API with the
    query service (C(GET /api/query?type=ReplicaTaskSession&format=Entities)), walking every page, or one
    session by O(id).
  - Every typed option becomes a quoted, percent-encoded EM filter clause; options are ANDed, list values ORed.
    Values can never change the meaning of the query.
  - Items are normalised to flat snake_case dictionaries, identical for XML and JSON responses.
  - EM's keys are matched in any case (EM 13.0.1 writes its JSON keys in camelCase, older versions in
    PascalCase). An answer whose collection cannot be found, or a page that EM's paging information
    says holds items but from which none can be read, fails the module; it never reads as an empty list.
  - Placeholder times (C(1900-01-01T00:00:00), C(0001-01-01T00:00:00), anything before 1970) are returned
    as null, and so is an end time on a running session or one earlier than the creation time.
author:
  - backupops engineering (@backupops)
extends_documentation_fragment:
  - backupops.veeam_em.connection
  - backupops.veeam_em.task_session_query
  - backupops.veeam_em.query_paging
  - backupops.veeam_em.attributes.info_module
options:
  fields:
    choices: [uid, id, name, vm_display_name, vm_uid, job_session_uid, job_session_id, job_session_name, job_name,
              backup_server_uid, backup_server_name, creation_time, end_time, state, result, reason,
              total_size, replica_point_uid, links]
notes:
  - Portal Users see only the backup servers their role covers; an empty result is not proof of health.
seealso:
  - module: backupops.veeam_em.veeam_em_backup_task_session_info
  - module: backupops.veeam_em.veeam_em_session
"""

EXAMPLES = r"""
- name: Failed or warning replication tasks of the last 24 hours
  backupops.veeam_em.veeam_em_replica_task_session_info:
    server: em.example.com
    username: 'EXAMPLE\svc-ansible'
    password: "{{ vault_em_password }}"
    ca_path: /etc/pki/em-ca.pem
    created_after: 24h
    result: [Failed, Warning]
  register: failed_tasks

- name: Last 10 sessions of two VMs in one job
  backupops.veeam_em.veeam_em_replica_task_session_info:
    server: https://em.example.com:9398
    vm_display_name: [apache02, "web server, east"]
    job_name: Replication Job 1
    sort_by: creation_time
    sort_order: desc
    limit: 10

- name: One session by UID
  backupops.veeam_em.veeam_em_replica_task_session_info:
    server: em.example.com
    id: urn:veeam:ReplicaTaskSession:38ceb150-e0a8-4f87-8a17-243afc1b98f4

- name: Typed options and a raw EM expression (ANDed)
  backupops.veeam_em.veeam_em_replica_task_session_info:
    server: em.example.com
    created_after: "2025-06-01T00:00:00+02:00"
    filter: 'TotalSize>="1073741824",Result=="Failed"'
"""

RETURN = r"""
replica_task_sessions:
  description: The matching replica task sessions, in the requested sort order. Every key is always present.
  returned: always
  type: list
  elements: dict
  contains:
    uid:
      description: UID of the task session.
      type: str
      sample: urn:veeam:ReplicaTaskSession:38ceb150-e0a8-4f87-8a17-243afc1b98f4
    id:
      description: Bare lower-case GUID of the task session.
      type: str
      sample: 38ceb150-e0a8-4f87-8a17-243afc1b98f4
    name:
      description: Session name, C(<vm>@<creation time>).
      type: str
      sample: apache02@2025-06-17 20:00:18
    vm_display_name:
      description: Display name of the VM.
      type: str
      sample: apache02
    vm_uid:
      description: Hypervisor URN of the VM; EM does not document it for replicas, so normally null.
      type: str
      sample: null
    job_session_uid:
      description: UID of the replication job session the task belongs to.
      type: str
      sample: urn:veeam:ReplicaJobSession:35c24055-bdee-4e43-b655-a42de408d2ec
    job_session_id:
      description: Bare GUID of the job session.
      type: str
      sample: 35c24055-bdee-4e43-b655-a42de408d2ec
    job_session_name:
      description: Name of the job session (from its link).
      type: str
      sample: Replication Job 1@2025-06-05 01:03:37
    job_name:
      description: Job name, derived from RV(replica_task_sessions[].job_session_name) up to its last C(@) (EM does not send it).
      type: str
      sample: Replication Job 1
    backup_server_uid:
      description: UID of the backup server (from its link).
      type: str
      sample: urn:veeam:BackupServer:7445e6ce-86f5-4171-b909-dac209c66563
    backup_server_name:
      description: Name of the backup server.
      type: str
      sample: enterprise06.tech.local
    creation_time:
      description: Creation time, ISO 8601 UTC ending in C(Z); null when EM sent a placeholder (before 1970).
      type: str
      sample: "2025-06-05T01:04:29.56Z"
    end_time:
      description:
        - End time, ISO 8601 UTC, or null while the session is C(InProgress) or C(Pending).
        - Also null when EM sent a placeholder (C(1900-01-01T00:00:00), C(0001-01-01T00:00:00), any time
          before 1970) or an end before the creation time.
      type: str
      sample: "2025-06-05T01:04:44.53Z"
    state:
      description: C(InProgress), C(Pending) or C(Completed).
      type: str
      sample: Completed
    result:
      description: C(Success), C(Warning), C(Failed), or null.
      type: str
      sample: Failed
    reason:
      description: Warning or failure text; empty string when none.
      type: str
      sample: ""
    total_size:
      description: Processed size in bytes.
      type: int
      sample: 0
    replica_point_uid:
      description: UID of the VM replica point created, or null.
      type: str
      sample: urn:veeam:VmReplicaPoint:623cbbec-c8ff-4cf4-96be-d433f3b775c7
    links:
      description: EM links of the session.
      type: list
      elements: dict
      sample: [{"rel": "Up", "type": "BackupServerReference", "name": "enterprise06.tech.local",
                "href": "https://em:9398/api/backupServers/7445e6ce-86f5-4171-b909-dac209c66563"}]
query:
  description: What was sent to EM, for troubleshooting.
  returned: always
  type: dict
  sample:
    type: ReplicaTaskSession
    filter: 'CreationTime>="2025-06-04T01:00:00Z";(Result=="Failed",Result=="Warning")'
    sort: sortDesc=CreationTime
    page_size: 1000
    pages: 1
    requests: 1
"""

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_module import run_resource_info_module
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import REPLICA_TASK_SESSION


def main():
    run_resource_info_module(REPLICA_TASK_SESSION)


if __name__ == "__main__":
    main()
