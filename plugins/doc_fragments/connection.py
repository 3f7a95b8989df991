# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Connection options shared by every module (argspec: em_module.connection_argument_spec)."""

    DOCUMENTATION = r"""
options:
  server:
    description:
      - Veeam Backup Enterprise Manager (EM) host name or IP address, or a URL C(https://host[:port]).
      - A port written in the URL wins over O(port). This is the EM REST API, not the VBR REST API on port 9419.
      - If not set, the environment variable E(VEEAM_EM_SERVER) is used.
    type: str
    required: true
  port:
    description:
      - HTTPS port of the EM REST API.
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
      - If not set, the environment variable E(VEEAM_EM_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate(s) to trust for EM's certificate. Used on every request, so
        E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE) cannot override it.
      - If not set, the environment variable E(VEEAM_EM_CA_PATH) is used.
    type: path
  timeout:
    description:
      - Seconds to wait for EM to answer one request.
    type: float
    default: 30
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
      - If not set, the environment variable E(VEEAM_EM_SESSION_ID) is used.
    type: str
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
  - Without O(session_id) the module logs on, and logs off when it is done, also when it fails.
requirements:
  - requests
  - xmltodict
"""
