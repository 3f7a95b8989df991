# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
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

# The names other files import from here (filters, the module, tools, tests) are re-exported.
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.common import (  # noqa: F401
    GENERIC_REMEDIATION, REMEDIATION, ReportInputError, xml_text)
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html import (  # noqa: F401
    BANNER_WORDS, banner_counts, to_html)
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html_base import (  # noqa: F401
    CELL_SYMBOLS, CELL_TITLES, h, show_time)
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html_causes import (  # noqa: F401
    grouped_causes, normalise_reason)
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html_tables import (  # noqa: F401
    JOB_HEADERS, failing_jobs, job_display_status, server_display_status)
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.json_report import iter_json, to_json  # noqa: F401
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.junit import (  # noqa: F401
    GLOBAL_SUITE, JOB_SUITE, SERVER_SUITE, junit_cases, to_junit)

RENDERERS = {"json": to_json, "junit": to_junit, "html": to_html}


def render(result, formats, title="Veeam backup compliance"):
    """The asked reports of one evaluation, as text keyed by format."""
    reports = {}
    for name in formats:
        reports[name] = to_html(result, title=title) if name == "html" else RENDERERS[name](result)
    return reports
