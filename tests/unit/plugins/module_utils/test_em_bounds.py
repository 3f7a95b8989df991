"""em_bounds.check_depth: EM's own documents pass, anything nested deeper than the limit is refused."""
import glob
import json
import os

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_bounds import check_depth
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError

SAMPLES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "em_samples", "*")))


@pytest.mark.parametrize("path", SAMPLES, ids=os.path.basename)
def test_em_samples_pass(path):
    with open(path, "rb") as handle:
        check_depth(handle.read())


def xml(depth):
    return b"<?xml version='1.0'?><!-- <a> --><r>" + b"<a x='1'><b/>" * (depth - 1) + b"t" + b"</a>" * (depth - 1) + b"</r>"


def json_doc(depth):
    return b'{"k": "]]]\\"[[[", "v": ' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("body", [xml(64), json_doc(64), b"[" * 64 + b"]" * 64, b"", b"not a document",
                                  b"\xef\xbb\xbf" + json_doc(10)], ids=["xml-64", "json-64", "arrays-64", "empty",
                                                                        "text", "bom-json"])
def test_at_the_limit_passes(body):
    check_depth(body)


@pytest.mark.parametrize("body", [xml(65), json_doc(65), b"[" * 65 + b"]" * 65, b"<r>" + b"<a>" * 100,
                                  b"[" + b"[1]," * 10 + b"[" * 70 + b"]" * 70 + b"]",
                                  b"<r>" + b"<a><b/>" * 70 + b"</a>" * 70 + b"</r>"],
                         ids=["xml-65", "json-65", "arrays-65", "xml-never-closed", "json-wide-then-deep",
                              "xml-siblings-between-levels"])
def test_beyond_the_limit_is_refused(body):
    with pytest.raises(EMResponseError) as raised:
        check_depth(body)
    assert "more than 64 levels deep" in str(raised.value)


def test_strings_with_brackets_do_not_count():
    document = json.dumps({"Reason": "[" * 500 + "{" * 500, "Name": "<a>" * 500}).encode()
    check_depth(document)
    check_depth(b"<r><n>" + b"&lt;a&gt;" * 500 + b"</n><![CDATA[" + b"<a>" * 500 + b"]]></r>")
