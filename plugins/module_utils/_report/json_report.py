# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The JSON report: the whole evaluation as one JSON object, keys sorted, one row per line.

The lists of rows (vms, violations, warnings, servers, jobs, errors) have one compact row per line
(diff- and grep-friendly: one VM per line); the other top-level values are indented. It is written
row by row: ``iter_json`` encodes one row at a time with the C encoder (json's ``iterencode``
cannot use it, and was 5 times slower at 5,000 VMs), so the file never exists as one string - at
50,000 VMs that string would be another copy of the evaluation, hundreds of megabytes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.backupops.veeam_em.plugins.module_utils._report.common import check_result
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_rows import PackedRows

# Pieces are joined into blocks of about this many characters before they are scrubbed and written.
BLOCK_CHARS = 1 << 16


def _dumps(value, indent=None):
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=indent,
                      separators=(",", ": ") if indent else (", ", ": "))


def _pieces(result):
    """The document in pieces; each piece holds whole JSON values (a string is never cut in two)."""
    yield "{\n"
    keys = sorted(result)
    for number, key in enumerate(keys):
        value = result[key]
        if isinstance(value, PackedRows) and not value:  # the module's VM rows (issue 18); none: as an empty list
            value = []
        yield "  %s: " % _dumps(key)
        if isinstance(value, (list, PackedRows)) and value:
            yield "[\n"
            last = len(value) - 1
            for index, row in enumerate(value):
                yield "    " + _dumps(row) + (",\n" if index < last else "\n")
            yield "  ]"
        else:
            yield _dumps(value, indent=2).replace("\n", "\n  ")
        yield ",\n" if number < len(keys) - 1 else "\n"
    yield "}\n"


def iter_json(result, scrub=None):
    """The JSON report in blocks of text, each passed through ``scrub`` when given.

    Blocks end only between pieces, so a secret inside one of EM's texts is never cut in two.
    """
    check_result(result)
    block, size = [], 0
    for piece in _pieces(result):
        block.append(piece)
        size += len(piece)
        if size >= BLOCK_CHARS:
            text = "".join(block)
            yield scrub(text) if scrub else text
            block, size = [], 0
    if block:
        text = "".join(block)
        yield scrub(text) if scrub else text


def to_json(result):
    """The JSON report as one string (the same text ``iter_json`` writes)."""
    return "".join(iter_json(result))
