#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: veeam_em_vm_restore_point_info
short_description: Read VM restore points from Veeam Backup Enterprise Manager
version_added: 1.0.0
description:
  - Reads C(VmRestorePoint) objects from the Veeam Backup Enterprise Manager (EM) REST API with the query service
    (C(GET /api/query?type=VmRestorePoint&format=Entities)), walking every page, or one point by O(id).
  - Every typed option becomes a quoted, percent-encoded EM filter clause; options are ANDed, list values ORed.
  - Items are normalised to flat snake_case dictionaries, identical for XML and JSON responses.
  - EM's keys are matched in any case (EM 13.0.1 writes its JSON keys in camelCase, older versions in
    PascalCase). An answer whose collection cannot be found, or a page that EM's paging information
    says holds items but from which none can be read, fails the module; it never reads as an empty list.
author:
  - backupops engineering (@backupops)
extends_documentation_fragment:
  - backupops.veeam_em.connection
  - backupops.veeam_em.query_paging
  - backupops.veeam_em.attributes.info_module
options:
  fields:
    choices: [uid, id, name, vm_display_name, vm_uid, creation_time, point_type, algorithm, restore_point_uid,
              restore_point_name, backup_file_name, backup_server_uid, backup_server_name, links]
  id:
    description:
      - Read one restore point by its UID (C(urn:veeam:VmRestorePoint:<guid>)) or bare GUID,
        with C(GET /api/vmRestorePoints/<guid>?format=Entity).
      - Mutually exclusive with every filter option and O(filter).
      - An unknown id returns an empty list.
    type: str
  uid:
    description:
      - VM restore point UIDs (URN or bare GUID), ORed.
    type: list
    elements: str
  name:
    description:
      - Restore point name, C(<vm>@<yyyy-MM-dd HH:mm:ss>). A string or a list of strings (ORed).
    type: raw
  vm_display_name:
    description:
      - VM name. A string or a list of strings (ORed); never split on commas.
    type: raw
  point_type:
    description:
      - Restore point types (EM query field C(Type)), ORed. One or more of C(Full), C(Increment),
        C(ReverseIncrement) (case-insensitive).
    type: list
    elements: str
  algorithm:
    description:
      - Backup methods, ORed. One or more of C(Full), C(ReversedIncremental), C(Incremental), C(SyntheticFull)
        (case-insensitive).
    type: list
    elements: str
  restore_point_uid:
    description:
      - UIDs of the parent restore points (C(urn:veeam:RestorePoint:<guid>) or bare GUID; EM field C(RestorePointId)), ORed.
    type: list
    elements: str
  restore_point_name:
    description:
      - Name of the parent restore point. A string or a list of strings (ORed).
    type: raw
  backup_server_name:
    description:
      - Name of the backup server that created the point. A string or a list of strings (ORed).
    type: raw
  backup_server_uid:
    description:
      - Backup server UIDs (C(urn:veeam:BackupServer:<guid>) or bare GUID), ORed.
    type: list
    elements: str
  created_after:
    description:
      - Only points created at or after this time.
      - ISO 8601 (C(2025-06-05T01:04:29Z), offsets allowed; without a zone it is UTC; a date alone is midnight
        UTC) or a relative window before now (C(30s), C(90m), C(24h), C(7d), C(2w)).
    type: str
  created_before:
    description:
      - Only points created before this time (same formats as O(created_after)).
    type: str
  sort_by:
    description:
      - Query field to sort by. A sort is always sent so that paging is stable.
    type: str
    default: creation_time
    choices: [uid, name, vm_display_name, point_type, algorithm, restore_point_uid, restore_point_name,
              backup_server_name, backup_server_uid, creation_time]
  sort_order:
    description:
      - Sort direction.
    type: str
    default: desc
    choices: [asc, desc]
seealso:
  - module: backupops.veeam_em.veeam_em_backup_task_session_info
"""

EXAMPLES = r"""
- name: Last 3 restore points of a VM
  backupops.veeam_em.veeam_em_vm_restore_point_info:
    server: em.example.com
    username: 'EXAMPLE\svc-ansible'
    password: "{{ vault_em_password }}"
    ca_path: /etc/pki/em-ca.pem
    vm_display_name: dbserver01
    limit: 3
  register: points

- name: Full points of the last week
  backupops.veeam_em.veeam_em_vm_restore_point_info:
    server: em.example.com
    point_type: Full
    created_after: 7d
"""

RETURN = r"""
vm_restore_points:
  description: The matching VM restore points, in the requested sort order. Every key is always present.
  returned: always
  type: list
  elements: dict
  contains:
    uid:
      description: UID of the VM restore point.
      type: str
      sample: urn:veeam:VmRestorePoint:5acac742-ee17-4080-8e89-a6ea67adfcf3
    id:
      description: Bare lower-case GUID of the restore point.
      type: str
      sample: 5acac742-ee17-4080-8e89-a6ea67adfcf3
    name:
      description: Restore point name.
      type: str
      sample: oracle03@2016-10-06 13:59:50
    vm_display_name:
      description: VM name (EM C(VmName) element, or the C(VmDisplayName) attribute older EMs send); null if neither.
      type: str
      sample: oracle03
    vm_uid:
      description: Hypervisor reference of the VM (EM C(HierarchyObjRef)), or null.
      type: str
      sample: urn:HyperV:Vm:757baa80-d19b-4607-a592-98e15d45d9b2.e3e47ce3-ace6-4f06-9aaf-f52cf2e11234
    creation_time:
      description: Creation time, ISO 8601 UTC ending in C(Z); null when EM sent a placeholder (before 1970).
      type: str
      sample: "2016-10-06T13:59:50.783Z"
    point_type:
      description: C(Full), C(Increment) or C(ReverseIncrement).
      type: str
      sample: Increment
    algorithm:
      description: C(Full), C(ReversedIncremental), C(Incremental) or C(SyntheticFull).
      type: str
      sample: Incremental
    restore_point_uid:
      description: UID of the parent restore point (from its C(Up) link), or null.
      type: str
      sample: urn:veeam:RestorePoint:dc216c04-2e34-478e-8b9b-49a3397ef6f8
    restore_point_name:
      description: Name of the parent restore point link, or null.
      type: str
      sample: Oct  6 2016  1:59PM
    backup_file_name:
      description: Name of the backup file (from its C(Up) link), or null.
      type: str
      sample: Oracle BackupD2016-10-06T165918.vib
    backup_server_uid:
      description: UID of the backup server (from its link).
      type: str
      sample: urn:veeam:BackupServer:00fd67d9-2b4c-4c56-8a95-0b3dbec7ae43
    backup_server_name:
      description: Name of the backup server.
      type: str
      sample: 172.17.53.1
    links:
      description: EM links of the restore point.
      type: list
      elements: dict
      sample: [{"rel": "Restore", "type": null, "name": null,
                "href": "https://em:9398/api/vmRestorePoints/5acac742-ee17-4080-8e89-a6ea67adfcf3?action=restore"}]
query:
  description: What was sent to EM, for troubleshooting.
  returned: always
  type: dict
  sample:
    type: VmRestorePoint
    filter: 'VmDisplayName=="dbserver01"'
    sort: sortDesc=CreationTime
    page_size: 1000
    pages: 1
    requests: 1
"""

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_module import run_resource_info_module
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import VM_RESTORE_POINT


def main():
    run_resource_info_module(VM_RESTORE_POINT)


if __name__ == "__main__":
    main()
