# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Connection options shared by every module. Declared once in em_connection.ConnectionOptions.ARGSPEC;
    this stays static YAML for ansible-doc, and test_em_connection.py keeps the two equal."""

    DOCUMENTATION = r"""
options:
  server:
    description:
      - Veeam Backup Enterprise Manager (EM) host name or IP address, or a URL C(https://host[:port]).
      - A port written in the URL wins over O(port). This is the EM REST API, not the VBR REST API on port 9419.
      - The host, port and path only - a user name or password (C(user:password@host)), C(#), C(?), C(\), spaces
        and schemes other than C(https) and C(http) are refused before any request.
      - If not set, the environment variable E(VEEAM_EM_SERVER) is used.
      - Required - as this option or E(VEEAM_EM_SERVER); the module fails naming both, before any request.
    type: str
  port:
    description:
      - HTTPS port of the EM REST API, 1 to 65535.
      - If not set, the environment variable E(VEEAM_EM_PORT) is used.
    type: int
    default: 9398
  username:
    description:
      - EM account (C(DOMAIN\\user) or a local Windows account) holding an EM role.
      - Portal User can read task sessions and tasks; Portal Administrator is needed for jobs.
      - Required unless O(session_id) is given.
      - If not set, the environment variable E(VEEAM_EM_USERNAME) is used.
    type: str
  password:
    description:
      - Password of O(username).
      - If not set, the environment variable E(VEEAM_EM_PASSWORD) is used.
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of EM. EM uses a self-signed certificate by default; prefer O(ca_path)
        over turning this off. V(false) makes the module warn.
      - If not set, the environment variable E(VEEAM_EM_VALIDATE_CERTS) is used; set but empty, or not a boolean
        (V(true)/V(false), V(yes)/V(no), V(on)/V(off), V(1)/V(0)), it is refused, never read as V(false).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate(s) to trust for EM's certificate. Used on every request, so
        E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE) cannot override it.
      - A path that does not exist is an error naming it, before any request.
      - If not set, the environment variable E(VEEAM_EM_CA_PATH) is used.
    type: path
  timeout:
    description:
      - Seconds to wait for EM to answer one request (for the connection, and for each read of the answer).
      - The logoff waits at most 10 seconds per read, whatever this says.
    type: float
    default: 30
  deadline:
    description:
      - Seconds the whole module call may take - logon, every page, every retry and back-off, waiting - enforced by
        the module itself, also against an answer that trickles in slower than O(timeout) could notice.
      - When it passes the module fails with C(exceeded its deadline) and logs off the EM session first (the logoff
        gets up to 15 seconds of its own).
      - The default, 30 minutes, is more than ten times the longest legitimate call measured (the nightly compliance
        read of 5,000 VMs) and shorter than EM's own patience with a stuck client; set it below a task's C(timeout:)
        or C(async) limit so that the module, not Ansible, ends the call (Ansible kills without a logoff).
      - Must be greater than C(wait_timeout) for the modules that have that option.
    type: float
    default: 1800
  api_version:
    description:
      - EM REST API version to log on with (C(v1_7) = EM 12 and 13, C(v1_6) = 11, C(v1_5) = 10).
      - V(latest) lets EM choose the newest version it supports.
    type: str
    default: latest
    choices: [latest, v1_7, v1_6, v1_5]
  session_id:
    description:
      - Reuse an existing EM logon session (the RV(backupops.veeam_em.veeam_em_session#module:session_id) token)
        instead of logging on; the module then does not log it off.
      - EM sessions expire after 15 minutes without requests.
      - If not set, the environment variable E(VEEAM_EM_SESSION_ID) is used, except when the task itself gives
        O(username) or O(password) - credentials written in the task win over a session found in the environment
        (the module warns that it ignored E(VEEAM_EM_SESSION_ID)).
    type: str
  allow_http:
    description:
      - Allow a plain C(http://) O(server). Refused otherwise, before anything is sent, because the password
        (Basic authentication) and every session token would cross the network unencrypted and reach any HTTP proxy
        from the environment. V(true) makes the module warn. EM itself only listens on HTTPS.
      - If not set, the environment variable E(VEEAM_EM_ALLOW_HTTP) is used.
    type: bool
    default: false
  retries:
    description:
      - How many times an idempotent request (GET, logoff) is retried after a connection error, a
        timeout, or HTTP 502, 503 or 504, with exponential back-off (C(Retry-After) is honoured).
    type: int
    default: 3
  retry_backoff:
    description:
      - First back-off delay in seconds; it doubles with each retry (capped at 30 seconds).
    type: float
    default: 1.0
notes:
  - Every request is sent with the C(X-RestSvcSessionId) header only; cookies are never stored,
    because EM prefers a (possibly stale) cookie over the header.
  - Without O(session_id) the module logs on, and logs off when it is done, also when it fails, when O(deadline)
    passes, and when the module process receives SIGTERM or SIGHUP (it then fails with C(stopped by signal)).
    SIGKILL, which Ansible's C(async) uses at its time limit, cannot be caught; EM expires such a session after
    15 minutes idle.
  - Proxies from the environment (E(HTTPS_PROXY), E(NO_PROXY)) are used; credentials from C(~/.netrc) are never
    used, whatever host entry it has - only O(username)/O(password) or O(session_id) authenticate.
  - The password, the Basic authentication value, every session token and session id are masked (C(********)) in
    every message, warning, result and report, in raw, Base64, URL-encoded, JSON- and XML-escaped form.
  - Answers are bounded - body size 64 MiB after decompression, nesting depth 64, numbers EM can send, at most
    100,000 pages - and anything beyond is a clear error, not a traceback or a silent cut. The size bound after
    decompression needs urllib3 2.6.3 or later (see requirements.txt).
requirements:
  - requests
  - xmltodict
"""
