# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Files written whole or not at all: the reports (_report/files.py) and the history cache
(_compliance/history_cache.py) share this one writer.

Through a temporary file in the same directory, then ``os.replace``: a reader (a person opening the
latest report, the next night's run reading the cache) never sees half a file, and a run that stops
half way leaves the previous file in place. The temporary file starts with a dot so that listings of
the report directory skip it; it is removed on every failure, KeyboardInterrupt included.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os
import tempfile


@contextlib.contextmanager
def atomic_open(path, mode, binary=False):
    """``with atomic_open(path, 0o644) as stream:`` - a text (UTF-8) or binary stream whose content
    replaces ``path`` (with file mode ``mode``) only when the block ends without an exception."""
    directory = os.path.dirname(path) or "."
    handle, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
    try:
        with (os.fdopen(handle, "wb") if binary else os.fdopen(handle, "w", encoding="utf-8")) as stream:
            yield stream
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
