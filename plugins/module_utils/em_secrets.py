# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The one scrubber: every secret the collection holds, in every form it can come back in.

A secret is registered once, where it is created (the password and the Basic header value when
the client is built, the token when EM hands it out, the SessionId when it is read), together
with every encoding it was sent in or could be echoed in: raw, Base64 (a token is base64 of the
SessionId, em-api-facts.md 1.2, so each is registered with the other), URL-encoded, JSON- and
XML-escaped. Registered values are also handed to the Ansible ``no_log`` sets attached with
``attach`` (``module.no_log_values``), so ansible-core masks them in everything the module returns.

Every string that leaves the collection (messages, warnings, report text) goes through ``scrub``.
The registry is per process: an Ansible module process serves one task.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import re
import threading

try:
    from urllib.parse import quote, quote_plus
except ImportError:  # pragma: no cover - Python 2
    from urllib import quote, quote_plus

MASK = "********"
MIN_LENGTH = 4  # shorter values would mask ordinary words; no secret of ours is that short
# A form this short, or one of letters only up to WORD_LENGTH ("backup", "Warning"), may be an ordinary
# word: it is masked as a whole word only (not inside "backups" or "backup_server_name") and never as a JSON
# key, so that the keys and words of a report around it are not turned into stars. Any form is masked in any
# letter case, weak or not: EM and proxies echo input upper-cased ("INVALID CREDENTIALS FOR EMADMIN:PASS1WORD"),
# a session id may come back either way, and a weak password is still a password (a "Backup" masked in a
# sentence costs a word; the password in clear costs the account).
WEAK_LENGTH = 8
WORD_LENGTH = 12

_LOCK = threading.Lock()
_FORMS = set()
_PATTERN = [None]  # the strong forms, any letter case
_WEAK_PATTERN = [None]  # the weak forms, any letter case, whole words
_LOWERED = []
_WEAK = []
_SINKS = []


def is_weak(form):
    """Whether ``form`` could be an ordinary word (see WEAK_LENGTH): masked as a whole word only."""
    return len(form) < WEAK_LENGTH or (form.isalpha() and len(form) <= WORD_LENGTH)


def _whole_words(forms):
    # (?<!\w)...(?!\w): "backup" is not masked inside "backups" nor "backup_server"; (?!"\s*:): nor as a JSON
    # key ("backup": {...} of a report row), structure a reader parses, never EM's echo
    return re.compile(r'(?<!\w)(?:%s)(?!\w)(?!"\s*:)' % _alternation(forms), re.IGNORECASE)


def _alternation(forms):
    # Longest first: a form that contains another must be masked whole.
    return "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))


def _encodings(value):
    """The forms ``value`` can take in a URL, a JSON or XML body, or a header."""
    text_escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # XML/HTML text
    forms = {value, quote(value, safe=""), quote_plus(value, safe=""), quote(value, safe="/:@"),
             json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], text_escaped,
             text_escaped.replace('"', "&quot;"), text_escaped.replace('"', "&quot;").replace("'", "&#x27;"),
             text_escaped.replace('"', "&quot;").replace("'", "&apos;"), value.replace("/", "\\/")}
    return forms


def _base64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _register_forms(forms):
    forms = set(form for form in forms if form and len(form) >= MIN_LENGTH)
    with _LOCK:
        new = forms - _FORMS
        if not new:
            return
        _FORMS.update(new)
        strong = [form for form in _FORMS if not is_weak(form)]
        weak = [form for form in _FORMS if is_weak(form)]
        _PATTERN[0] = re.compile(_alternation(strong), re.IGNORECASE) if strong else None
        _WEAK_PATTERN[0] = _whole_words(weak) if weak else None
        _LOWERED[:] = sorted(set(form.lower() for form in strong))
        _WEAK[:] = sorted(set(form.lower() for form in weak))
        sinks = list(_SINKS)
    for sink in sinks:
        sink.update(new)


def register(value):
    """A secret of no particular shape (a password): it and its encodings; returns the forms (for a caller
    that must hand them to a no_log set of its own before ``attach`` is possible)."""
    if value is None:
        return set()
    forms = set(form for form in _encodings(str(value)) if form and len(form) >= MIN_LENGTH)
    _register_forms(forms)
    return forms


