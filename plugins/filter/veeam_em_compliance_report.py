# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report filters: JUnit XML and a self-contained HTML page of a ``veeam_em_compliance`` result.

The rendering is module_utils/em_compliance_report.py, shared with ``veeam_em_compliance_info``.
Documentation of the filters is in the ``.yml`` sidecars next to this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_report
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance_report import ReportInputError


class ReportFilterError(AnsibleFilterError, ReportInputError):
    """The input is not a compliance result: an Ansible filter error that is also the renderer's."""


def veeam_em_compliance_junit(result):
    """Filter: JUnit XML string of a compliance result."""
    try:
        return em_compliance_report.to_junit(result)
    except ReportInputError as error:
        raise ReportFilterError(str(error))


def veeam_em_compliance_html(result, title="Veeam backup compliance"):
    """Filter: self-contained HTML page of a compliance result."""
    try:
        return em_compliance_report.to_html(result, title=title)
    except ReportInputError as error:
        raise ReportFilterError(str(error))


class FilterModule(object):
    """Compliance report filters of backupops.veeam_em."""

    def filters(self):
        return {
            "veeam_em_compliance_junit": veeam_em_compliance_junit,
            "veeam_em_compliance_html": veeam_em_compliance_html,
        }
