#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: veeam_em_session
short_description: Log on to or off from Veeam Backup Enterprise Manager, to reuse one session across tasks
version_added: 1.0.0
description:
  - O(state=present) logs on (C(POST /api/sessionMngr/?v=...)) and returns the session token as
    RV(session_id), to pass as O(session_id) to the other modules of this collection, which then neither log
    on nor off. A play can log on once, run many tasks, and log off.
  - O(state=absent) logs the O(session_id) off (C(DELETE /api/logonSessions/{SessionId})). A session that has
    already expired or been logged off is not an error (C(changed=false)).
  - Sessions expire after 15 minutes without requests; log off explicitly (for example in an C(always) section)
    to free them earlier.
  - Reusing a session is also required to see EM tasks, see M(backupops.veeam_em.veeam_em_task_info).
author:
  - backupops engineering (@backupops)
extends_documentation_fragment:
  - backupops.veeam_em.connection
options:
  state:
    description:
      - V(present) logs on and returns a new session; V(absent) logs off O(session_id).
    type: str
    default: present
    choices: [present, absent]
attributes:
  check_mode:
    support: full
    description:
      - With O(state=present) the module logs on in check mode too, because the read-only modules that
        follow in a check-mode play still need a session; a logon session changes nothing on the backup
        infrastructure. With O(state=absent) check mode only verifies that the session is alive and reports
        whether logging off would change anything.
  diff_mode:
    support: none
    description: Nothing to compare.
seealso:
  - module: backupops.veeam_em.veeam_em_task_info
"""

EXAMPLES = r"""
- name: Log on once for the whole play
  backupops.veeam_em.veeam_em_session:
    server: em.example.com
    username: 'EXAMPLE\svc-ansible'
    password: "{{ vault_em_password }}"
    ca_path: /etc/pki/em-ca.pem
  register: em

- name: Query with the session
  backupops.veeam_em.veeam_em_backup_task_session_info:
    server: em.example.com
    ca_path: /etc/pki/em-ca.pem
    session_id: "{{ em.session_id }}"
    created_after: 24h

- name: Log off
  backupops.veeam_em.veeam_em_session:
    server: em.example.com
    ca_path: /etc/pki/em-ca.pem
    session_id: "{{ em.session_id }}"
    state: absent
"""

RETURN = r"""
session_id:
  description:
    - The session token (C(X-RestSvcSessionId)) to pass as O(session_id) to later tasks. Treat it as a secret
      for 15 minutes; it is useless once logged off.
  returned: when O(state=present)
  type: str
  sample: MTVhM2ZjOTctMDMyNS00MTE5LWI3ODktNWMwMzY3YzZjNTY1
logon_session_id:
  description: EM's SessionId (a GUID) of the logon session.
  returned: when known
  type: str
  sample: 15a3fc97-0325-4119-b789-5c0367c6c565
api_version:
  description:
    - The API version requested at logon (O(api_version)); V(latest) means the newest version the server supports.
    - Not resolved with an extra request, so that a nightly run costs exactly one logon, its pages and one logoff.
  returned: when O(state=present)
  type: str
  sample: v1_7
user_name:
  description: The account as EM names it.
  returned: when known
  type: str
  sample: EXAMPLE\svc-ansible
"""

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_module, em_secrets
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_client import EMClient
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMAuthError, EMError, EMValidationError)


def log_on(module, options):
    """The result IS the token (and its SessionId): not masked in the result (the user's task needs
    ``no_log``, as documented); every message and warning is scrubbed, and the logon stays on the
    deadline and the SIGTERM handler until the token is handed over."""
    client = EMClient(options)
    try:
        with client.guarded():
            client.logon()
    except BaseException as error:  # Ctrl-C too: the token would be lost with the session open on EM
        if client.owns_session:  # stopped between logon and return
            client.close_session()
        if not isinstance(error, EMError):
            raise
        em_module.fail(module, error, client)
    finally:
        client.close()
    em_module.warn_client(module, client)
    return {"changed": True, "session_id": client.token, "logon_session_id": client.logon_session_id,
            "api_version": options.api_version, "user_name": em_secrets.scrub(client.user_name)}


def log_off(module, options):
    client = EMClient(options)
    try:
        with client.guarded():
            return _log_off(module, client)
    except EMError as error:
        em_module.fail(module, error, client)
    finally:
        client.close()


def _log_off(module, client):
    if module.check_mode:
        try:
            session_id, user_name = client.current_logon_session()
        except EMAuthError:
            return {"changed": False, "logon_session_id": None}
        return {"changed": True, "logon_session_id": session_id, "user_name": em_secrets.scrub(user_name)}
    closed, session_id = client.logoff_token()
    return {"changed": closed, "logon_session_id": session_id}


def main():
    module = em_module.create_module(
        dict(state=dict(type="str", default="present", choices=["present", "absent"])),
        required_if=[("state", "absent", ("session_id",))],
    )
    params = module.params
    try:
        if params["state"] == "present":
            params = dict(params, session_id=None)  # a given session_id is not reused to log on
            module.params["session_id"] = None
        # The token and SessionId are this module's result: do not let ansible-core mask them.
        options = em_module.connection_options(module, mask_results=False)
    except EMValidationError as error:
        em_module.fail(module, error)
        return
    if params["state"] == "present":
        module.exit_json(**log_on(module, options))
    module.exit_json(**log_off(module, options))


if __name__ == "__main__":
    main()
