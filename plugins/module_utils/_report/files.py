# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Write the reports to a directory on the host the module runs on (the controller, connection local).

Moved here from the role's ``copy`` tasks (issue 17): three documents of megabytes passed as
strings through Ansible's result and templating layers cost more than reading EM. Here each file
is written once, in the process that evaluated:

* ``<basename>.<ext>`` is the stable latest (json, xml, html), replaced atomically (a temporary
  file in the same directory, then ``os.replace``): a reader never sees half a report;
* ``<basename>-YYYYmmddTHHMMSSZ.<ext>`` are the dated copies (hard links to the latest when the
  file system allows, which ``os.replace`` of the next run leaves intact; else copies), of the
  newest ``history`` runs; older stamps are deleted (all formats of one run share its stamp);
* ``<basename>.state.json`` and ``<basename>.trend.json`` (and their dated copies) are the small
  records the next report compares with (new / recurring / resolved) and the nightly trend is
  counted from (_report/history.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_files
from ansible_collections.backupops.veeam_em.plugins.module_utils._report import history
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.html import to_html
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.json_report import iter_json
from ansible_collections.backupops.veeam_em.plugins.module_utils._report.junit import iter_junit
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import ReportWriteError  # noqa: F401

EXTENSIONS = {"json": "json", "junit": "xml", "html": "html"}
STATE = "state.json"
TREND = "trend.json"
_STAMP = re.compile(r"^\d{8}T\d{6}Z$")


def stamp_of(generated_at):
    """'2026-11-29T02:00:00.5Z' -> '20261129T020000Z' (the dated names sort by time)."""
    text = str(generated_at or "")[:19].replace("-", "").replace(":", "")
    return text + "Z" if _STAMP.match(text + "Z") else None


def write_atomic(path, chunks, mode):
    """Write text chunks to ``path`` whole or not at all (em_files.atomic_open)."""
    with em_files.atomic_open(path, mode) as stream:
        for chunk in chunks:
            stream.write(chunk)


def _dated_copy(latest, dated):
    """The dated copy of a report just written: a hard link (no second write), else a copy."""
    if os.path.exists(dated):
        os.unlink(dated)
    try:
        os.link(latest, dated)
    except OSError:
        shutil.copy2(latest, dated)


def _dated_files(directory, basename):
    """{stamp: [file names]} of the dated files of ``basename`` in ``directory``."""
    pattern = re.compile(r"^%s-(\d{8}T\d{6}Z)\." % re.escape(basename))
    found = {}
    for name in os.listdir(directory):
        match = pattern.match(name)
        if match:
            found.setdefault(match.group(1), []).append(name)
    return found


def prune(directory, basename, keep):
    """Delete the dated files of all but the newest ``keep`` stamps; returns the deleted paths."""
    dated = _dated_files(directory, basename)
    removed = []
    for stamp in sorted(dated)[:-keep] if keep > 0 else sorted(dated):
        for name in sorted(dated[stamp]):
            os.unlink(os.path.join(directory, name))
            removed.append(os.path.join(directory, name))
    return removed


def _load(path):
    try:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except (IOError, OSError, ValueError):
        return None


def previous_state(directory, basename):
    """The state of the previous report: its state file, else (written before states) its JSON report."""
    state = _load(os.path.join(directory, "%s.%s" % (basename, STATE)))
    if state is not None and state.get("version") == history.STATE_VERSION:
        return state
    report = _load(os.path.join(directory, basename + ".json"))
    if isinstance(report, dict) and "vms" in report and "generated_at" in report:
        return history.state_of(report)
    return None


def kept_states(directory, basename, current_night, nights):
    """The dated trend records of earlier runs the trend reads (history.nights_of), loaded one at a time."""
    dated = _dated_files(directory, basename)
    stamps = [stamp for stamp, names in dated.items() if "%s-%s.%s" % (basename, stamp, TREND) in names]
    for stamp in history.nights_of(stamps, current_night, nights):
        state = _load(os.path.join(directory, "%s-%s.%s" % (basename, stamp, TREND)))
        if state is not None and state.get("version") == history.STATE_VERSION:
            yield state


def _render(report, fmt, options, json_href, scrub):
    """The chunks of one format: the JSON and the JUnit streamed, the HTML as one text."""
    if fmt == "json":
        return iter_json(report, scrub)
    if fmt == "junit":  # one test suite at a time (issue 18); a secret in EM's text never spans two suites
        return (scrub(piece) for piece in iter_junit(report))
    return [scrub(to_html(report, title=options["report_title"], max_rows=options["report_html_max_rows"],
                          json_href=json_href))]


def _with_history(result, directory, basename, nights):
    """(report, records): the evaluation plus ``changes`` and ``trend`` (a shallow copy), and the two
    records of this run ({"state": ..., "trend": ...})."""
    previous = previous_state(directory, basename)
    changes = history.compare(previous, result)
    records = {"state": history.state_of(result, changes, previous), "trend": history.nights_state_of(result)}
    report = dict(result)
    report["changes"] = changes
    if nights > 0:
        night = str(result.get("generated_at") or "")[:10]
        report["trend"] = history.trend(kept_states(directory, basename, night, nights), result, records["trend"])
    return report, records


def _json_href(options, stamp):
    """The JSON of the same run, relative to the HTML (the dated one: the latest is replaced tomorrow)."""
    if "json" not in options["report_formats"]:
        return None
    basename = options["report_basename"]
    return "%s-%s.json" % (basename, stamp) if options["report_history"] > 0 and stamp else basename + ".json"


def _write_all(report, records, options, stamp, scrub):
    directory, basename, mode = options["report_dir"], options["report_basename"], options["report_mode"]
    files = {}
    for fmt in options["report_formats"]:
        files[fmt] = os.path.join(directory, "%s.%s" % (basename, EXTENSIONS[fmt]))
        write_atomic(files[fmt], _render(report, fmt, options, _json_href(options, stamp), scrub), mode)
    for name, extension in (("state", STATE), ("trend", TREND)):
        files[name] = os.path.join(directory, "%s.%s" % (basename, extension))
        write_atomic(files[name], [scrub(json.dumps(records[name], sort_keys=True, ensure_ascii=False))], mode)
    dated, removed = {}, []
    if options["report_history"] > 0 and stamp:
        for fmt, path in files.items():
            extension = {"state": STATE, "trend": TREND}.get(fmt) or EXTENSIONS[fmt]
            dated[fmt] = os.path.join(directory, "%s-%s.%s" % (basename, stamp, extension))
            _dated_copy(path, dated[fmt])
        removed = prune(directory, basename, options["report_history"])
    return files, dated, removed


def write_reports(result, options, scrub=lambda text: text):
    """Write the reports of ``options['report_formats']`` to ``options['report_dir']``; returns what was written.

    ``options``: report_dir, report_formats, report_basename, report_history, report_trend_days,
    report_html_max_rows, report_mode (int), report_title. Raises ReportWriteError naming the path.
    """
    directory, basename = options["report_dir"], options["report_basename"]
    stamp = stamp_of(result.get("generated_at"))
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        report, records = _with_history(result, directory, basename, options["report_trend_days"])
        files, dated, removed = _write_all(report, records, options, stamp, scrub)
    except (IOError, OSError, UnicodeError) as error:
        # str(error) names the errno text and the file ("[Errno 13] Permission denied: '/x/y'"); a text no UTF-8
        # writer takes (em_decode reads EM's lone surrogates as U+FFFD: a caller's own evaluation may hold one)
        # is a report error too, never a traceback with no verdict
        raise ReportWriteError("report_dir=%s: the reports could not be written: %s" % (directory, error))
    changes = report["changes"]
    return {"dir": directory, "files": files, "dated": dated, "removed": removed,
            "changes": {"first_report": changes["first_report"],
                        "previous_generated_at": changes["previous_generated_at"],
                        "new": len(changes["new"]), "recurring": len(changes["recurring"]),
                        "resolved": len(changes["resolved"])},
            "trend_nights": report["trend"]["nights"] if "trend" in report else 0}