def register_credentials(username, password):
    """The password and ``base64(user:password)`` (the Basic header value); returns the header.

    UTF-8 credentials (em-api-facts.md 1.2): requests' own ``auth=(user, password)`` encodes text
    as Latin-1 and raises UnicodeEncodeError (a traceback, not a module failure) for other characters.
    """
    register(password)
    raw = u"%s:%s" % (username, password)
    basic = _base64(raw)
    _register_forms(_encodings(basic) | _encodings(raw))
    return "Basic " + basic


def register_token(token):
    """An ``X-RestSvcSessionId`` value, and the SessionId it is the Base64 of (when it is)."""
    if not token:
        return
    forms = _encodings(str(token))
    try:
        decoded = base64.b64decode(str(token), validate=True).decode("ascii")
    except (ValueError, TypeError, UnicodeDecodeError):
        decoded = None
    _register_forms(forms)
    if decoded and len(decoded) >= MIN_LENGTH and decoded.isprintable():
        register_session_id(decoded)


def register_session_id(session_id):
    """A logon SessionId (GUID): its Base64 IS the token, so both are secrets while it lives."""
    if not session_id:
        return
    text = str(session_id)
    forms = set()
    for variant in (text, text.lower(), text.upper(), text.strip("{}")):
        forms |= _encodings(variant) | _encodings(_base64(variant))
    _register_forms(forms)


def attach(no_log_values):
    """Keep the set ``no_log_values`` (an AnsibleModule's) filled with every form, now and later."""
    with _LOCK:
        if any(sink is no_log_values for sink in _SINKS):
            return
        _SINKS.append(no_log_values)
        current = set(_FORMS)
    no_log_values.update(current)


def detach(no_log_values):
    with _LOCK:
        _SINKS[:] = [sink for sink in _SINKS if sink is not no_log_values]


def scrub(text):
    """``text`` with every registered secret form replaced by ``********``, in any letter case; a weak form
    (``is_weak``) as a whole word only."""
    if text is None:
        return None
    if not isinstance(text, str):
        text = str(text)
    # Fast path for long texts (report documents): C substring searches, the regex only on a hit.
    if not found(text):
        return text
    strong, weak = _PATTERN[0], _WEAK_PATTERN[0]
    if strong is not None:
        text = strong.sub(MASK, text)
    return text if weak is None else weak.sub(MASK, text)


def found(text):
    """Whether a registered secret form occurs in ``text`` (case-insensitively; a weak one maybe inside a
    word, which scrub leaves): when not, ``scrub`` gives ``text`` back as it is, and so it does every part of ``text`` (a form in
    a part is in the whole). A writer of many short texts may ask this once of them joined by a newline and
    scrub them one by one only on a hit (history_cache: the lower case of texts joined by a newline is theirs
    joined, str.lower's one rule with context - a final sigma - reads a newline as the end of a word, like the
    end of the text)."""
    lowered = text.lower()
    return any(form in lowered for form in _LOWERED) or any(form in lowered for form in _WEAK)


def case_variants(values, texts):
    """The occurrences in ``texts`` of ``values`` in another letter case (``ABC-123`` for ``abc-123``; a weak
    value, ``is_weak``, as a whole word only): what an exact-case masker (ansible-core's ``no_log_values``)
    must be given as well to mask a secret in any case, so that it masks what scrub masks."""
    values = set(str(value) for value in values if value and len(str(value)) >= MIN_LENGTH)
    strong = [value for value in values if not is_weak(value)]
    weak = [value for value in values if is_weak(value)]
    patterns = [pattern for pattern in (strong and re.compile(_alternation(strong), re.IGNORECASE),
                                        weak and _whole_words(weak)) if pattern]
    if not patterns:
        return set()
    lowered = [value.lower() for value in values]
    found_forms = set()
    for text in texts:
        low = text.lower()
        if any(value in low for value in lowered):
            for pattern in patterns:
                found_forms.update(pattern.findall(text))
    return found_forms - values


def scrub_data(value):
    """``scrub`` applied to every string in nested dicts/lists (report documents, results)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return dict((scrub_data(key), scrub_data(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [scrub_data(item) for item in value]
    return value


def registered_count():
    with _LOCK:
        return len(_FORMS)
