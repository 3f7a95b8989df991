# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The compliance policy: options of the veeam_em_compliance filter and of the
    veeam_em_compliance_info module, which share module_utils/em_compliance.py.

    Defaults mirror em_compliance.DEFAULT_POLICY; a unit test compares them.
    """

    DOCUMENTATION = r"""
options:
  backup_rpo_hours:
    description: Maximum age of the newest successful backup point, in hours.
    type: float
    default: 24
  replica_rpo_hours:
    description: Maximum age of the newest successful replica point, in hours; V(0) disables the check.
    type: float
    default: 24
  lookback_days:
    description: Length of the window, in days, that tells which VMs are protected at all.
    type: float
    default: 7
  recent_hours:
    description:
      - Recovered failures and long-running sessions are reported only when the session was
        created within this many hours (set it to the interval between runs).
    type: float
    default: 24
  accept_warnings:
    description: Count a C(Warning) result as a protected point.
    type: bool
    default: true
  max_duration_minutes:
    description: Longest acceptable session duration; V(0) disables the check.
    type: float
    default: 480
  stuck_hours:
    description: A session InProgress or Pending for longer than this is stuck.
    type: float
    default: 12
  include_vms:
    description: Globs of VM display names to evaluate (empty = all).
    type: list
    elements: str
    default: []
  exclude_vms:
    description: Globs of VM display names to ignore.
    type: list
    elements: str
    default: []
  include_jobs:
    description: Globs of job names whose sessions are evaluated (empty = all).
    type: list
    elements: str
    default: []
  exclude_jobs:
    description: Globs of job names whose sessions are ignored.
    type: list
    elements: str
    default: []
  include_servers:
    description: Globs of backup server names to evaluate (empty = all).
    type: list
    elements: str
    default: []
  exclude_servers:
    description: Globs of backup server names to ignore.
    type: list
    elements: str
    default: []
  expected_vms:
    description:
      - VMs that must be protected, e.g. from a CMDB. Each entry is a VM name or a dict with
        C(name) and optional C(backup_server) (name or UID).
    type: list
    elements: raw
    default: []
  known_backup_servers:
    description: Backup servers (names or UIDs) that must have sessions in the window.
    type: list
    elements: str
    default: []
  allow_partial_view:
    description:
      - Whether a view of only part of EM is acceptable. When the account is not a Portal Administrator
        (found by M(backupops.veeam_em.veeam_em_compliance_info) with one probe; the filter's C(view_limits)),
        each limit is a C(partial_view) finding with severity C(error) and the run is not compliant; V(true)
        makes it a warning.
    type: bool
    default: false
"""
