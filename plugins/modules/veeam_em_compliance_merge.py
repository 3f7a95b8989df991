#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: veeam_em_compliance_merge
short_description: Merge the compliance results of many Enterprise Managers into one fleet verdict
version_added: 1.1.0
description:
  - Takes one small I(part) per Veeam Backup Enterprise Manager (EM) - what the C(backupops.veeam_em.fleet_compliance)
    playbook builds from each EM's C(veeam_em_compliance_result) and publishes with M(ansible.builtin.set_stats) - and
    returns one merged result and its reports (JSON, JUnit XML, HTML) with the fleet summary first and a section per EM.
  - The fleet status is the worst EM status. An EM that could not be read (status C(error), or a part carrying an
    C(error)) is C(error) for its part and makes the fleet C(error) - never C(compliant) - while the verdicts of the
    other EMs still appear. An EM named in O(expected) without a part is C(error) (C(no_result)). No EM at all is
    C(error).
  - A part never reads better than its own counts - errors listed make it C(error), violations counted make it
    C(violation).
  - VMs are counted per EM and never matched by name across EMs - the same VM name on two EMs is two VMs.
  - A part must be of this run. One whose C(generated_at) (or C(window.end), when older) is more than
    O(max_part_age_hours) before the merge's time (O(now) when given, else the controller's clock) is C(error) for
    its EM (C(stale_part)), its age in hours said - an EM whose nightly run died before writing its part must not
    pass on last night's, nor a merge relaunched with old artifacts on all of them. A part generated more than an
    hour after that time is C(error) (C(future_part) - a wrong clock), and so is a part without a readable C(generated_at)
    (C(no_time)) unless it is already C(error) (a run that failed before its verdict).
  - Two parts of one EM are refused (the module fails, naming the EM and both C(generated_at)) - which one is this
    run's is not guessed, the newest time included (a wrong clock makes a leftover part the newest).
  - Runs on the controller (C(localhost)); it reads and writes nothing. Write the reports with M(ansible.builtin.copy)
    (as the playbook does).
author:
  - backupops engineering (@backupops)
extends_documentation_fragment:
  - backupops.veeam_em.attributes.info_module
options:
  parts:
    description:
      - One dict per EM. Keys (all but C(em) optional; unknown keys are an error).
      - C(em) (str) - the EM's name, its inventory host.
      - C(status) (str) - C(compliant), C(warning), C(violation) or C(error); missing means C(error).
      - C(error) (str) - the EM's run failed before a verdict (the message); makes the part C(error).
      - C(source) (dict) - C(em_server) and C(username) as the compliance result's C(source).
      - C(generated_at) (str, UTC) and C(window) (dict with C(start) and C(end), UTC) of the EM's evaluation.
      - C(summary) (dict) - the EM's compliance counts; C(vms_total), C(vms_compliant), C(vms_warning),
        C(vms_violation), C(servers_total), C(servers_silent), C(jobs_total), C(jobs_failed), C(violations_total),
        C(warnings_total) and C(errors_total) are summed (a missing count is 0).
      - C(first_violations), C(first_errors) (lists of str) - the first findings as one-line texts;
        C(violations_omitted), C(errors_omitted) (int) - how many more there are.
      - C(reports) (dict) - the EM's own report files by format (C(json), C(junit), C(html)).
    type: list
    elements: dict
    required: true
  vm_rows:
    description:
      - Optional compact VM rows per EM - a dict from the EM's name (as in O(parts)) to the C(vms) list of its
        compliance result (C(vm_display_name), C(vm_uid), C(backup_server_name), C(status), C(reasons)). An EM given
        here is listed VM by VM in the fleet JSON (C(vms) of its entry in RV(fleet.ems)), JUnit (a suite per EM) and HTML (its VMs
        not compliant). The playbook passes them when the merge runs in the same run as the reads; AWX artifacts
        carry none (they stay small).
      - Naming an EM without a part is an error.
    type: dict
  expected:
    description:
      - The EMs that must have a part (usually the hosts of the inventory group). Each one missing becomes an
        C(error) entry (C(no_result)) - a job slice that failed must not drop its EMs from the fleet.
      - Parts of EMs not listed are kept, with C(expected=false).
    type: list
    elements: str
    default: []
  now:
    description:
      - The merge time for RV(fleet.generated_at), a UTC C(Z) string; default the current UTC time.
      - Given, it is also the time the parts' ages are measured from (O(max_part_age_hours); else the controller's
        clock) - a night replayed (the fleet playbook passes C(veeam_em_compliance_now)).
    type: str
  max_part_age_hours:
    description:
      - How many hours older than the merge's time (O(now), else the controller's clock) a part may be and still
        count as this run's verdict; an older one is C(error) for its EM (C(stale_part)).
      - The default, half a day, catches last night's part (about 24 hours old) whatever the hour each run started,
        and takes a merge that runs up to 12 hours after its EMs were read.
      - A number of hours above 0 (fractions allowed); there is no off switch.
    type: float
    default: 12
  report_formats:
    description: Fleet reports to render and return as text in RV(reports).
    type: list
    elements: str
    choices: [html, json, junit]
    default: []
  report_title:
    description: Title of the HTML report.
    type: str
    default: Veeam backup compliance - fleet
  report_dir:
    description:
      - The directory the fleet reports will be written to; only used to link each EM's own reports relatively in
        the HTML page. Nothing is written.
    type: path
  stats_max_items:
    description: How many error lines C(first_errors) of RV(stats) keeps (the rest is counted in C(errors_omitted)).
    type: int
    default: 10
  message_max_items:
    description:
      - How many violation and error lines RV(message) keeps (each C(EM name, colon, text), 300 characters at most); the
        rest are counted in C(violations_omitted) and C(errors_omitted).
      - The fleet playbooks pass the role's C(veeam_em_compliance_delivery_max_items).
    type: int
    default: 20
