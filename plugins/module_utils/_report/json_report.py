# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JSON report: the whole evaluation, keys sorted, indented (what to_nice_json wrote).

``write_json`` streams it to a file in pieces (json's iterencode) instead of building the whole
text: at 50,000 VMs the text is hundreds of megabytes, a second copy of the evaluation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.backupops.veeam_em.plugins.module_utils._report.common import check_result

# One encoder for the string and the file: the same bytes either way.
_ENCODER_OPTIONS = dict(indent=2, sort_keys=True, separators=(",", ": "), ensure_ascii=False)
# Pieces are joined into blocks of about this many characters before they are scrubbed and written.
BLOCK_CHARS = 1 << 16


def to_json(result):
    """The JSON report as one string."""
    check_result(result)
    return json.dumps(result, **_ENCODER_OPTIONS) + "\n"


def iter_json(result, scrub=None):
    """The JSON report in blocks of text, each passed through ``scrub`` when given.

    iterencode yields every JSON string whole (never split between pieces), and blocks end only
    between pieces, so a secret inside one of EM's texts is never cut in two by a block boundary.
    """
    check_result(result)
    block, size = [], 0
    for piece in json.JSONEncoder(**_ENCODER_OPTIONS).iterencode(result):
        block.append(piece)
        size += len(piece)
        if size >= BLOCK_CHARS:
            text = "".join(block)
            yield scrub(text) if scrub else text
            block, size = [], 0
    block.append("\n")
    text = "".join(block)
    yield scrub(text) if scrub else text
