# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""What a failed request means, in words a playbook user can act on: the hints of ``EMClient``'s errors.

``http_error`` turns an EM error answer into its typed error (em_errors) with EM's own message and
a hint; ``tls_hint`` and ``port_hint`` name the likely cause of a transport failure. No state; the
client (em_client) is the only caller. Tests: test_hints (through the client) and test_em_hints.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_bounds, em_parse
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError, error_class_for_status
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_logon import LOGON_PATH

VBR_REST_PORT = 9419
NOT_EM_HINT = ("is this Veeam Backup Enterprise Manager (port 9398)? the VBR REST API on 9419 is a different API")
# OpenSSL's words when the other end answered the ClientHello with plain text (an HTTP server):
# 1.1/3.0 "wrong version number", 3.2+ "record layer failure", older/LibreSSL the others.
PLAIN_HTTP_MARKERS = ("wrong version number", "record layer failure", "packet length too long",
                      "unknown protocol", "http request")


def tls_hint(text, base, ca_path):
    """The cause OpenSSL's words point at: only a failed certificate check is about ca_path."""
    text = text.lower()
    host = base.split("://", 1)[-1]
    if any(marker in text for marker in PLAIN_HTTP_MARKERS):
        return ("the server answered plain HTTP / TLS handshake failed: is it http://%s? (EM serves HTTPS on "
                "9398; plain http also needs allow_http: true)" % host)
    if "certificate verify failed" in text or "certificate_verify_failed" in text:
        if "hostname mismatch" in text or "doesn't match" in text or "ip address mismatch" in text:
            return ("EM's certificate is not issued for %s: use the host name its certificate names as "
                    "server" % host.rsplit(":", 1)[0])
        return ("set ca_path to the CA bundle that signed EM's certificate (EM's default certificate is "
                "self-signed), or validate_certs: false")
    if "no certificate or crl found" in text or "pem lib" in text:
        return "ca_path %s holds no usable PEM certificate" % ca_path
    return ("the TLS handshake with %s failed: is it Veeam Backup Enterprise Manager (HTTPS on 9398), with "
            "nothing in between that intercepts TLS?" % host)


def port_hint(base):
    """A server URL on VBR's REST port: the wrong API, not a broken EM."""
    if base.endswith(":%d" % VBR_REST_PORT):
        return "9419 is the VBR REST API; EM is 9398"
    return None


def http_error(response, describe, base, options, owns_session):
    """The typed error of an EM error answer, with EM's ``Message`` (never its stack trace) and a hint."""
    status = response.status_code
    try:
        em_bounds.check_depth(response.content or b"")
        em_message, _code = em_parse.error_fields(response.content or b"")
    except (EMResponseError, RecursionError):
        em_message = None
    error_class = error_class_for_status(status)
    message = "HTTP %d %s" % (status, response.reason or "")
    logon = describe.startswith("POST /api/sessionMngr")
    hint = None
    # EM answers its own paths; an API-less web server says 404/405/501 (a plain Python one:
    # 501 "Unsupported method ('POST')"), which never come from EM's logon [INF].
    if status == 501 or (logon and status in (404, 405)):
        hint = port_hint(base) or NOT_EM_HINT
    elif status == 404:
        hint = port_hint(base)
    if status == 401 and logon:
        # the logon: credentials were refused; no session_id was involved, so none is mentioned
        hint = ("EM refused user %r at %s%s: check username and password (a Windows account, DOMAIN\\user, "
                "holding an EM role)" % (options.username, base, LOGON_PATH))
    elif status == 401 and options.session_id and not owns_session:
        hint = "the session_id is no longer valid (logged off, or expired after 15 minutes idle)"
    return error_class(message.strip(), request=describe, status=status, em_message=em_message, hint=hint)