notes:
  - With AWX job slicing every slice publishes one artifact key per EM (C(veeam_em_fleet_em_<host>_<hash>)); AWX hands
    the combined artifacts to the next workflow node as extra vars, where C(playbooks/fleet_compliance_merge.yml)
    collects them for this module. See the collection README, section "Many Enterprise Managers".
seealso:
  - module: backupops.veeam_em.veeam_em_compliance_info
"""

EXAMPLES = r"""
- name: Merge the per-EM parts of this run into one fleet verdict
  backupops.veeam_em.veeam_em_compliance_merge:
    parts: "{{ groups['veeam_em'] | map('extract', hostvars) | selectattr('veeam_em_fleet_part', 'defined')
               | map(attribute='veeam_em_fleet_part') | list }}"
    expected: "{{ groups['veeam_em'] }}"
    report_formats: [json, junit, html]
  register: fleet

- name: Write the fleet HTML report
  ansible.builtin.copy:
    content: "{{ fleet.reports.html }}"
    dest: /var/reports/veeam/fleet_compliance.html
    mode: "0644"
"""

RETURN = r"""
fleet:
  description: The merged result.
  returned: success
  type: dict
  contains:
    status:
      description: Worst EM status - C(compliant), C(warning), C(violation) or C(error) (also with no EM at all).
      type: str
      sample: error
    compliant:
      description: True only for C(compliant) and C(warning).
      type: bool
      sample: false
    generated_at:
      description: When the merge ran (O(now)), UTC.
      type: str
      sample: "2026-11-29T06:00:00Z"
    summary:
      description:
        - C(ems_total), C(ems_error), C(ems_violation), C(ems_warning), C(ems_compliant) (EMs per status),
          C(fleet_errors) (entries of RV(fleet.errors)) and the per-EM counts summed (C(vms_total), C(vms_violation),
          ...; see O(parts)).
      type: dict
      sample: {"ems_total": 3, "ems_error": 1, "ems_violation": 2, "vms_total": 80, "vms_violation": 9}
    ems:
      description:
        - One entry per EM, worst status first - the validated part with its effective C(status), C(compliant),
          C(expected), C(vms) (only for EMs in O(vm_rows)) and, for an expected EM without a part, C(missing=true).
        - C(age_hours) - how many hours the part's time is before C(reference) of RV(fleet.part_age) (for parts with a
          readable time); C(time_error) - C(stale_part), C(future_part) or C(no_time) for a part not of this run,
          whose reason is then the first of its C(first_errors).
      type: list
      elements: dict
      sample: [{"em": "em-lon", "status": "error", "age_hours": 168.0, "time_error": "stale_part"}]
    part_age:
      description:
        - C(reference) - the time the parts' ages are measured from (O(now), else the controller's clock), UTC;
          C(max_hours) - O(max_part_age_hours).
      type: dict
      sample: {"reference": "2026-11-29T06:00:00Z", "max_hours": 12.0}
    errors:
      description:
        - One entry per EM in error (C(em), C(code), C(message)), and C(no_ems) when the fleet is empty.
        - C(code) - C(em_error) (the EM's own errors), C(no_result) (an expected EM without a part), C(stale_part),
          C(future_part) or C(no_time) (a part that is not of this run; see O(max_part_age_hours)).
      type: list
      elements: dict
      sample: [{"em": "em-lon", "code": "em_error", "message": "(all): read_error - HTTP 401"}]
    expected:
      description: O(expected) as given.
      type: list
      elements: str
    warnings:
      description:
        - One entry per Enterprise Manager that two or more parts read (the same C(source.em_server)) - C(code)
          (C(same_em_twice)), C(em_server), C(ems) (the parts' names), C(message). Its VMs are then counted once per
          part in RV(fleet.summary); the fleet status is not changed.
      type: list
      elements: dict
      sample: [{"code": "same_em_twice", "em_server": "https://em01:9398", "ems": ["em-a", "em-b"]}]
reports:
  description: The documents asked with O(report_formats), keyed by format, as text.
  returned: success
  type: dict
  sample: {"junit": "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites ..."}
stats:
  description:
    - A small view for M(ansible.builtin.set_stats) - C(status), C(compliant), C(generated_at), C(summary),
      C(ems) (EM name to status), C(first_errors) (at most O(stats_max_items) lines of 300 characters),
      C(errors_omitted) and C(warnings) (the messages of RV(fleet.warnings), as many and as long).
  returned: success
  type: dict
  sample: {"status": "error", "compliant": false, "ems": {"em-lon": "error", "em-par": "violation"}}
message:
  description:
    - The fleet verdict as the role's mail and webhook deliveries render it (the fleet playbooks send it with the
      role's C(veeam_em_compliance_mail_*) and C(veeam_em_compliance_webhook_*) settings).
    - C(headline) (status, O(report_title), counts), C(scope), C(counts) (a list of C(title)/C(value) lines - the
      EMs by status, the evaluation time in UTC, VMs, backup servers, jobs, findings), C(first_violations) and
      C(first_errors) (at most O(message_max_items) lines C(EM name, colon, text) each), C(violations_omitted),
      C(errors_omitted), and C(generic) (the generic webhook's JSON - C(status), C(compliant), C(em_server),
      C(generated_at), C(summary), C(ems) (EM name to status), C(warnings)).
  returned: success
  type: dict
  sample: {"headline": "[VIOLATION] Veeam backup compliance - fleet - 3 violation(s) on 2 VM(s) in 2 Enterprise
    Manager(s), 0 error(s)", "scope": "the fleet", "violations_omitted": 0, "errors_omitted": 0}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_fleet, em_fleet_report

ARGUMENT_SPEC = dict(
    parts=dict(type="list", elements="dict", required=True),
    vm_rows=dict(type="dict"),
    expected=dict(type="list", elements="str", default=[]),
    now=dict(type="str"),
    max_part_age_hours=dict(type="float", default=12),
    report_formats=dict(type="list", elements="str", choices=["html", "json", "junit"], default=[]),
    report_title=dict(type="str", default="Veeam backup compliance - fleet"),
    report_dir=dict(type="path"),
    stats_max_items=dict(type="int", default=10),
    message_max_items=dict(type="int", default=20),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    for name in ("stats_max_items", "message_max_items"):
        if params[name] < 0:
            module.fail_json(msg="%s must be 0 or more, got %d" % (name, params[name]))
    try:
        fleet = em_fleet.merge(params["parts"], expected=params["expected"], now=params["now"],
                               vm_rows=params["vm_rows"], max_part_age_hours=params["max_part_age_hours"])
        reports = em_fleet_report.render(fleet, params["report_formats"], title=params["report_title"],
                                         report_dir=params["report_dir"])
    except em_fleet.FleetInputError as error:
        module.fail_json(msg=str(error))
    module.exit_json(changed=False, fleet=fleet, reports=reports,
                     stats=em_fleet.stats(fleet, params["stats_max_items"]),
                     message=em_fleet.message(fleet, params["report_title"], params["message_max_items"]))


if __name__ == "__main__":
    main()
