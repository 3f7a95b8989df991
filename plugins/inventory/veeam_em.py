# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: veeam_em
short_description: The VMs Veeam Backup Enterprise Manager protects, with their backup compliance
version_added: 1.0.0
description:
  - Lists as hosts the VMs that have backup or replica task sessions in Veeam Backup Enterprise Manager's (EM)
    history within O(lookback_days), with variables from EM and the compliance verdict of each VM under the
    policy given by the options (the rules of the P(backupops.veeam_em.veeam_em_compliance#filter) filter).
  - The reading is that of M(backupops.veeam_em.veeam_em_compliance_info) - one logon, one query per resource
    (backup and replica task sessions, backup servers, backup and replica job sessions), one logoff - and so is
    the evaluation.
  - "Groups: C(veeam_status_compliant), C(veeam_status_warning) and C(veeam_status_violation) (always created,
    possibly empty); C(veeam_server_<backup server name>) with group variables C(veeam_server_status),
    C(veeam_server_reasons) and C(veeam_server_last_session_time) (a known backup server with no session gets
    its group with no hosts and status C(violation)); C(veeam_job_<job name>) for every job that has a session
    of the VM in the window. Names after the prefix are sanitised like ansible-core's C(to_safe_group_name)
    with C(force=true): every character that is not a letter, digit or underscore becomes C(_), so job
    C(Backup Job A) on server C(vbr01.example.com) gives C(veeam_job_Backup_Job_A) and
    C(veeam_server_vbr01_example_com); two names that sanitise alike share a group (the host variables
    keep the exact names)."
  - "Host variables (all prefixed C(veeam_); times are UTC ISO 8601 strings, ages are hours as floats rounded to
    2 decimals, a kind the VM does not have gives V(null) values and C(0) sessions):
    C(veeam_vm_name), C(veeam_vm_uid), C(veeam_backup_server), C(veeam_backup_server_uid), C(veeam_jobs) (list),
    C(veeam_status) (C(compliant), C(warning) or C(violation)), C(veeam_reasons) (reason codes),
    C(veeam_findings) (list of dicts with C(code), C(severity), C(kind), C(message), C(time)), C(veeam_expected),
    C(veeam_evaluated_at);
    per kind C(backup), C(replica) and C(copy) - C(veeam_last_<kind>_time) (creation time of the newest session),
    C(veeam_last_<kind>_state), C(veeam_last_<kind>_result), C(veeam_last_<kind>_success_time) (the time of the
    data of the newest successful point), C(veeam_last_<kind>_success_end_time), C(veeam_last_<kind>_age_hours)
    (age of that point at C(veeam_evaluated_at)), C(veeam_<kind>_sessions);
    C(veeam_last_restore_point_uid) and C(veeam_last_replica_point_uid) (of the newest successful point);
    C(veeam_replica_state) (C(none) when not replicated, C(running), else the newest replica session's result in
    lower case, e.g. C(success), C(warning), C(failed))."
  - "Nothing in EM's task sessions is a guest DNS name (EM's C(BackupTaskSession) and C(ReplicaTaskSession)
    carry the VM's display name and UID only), so no C(ansible_host) is set; use O(compose), for example
    C(ansible_host: veeam_vm_name), when VM names resolve."
  - "Errors are loud: when EM cannot be read (connection, logon, rights, a failed page) or nothing is left to
    evaluate (no task session in the window, or all excluded by the patterns), the source fails to parse with
    the reason - never an empty or partial host list. ansible-core reports an unparsable source as a warning
    unless C(ANSIBLE_INVENTORY_UNPARSED_FAILED=true) (AWX inventory updates fail on it); set it in automation."
  - Evaluation problems that concern no VM (task sessions without a readable creation time) are shown as warnings.
author:
  - backupops engineering (@backupops)
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - backupops.veeam_em.connection
  - backupops.veeam_em.compliance_policy
