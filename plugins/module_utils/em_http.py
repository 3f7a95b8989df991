# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Wire-level helpers of the EM transport (``em_client``): reading a body in bounded steps, decoding
it, ``Retry-After``, and short error texts. No state; ``EMClient`` is the only caller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import email.utils
import time

try:
    import requests
    import urllib3
except ImportError:  # pragma: no cover - reported by the module base (em_client.HAS_REQUESTS)
    requests = None
    urllib3 = None

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_bounds, em_parse
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError

READ_CHUNK = 65536


def retry_after_seconds(value):
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None if absent/unreadable."""
    if not value:
        return None
    value = value.strip()
    # ASCII digits only: str.isdigit() also takes "\u00b2" (a Latin-1 header byte), which float() refuses
    if value.isdigit() and value.isascii():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:  # asctime and "-0000" forms carry no zone; an HTTP-date is always GMT
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, moment.timestamp() - time.time())


def decode_response(response, describe):
    """Decode a body, depth-checked first; a parse failure names the request like every other error."""
    try:
        em_bounds.check_depth(response.content)
        return em_parse.decode(response.content)
    except EMResponseError as error:
        error.request = error.request or describe
        raise
    except RecursionError:  # belt and braces behind check_depth: never a traceback
        raise EMResponseError("the response nests too deeply to be parsed; refused", request=describe)


def read_chunks(response, size=READ_CHUNK):
    """The decoded body in reads of at most ``size`` bytes, each returning as soon as data arrived
    (urllib3's ``read1``), so that a body trickling one byte at a time still reaches the deadline
    check; urllib3's errors become requests' (as ``iter_content`` does) for the callers."""
    raw = response.raw
    if not (hasattr(raw, "read1") and hasattr(raw, "decode_content")):  # urllib3 >= 2.3 responses only
        # a test double (BytesIO) or an urllib3 without read1: the plain iterator
        yield from response.iter_content(size)
        return
    while True:
        try:
            chunk = raw.read1(size, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.exceptions.ReadTimeout(exc)
        except urllib3.exceptions.DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc)
        except urllib3.exceptions.SSLError as exc:
            raise requests.exceptions.SSLError(exc)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise requests.exceptions.ChunkedEncodingError(exc)
        if not chunk:
            return
        yield chunk


def short_error(exc):
    """The first non-blank line of an exception (its class name if none), at most 300 characters."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[0] if lines else exc.__class__.__name__)[:300]
