# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``veeam_em_compliance`` filters: the evaluation of module_utils/em_compliance.py for
sessions a playbook already holds (read with the info modules, or from elsewhere).

The rules themselves are shared with the ``veeam_em_compliance_info`` module, which reads and
evaluates in one process; documentation is in the ``.yml`` sidecars next to this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import ComplianceInputError


class ComplianceFilterError(AnsibleFilterError, ComplianceInputError):
    """Invalid filter input: an Ansible filter error that is also the evaluation's input error."""


def veeam_em_compliance(backup_sessions, replica_sessions=None, now=None, job_sessions=None, **options):
    """Filter: evaluate compliance (see veeam_em_compliance.yml)."""
    if backup_sessions is not None and not isinstance(backup_sessions, (list, tuple)):
        raise ComplianceFilterError("the input must be the list of backup task sessions")
    try:
        return em_compliance.evaluate(backup_sessions, replica_sessions=replica_sessions, now=now,
                                      job_sessions=job_sessions, **options)
    except ComplianceInputError as error:
        raise ComplianceFilterError(str(error))


def veeam_em_compliance_window_start(now, lookback_days=7):
    """Filter: the created_after value of the window ending at now."""
    try:
        return em_compliance.window_start(now, lookback_days)
    except ComplianceInputError as error:
        raise ComplianceFilterError(str(error))


class FilterModule(object):
    """Compliance evaluation filters of backupops.veeam_em."""

    def filters(self):
        return {
            "veeam_em_compliance": veeam_em_compliance,
            "veeam_em_compliance_window_start": veeam_em_compliance_window_start,
        }