options:
  plugin:
    description: Marks this file as an inventory source of this plugin.
    type: str
    required: true
    choices: [backupops.veeam_em.veeam_em]
  server:
    env:
      - name: VEEAM_EM_SERVER
  port:
    env:
      - name: VEEAM_EM_PORT
  username:
    env:
      - name: VEEAM_EM_USERNAME
  password:
    env:
      - name: VEEAM_EM_PASSWORD
  validate_certs:
    env:
      - name: VEEAM_EM_VALIDATE_CERTS
  ca_path:
    env:
      - name: VEEAM_EM_CA_PATH
  session_id:
    env:
      - name: VEEAM_EM_SESSION_ID
  allow_http:
    env:
      - name: VEEAM_EM_ALLOW_HTTP
  hostnames:
    description:
      - How hosts are named.
      - V(vm_name) - the VM's display name in EM; when two rows share a name (compared ignoring case - the same
        VM protected by two backup servers, or two VMs named alike on different servers), every one of them is
        named C(<vm name>@<backup server name>) instead, so they stay distinct hosts.
      - V(vm_name_server) - always C(<vm name>@<backup server name>).
      - A name still not unique (two VMs of one name on one backup server, told apart by their UIDs) gets
        C(#<vm uid>) appended.
      - No host name opens a Jinja2 template (ansible-core before 2.19 templates C(inventory_hostname) where it is
        used, and VM names are written by whoever may rename a VM) - C({{), C({%) and C({#) become C(_{), C(_%) and
        C(_#); the VM's own name stays in C(veeam_vm_name).
      - EM task sessions carry no guest DNS name, so there is no DNS-name choice.
    type: str
    default: vm_name
    choices: [vm_name, vm_name_server]
  now:
    description:
      - The evaluation time, an ISO 8601 string; omitted, the current UTC time (see
        M(backupops.veeam_em.veeam_em_compliance_info)).
    type: str
  check_replicas:
    description: Read replica task and job sessions too.
    type: bool
    default: true
  check_jobs:
    description:
      - Read the backup (and replica) job sessions of the window. They give each backup task session its job type,
        so that backup copy sessions are judged as copies and not as fresh backups; do not turn this off lightly.
    type: bool
    default: true
  read_history:
    description:
      - Read the task sessions EM keeps from before the window too (identity keys only, see
        M(backupops.veeam_em.veeam_em_compliance_info)), so that a VM whose backups stopped is a host (in
        C(veeam_status_violation), C(rpo_exceeded) with the real age) instead of vanishing after O(lookback_days).
    type: bool
    default: true
  known_servers_from_em:
    description: Read EM's list of backup servers and treat every one as known (a silent one is a violation).
    type: bool
    default: true
  page_size:
    description: Items per page of EM's query service.
    type: int
    default: 1000
  concurrency:
    description: Pages fetched in parallel once the page count is known.
    type: int
    default: 4
  media_type:
    description: Ask EM for JSON or XML.
    type: str
    default: json
    choices: [json, xml]
notes:
  - The inventory logs on once per refresh (or uses O(session_id)) and logs off also when the reading fails.
  - With O(cache) enabled the hosts and their variables as of C(veeam_evaluated_at) are cached, not EM's sessions;
    the verdicts of a cached inventory are as old as the cache.
"""

EXAMPLES = r"""
# inventory/em.veeam_em.yml - connection from VEEAM_EM_SERVER, VEEAM_EM_USERNAME, VEEAM_EM_PASSWORD, VEEAM_EM_CA_PATH
plugin: backupops.veeam_em.veeam_em
backup_rpo_hours: 26
exclude_vms: ["*-template", "test-*"]
hostnames: vm_name
compose:
  ansible_host: veeam_vm_name
keyed_groups:
  - key: veeam_reasons
    prefix: veeam_reason
groups:
  veeam_stale: veeam_last_backup_age_hours is none or veeam_last_backup_age_hours > 48
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: /tmp/veeam_em_inventory
cache_timeout: 3600

# then: ansible-playbook -i inventory/ check_guests.yml --limit veeam_status_violation
"""

from ansible.errors import AnsibleParserError
from ansible.inventory.group import to_safe_group_name
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.display import Display
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.backupops.veeam_em.plugins.module_utils import (
    em_compliance, em_compliance_read, em_connection, em_inventory, em_module, em_secrets)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMError

display = Display()

STATUSES = (em_compliance.STATUS_COMPLIANT, em_compliance.STATUS_WARNING, em_compliance.STATUS_VIOLATION)


def group_name(prefix, name):
    """``prefix`` + the name with every invalid character replaced (ansible-core's rule, always applied)."""
    return to_safe_group_name(prefix + str(name), force=True, silent=True)


class _Options(object):
    """What em_module.connection_options needs of a module (``params``, ``warn``): one validation
    of the connection options for modules and this plugin."""

    def __init__(self, params, written_args):
        self.params = params
        # the options written in the source file: they beat an environment session (em_module._task_args)
        self.written_args = written_args

    @staticmethod
    def warn(message):
        display.warning(message)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "backupops.veeam_em.veeam_em"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith((".veeam_em.yml", ".veeam_em.yaml"))

    def _option(self, key, default=None):
        """An option's value; the default for an option another fragment has not declared (yet)."""
        try:
            return self.get_option(key)
        except KeyError:
            return default

    def _written(self):
        """The options written in the source file (none for a plugin built without one)."""
        config = getattr(self, "_config", None)
        return dict(config) if isinstance(config, dict) else {}

    def _params(self):
        """The connection and reader options, bools read strictly (ansible-core's configuration takes ''
        and any typo for false) and an empty VEEAM_EM_* variable refused as the modules refuse it."""
        written = self._written()
        params = dict((key, em_connection.plugin_value(key, written, self._option(key, spec.get("default"))))
                      for key, spec in em_module.connection_argument_spec().items())
        reader = em_compliance_read.argument_spec()
        for key, spec in reader.items():
            if spec.get("type") == "bool" and written.get(key) is not None:
                em_connection.strict_bool(key, written[key])
        options = dict((key, self._option(key)) for key in reader)
        params.update(em_inventory.read_params(options))
        return params

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._config = self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        data = None
        if use_cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if data is None:
            data = self._fetch()
        if update_cache:
            self._cache[cache_key] = data
        for warning in data["warnings"]:
            display.warning("veeam_em inventory: %s" % warning)
        self._populate(data)

    def _fetch(self):
        """Read and evaluate EM; the hosts, server group variables and warnings (what is cached)."""
        options = _Options({}, self._written())
        choice = self.get_option("hostnames")
        client = None
        try:
            options.params = self._params()
            connection = em_module.connection_options(options)
            em_inventory.validate(options.params)
            em_inventory.hostnames([], choice)  # a bad choice fails before any request
            client = em_inventory.new_client(connection, options.params)
            evaluation = em_inventory.read_evaluation(client, options.params)
            fatal, warnings = em_inventory.global_problems(evaluation)
            if fatal:
                raise em_inventory.InventoryReadError("; ".join(fatal))
            hosts = em_inventory.hosts(evaluation, choice)
        except (EMError, em_compliance.ComplianceInputError) as error:
            raise AnsibleParserError("veeam_em inventory: %s" % em_module.error_message(options, error, client))
        warnings += client.warnings
        # No module result here for Ansible's no_log to mask: EM's text (a reason in a finding, names, warnings)
        # reaches hostvars, ansible-inventory --list and the cache only through the one scrubber.
        em_module.scrub("", options, client)  # the options' and the client's secrets registered
        return em_secrets.scrub_data({"hosts": hosts, "servers": em_inventory.server_vars(evaluation), "warnings": warnings})

    def _populate(self, data):
        for status in STATUSES:
            self.inventory.add_group(group_name("veeam_status_", status))
        for server, variables in data["servers"].items():
            group = self.inventory.add_group(group_name("veeam_server_", server))
            for key, value in variables.items():
                self.inventory.set_variable(group, key, wrap_var(value))
        strict = self.get_option("strict")
        for name, variables in data["hosts"]:
            self.inventory.add_host(name)
            for key, value in variables.items():  # EM's text (VM names, reasons) is never a template
                self.inventory.set_variable(name, key, wrap_var(value))
            self._add_fixed_groups(name, variables)
            host_vars = self.inventory.get_host(name).get_vars()
            self._set_composite_vars(self.get_option("compose"), host_vars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), host_vars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, name, strict=strict)

    def _add_fixed_groups(self, name, variables):
        groups = [group_name("veeam_status_", variables["veeam_status"])]
        if variables.get("veeam_backup_server"):
            groups.append(group_name("veeam_server_", variables["veeam_backup_server"]))
        groups += [group_name("veeam_job_", job) for job in variables["veeam_jobs"]]
        for group in groups:
            self.inventory.add_group(group)
            self.inventory.add_child(group, name)
