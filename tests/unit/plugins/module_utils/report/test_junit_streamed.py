"""Issue 18: the JUnit report is written one test suite at a time (iter_junit), not built as one
ElementTree of every VM: the text is the one ElementTree writes for the whole document, for every
frozen evaluation of the unit datasets, for rows held as em_rows.PackedRows, and for hostile names."""
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils._report import junit
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_rows import PackedRows

from ..compliance.test_compliance_fold import REFERENCE

NOW = "2025-06-05T06:00:00Z"


def _whole_tree(result):
    """The document as to_junit built it before issue 18: every suite in one tree, indented, one string."""
    timestamp = result.get("generated_at") or ""
    root = ET.Element("testsuites", {"name": "Veeam EM backup compliance"})
    tests = failures = errors = 0
    for name, cases in junit.junit_cases(result):
        suite_failures, suite_errors = junit._suite(root, name, cases, timestamp)  # pylint: disable=protected-access
        if name == junit.GLOBAL_SUITE:
            junit._properties(root[-1], result)  # pylint: disable=protected-access
        failures += suite_failures
        errors += suite_errors
        tests += len(cases)
    root.set("tests", str(tests))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    ET.indent(root)
    return u'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + u"\n"


@pytest.mark.parametrize("index", range(len(REFERENCE)))
def test_the_streamed_document_is_the_whole_tree_text(index):
    result = dict(REFERENCE[index]["result"], source={"em_server": "em.example.com", "username": "svc"})
    assert junit.to_junit(result) == _whole_tree(result)
    packed = dict(result, vms=PackedRows(result["vms"], block=3))
    assert junit.to_junit(packed) == _whole_tree(result)


def test_hostile_names_and_several_servers_stream_as_the_tree(session):
    sessions = [session(vm=u'a"<&>\u00e9\x01', server="vbr02"),
                session(vm="b", server="VBR01", result="Failed", reason="<b>&quota"),
                session(vm="c", server="vbr01", result="Warning"), session(vm="d", server=None)]
    result = evaluate(sessions, now=NOW)
    assert len(set(row["backup_server_name"] for row in result["vms"])) == 4
    pieces = list(junit.iter_junit(result))
    assert len(pieces) == 1 + 2 + 4 + 1  # declaration and root, the global and servers suites, 4 VM suites, end tag
    assert u"".join(pieces) == _whole_tree(result)


def test_no_vm_streams_as_the_tree():
    result = evaluate([], now=NOW)
    assert result["vms"] == [] and junit.to_junit(result) == _whole_tree(result)
