# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Bounds checked on a response body BEFORE it is parsed (``em_parse.decode``).

Nesting depth: EM's documents are at most about 8 levels deep (QueryResult > Entities >
BackupTaskSessions > BackupTaskSession > Links > Link, em-api-facts.md 3). A hostile body nested
thousands deep makes xmltodict quadratic (it slices its element path on every element: 560 KB took
16 s) and Python's recursive walkers raise ``RecursionError``. Hand-written because no stdlib or
dependency parser offers a depth limit: the check reduces the body to its bracket skeleton with
C-speed byte operations (``re.sub``, ``bytes.translate``, ``bytes.replace``) and peels one level per
round, so it is linear in the body for every depth it accepts and stops after ``MAX_DEPTH`` rounds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError

MAX_DEPTH = 64  # ~8x the deepest EM document
BOM = b"\xef\xbb\xbf"

_JSON_ESCAPE_RE = re.compile(br"\\.", re.DOTALL)
_XML_MARKUP_RE = re.compile(br"<!--.*?-->|<\?.*?\?>|<!\[CDATA\[.*?\]\]>|<![^>]*>", re.DOTALL)
_XML_EMPTY_TAG_RE = re.compile(br"<[^<>]*/>")

_OPEN, _CLOSE = b"(", b")"
_ALL_BYTES = bytes(bytearray(range(256)))
_JSON_THIN = _ALL_BYTES.translate(None, b'"[]{}')   # everything but the quotes and the brackets
_JSON_TABLE = bytes.maketrans(b"[]{}", b"()()")
_XML_DELETE = _ALL_BYTES.translate(None, b"<)")      # everything but openings and closings


def check_depth(body, max_depth=MAX_DEPTH):
    """Raise ``EMResponseError`` if the XML or JSON ``body`` nests deeper than ``max_depth``."""
    skeleton = _skeleton(body or b"")
    if skeleton is None:
        return
    too_deep = _OPEN * (max_depth + 1)  # the usual attack: a run of openings, found in one scan
    if too_deep in skeleton:
        raise _too_deep(max_depth)
    depth = 0
    while skeleton:
        peeled = skeleton.replace(_OPEN + _CLOSE, b"")
        if len(peeled) == len(skeleton):
            break
        skeleton = peeled
        depth += 1
        if depth > max_depth:
            raise _too_deep(max_depth)
    # What did not peel is unbalanced: a long run of openings is nesting that never closes
    # (the parser would still walk it before it meets the end of the body).
    if too_deep in skeleton:
        raise _too_deep(max_depth)


def _too_deep(max_depth):
    return EMResponseError("the response nests elements more than %d levels deep; refused (EM's own documents "
                           "are about 8 deep)" % max_depth)


def _skeleton(body):
    """``(`` and ``)`` for each opening and closing of an element/object/array, nothing else."""
    start = body[:64].lstrip(BOM + b" \t\r\n")
    if start.startswith(b"<"):
        text = _XML_MARKUP_RE.sub(b"", body) if b"<!" in body or b"<?" in body else body
        text = _XML_EMPTY_TAG_RE.sub(b"", text).translate(None, b"()")
        text = text.replace(b"</", _CLOSE).translate(None, _XML_DELETE)
        return text.replace(b"<", _OPEN)
    if start.startswith((b"{", b"[")):
        text = _JSON_ESCAPE_RE.sub(b"", body) if b"\\" in body else body
        # Without escapes, quotes alternate open/close: every other piece between them is a string. Only the
        # quotes and brackets are kept before the split (one C pass), so the pieces are a few bytes each, not
        # the body's text: a 1.2 MB page's skeleton in ~2.6 ms instead of ~5.8 (issue 18: every page is checked).
        thin = text.translate(None, _JSON_THIN)
        return b"".join(thin.split(b'"')[0::2]).translate(_JSON_TABLE)
    return None
