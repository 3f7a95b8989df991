#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: veeam_em_backup_server_info
short_description: Read the backup servers (VBR) connected to Veeam Backup Enterprise Manager
version_added: 1.0.0
description:
  - Reads C(BackupServer) objects from the Veeam Backup Enterprise Manager (EM) REST API with the query service
    (C(GET /api/query?type=BackupServer&format=Entities)), walking every page, or one server by O(id).
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
    choices: [uid, id, name, description, port, version, wcf_port, vbr_certificate_thumbprint, links]
  id:
    description:
      - Read one backup server by its UID (C(urn:veeam:BackupServer:<guid>)) or bare GUID,
        with C(GET /api/backupServers/<guid>?format=Entity).
      - Mutually exclusive with every filter option and O(filter).
      - An unknown id returns an empty list.
    type: str
  uid:
    description:
      - Backup server UIDs (URN or bare GUID), ORed.
    type: list
    elements: str
  name:
    description:
      - Backup server name as registered in EM. A string or a list of strings (ORed); never split on commas.
    type: raw
  description:
    description:
      - Exact description set in EM. A string or a list of strings (ORed).
    type: raw
  ip_or_dns_name:
    description:
      - IP address or DNS name the server was added to EM with. A string or a list of strings (ORed).
      - Filter only; EM does not return it in the entity.
    type: raw
  backup_server_port:
    description:
      - Port EM uses to collect data from the server (EM query field C(Port), default 9392 on the server side).
        Named so because O(port) is the EM connection port.
    type: int
  version:
    description:
      - Exact Veeam Backup & Replication version (for example C(12.3.1.1139)). A string or a list of strings (ORed).
    type: raw
  sort_by:
    description:
      - Query field to sort by. A sort is always sent so that paging is stable.
    type: str
    default: name
    choices: [uid, name, description, ip_or_dns_name, port, version]
  sort_order:
    description:
      - Sort direction.
    type: str
    default: asc
    choices: [asc, desc]
notes:
  - Portal Users may see fewer servers than exist (their role scope); compare with an inventory before
    concluding that a server is gone.
  - The C(backupops.veeam_em.veeam_em_compliance) role uses this module to flag backup servers known to EM that have
    no session in its window.
seealso:
  - module: backupops.veeam_em.veeam_em_job_info
"""

EXAMPLES = r"""
- name: All backup servers known to EM
  backupops.veeam_em.veeam_em_backup_server_info:
    server: em.example.com
    username: 'EXAMPLE\svc-ansible'
    password: "{{ vault_em_password }}"
    ca_path: /etc/pki/em-ca.pem
  register: servers

- name: Servers still on an old release
  backupops.veeam_em.veeam_em_backup_server_info:
    server: em.example.com
    version: [11.0.1.1261, 12.0.0.1420]

- name: Names only
  ansible.builtin.debug:
    msg: "{{ servers.backup_servers | map(attribute='name') | list }}"
"""

RETURN = r"""
backup_servers:
  description: The matching backup servers, in the requested sort order. Every key is always present.
  returned: always
  type: list
  elements: dict
  contains:
    uid:
      description: UID of the backup server.
      type: str
      sample: urn:veeam:BackupServer:15942270-fb56-4dcc-96e9-5f80e4725a15
    id:
      description: Bare lower-case GUID of the backup server.
      type: str
      sample: 15942270-fb56-4dcc-96e9-5f80e4725a15
    name:
      description: Name of the backup server in EM.
      type: str
      sample: vbr01.corp.example.com
    description:
      description: Description set in EM.
      type: str
      sample: Main site
    port:
      description: Port EM collects data on (null in reference representations).
      type: int
      sample: 9392
    version:
      description: Veeam Backup & Replication version.
      type: str
      sample: 13.0.0.1420
    wcf_port:
      description: Certificate (WCF) port, VBR 12 and later; null otherwise.
      type: int
      sample: 9405
    vbr_certificate_thumbprint:
      description: Certificate thumbprint of the backup server, or null.
      type: str
      sample: null
    links:
      description: EM links of the server.
      type: list
      elements: dict
      sample: [{"rel": "Down", "type": "JobReferenceList", "name": null,
                "href": "https://em:9398/api/backupServers/15942270-fb56-4dcc-96e9-5f80e4725a15/jobs"}]
query:
  description: What was sent to EM, for troubleshooting.
  returned: always
  type: dict
  sample:
    type: BackupServer
    filter: null
    sort: sortAsc=Name
    page_size: 1000
    pages: 1
    requests: 1
"""

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_module import run_resource_info_module
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import BACKUP_SERVER


def main():
    run_resource_info_module(BACKUP_SERVER)


if __name__ == "__main__":
    main()
