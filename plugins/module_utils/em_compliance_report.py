# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Render a compliance evaluation as JSON, JUnit XML and a self-contained HTML page (the public front).

Shared by the report filters (``veeam_em_compliance_junit`` / ``_html``) and by
``veeam_em_compliance_info``, which renders the reports in the process that evaluated, so that
the full evaluation (megabytes at thousands of VMs) never has to pass through Ansible's
templating; only the finished documents do, as plain strings.

Reports are built in Python rather than Jinja templates so that escaping is done by the
standard library (xml.etree, html.escape) and can be tested with hostile VM names: quotes,
``<``, ``&``, non-ASCII and control characters all occur in real inventories.
Documentation of the filters is in the ``.yml`` sidecars of plugins/filter/.

The code lives in the private package ``_report`` (common, junit, json_report, html_base, html_tables,
html_causes, html, history, files); this module keeps the names other files import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

# The names other files import from here (filters, the module, tools, tests) are re-exported.
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.common import (  # noqa: F401
    GENERIC_REMEDIATION, REMEDIATION, ReportInputError, xml_text)
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.files import (  # noqa: F401
    ReportWriteError, write_reports)
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html import (  # noqa: F401
    BANNER_WORDS, banner_counts, to_html)
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html_base import (  # noqa: F401
    CELL_SYMBOLS, CELL_TITLES, h, show_time)
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html_changes import DEFAULT_MAX_ROWS  # noqa: F401
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html_causes import (  # noqa: F401
    grouped_causes, normalise_reason)
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html_tables import (  # noqa: F401
    JOB_HEADERS, failing_jobs, job_display_status, server_display_status)
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.json_report import iter_json, to_json  # noqa: F401
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.junit import (  # noqa: F401
    GLOBAL_SUITE, JOB_SUITE, SERVER_SUITE, junit_cases, to_junit)

__all__ = [
    "BANNER_WORDS", "CELL_SYMBOLS", "CELL_TITLES", "DEFAULT_MAX_ROWS", "GENERIC_REMEDIATION", "GLOBAL_SUITE",
    "JOB_HEADERS", "JOB_SUITE", "REMEDIATION", "RENDERERS", "ReportInputError", "ReportWriteError", "SERVER_SUITE",
    "argument_spec", "banner_counts", "check_options", "failing_jobs", "grouped_causes", "h", "iter_json",
    "job_display_status", "junit_cases", "normalise_reason", "render", "server_display_status", "show_time",
    "to_html", "to_json", "to_junit", "write_for_module", "write_reports", "xml_text",
]

RENDERERS = {"json": to_json, "junit": to_junit, "html": to_html}


def render(result, formats, title="Veeam backup compliance"):
    """The asked reports of one evaluation, as text keyed by format."""
    reports = {}
    for name in formats:
        reports[name] = to_html(result, title=title) if name == "html" else RENDERERS[name](result)
    return reports


# ---------------------------------------------------------------------------------------------
# Reports written by veeam_em_compliance_info itself (issue 17/18): options, checks, writing.
# ---------------------------------------------------------------------------------------------

def argument_spec():
    """The report options of veeam_em_compliance_info (documented in its DOCUMENTATION)."""
    return dict(
        report_formats=dict(type="list", elements="str", default=[], choices=sorted(RENDERERS)),
        report_title=dict(type="str", default="Veeam backup compliance"),
        report_dir=dict(type="path"),
        report_basename=dict(type="str", default="compliance"),
        report_history=dict(type="int", default=30),
        report_trend_days=dict(type="int", default=30),
        report_html_max_rows=dict(type="int", default=DEFAULT_MAX_ROWS),
        report_mode=dict(type="str", default="0644"),
    )


_MODE = re.compile(r"^0?[0-7]{3}$")


def check_options(params):
    """Report options that cannot work fail before any request, naming the option and value."""
    basename = params.get("report_basename") or ""
    if not basename or "/" in basename or "\\" in basename or basename.startswith("."):
        raise ReportInputError("report_basename=%r: must be a plain file name stem (no '/', not empty, "
                               "not starting with '.')" % basename)
    report_dir = params.get("report_dir")
    if report_dir and not os.path.isabs(report_dir):
        # The module's working directory is the playbook's folder (the installed collection, AWX's
        # job folder), not the directory ansible-playbook was started from.
        raise ReportInputError("report_dir=%r: must be an absolute path (a relative one would be resolved "
                               "against the playbook's folder, not the current directory)" % report_dir)
    for name, lowest in (("report_history", 0), ("report_trend_days", 0), ("report_html_max_rows", 1)):
        if params.get(name) is not None and params[name] < lowest:
            raise ReportInputError("%s=%s: must be %d or more" % (name, params[name], lowest))
    if not _MODE.match(str(params.get("report_mode") or "")):
        raise ReportInputError("report_mode=%r: must be an octal file mode such as '0644'" % params.get("report_mode"))


def write_for_module(params, compliance, scrub):
    """``report_files`` for the module's result: the files written to ``report_dir`` ({} without it).

    Raises ReportWriteError (naming report_dir and the reason) when a file cannot be written.
    """
    if not params.get("report_dir") or not params.get("report_formats"):
        return {}
    options = dict((key, params[key]) for key in argument_spec())
    options["report_mode"] = int(params["report_mode"], 8)
    return write_reports(compliance, options, scrub=scrub)
