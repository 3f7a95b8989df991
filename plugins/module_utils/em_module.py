# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared module base: connection options, AnsibleModule creation, error to ``fail_json``.

Modules stay thin: they declare their options (mostly derived from a resource table) and a
function that uses an ``EMClient``; this file does the rest the same way for all of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_client, em_parse, em_query
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMError, EMValidationError
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_filter import bare_guid

API_VERSIONS = ["latest", "v1_7", "v1_6", "v1_5"]
# What an X-RestSvcSessionId value can be: printable ASCII, no spaces (EM sends base64).
TOKEN_RE = re.compile(r"^[\x21-\x7e]+$")
CONTROL_RE = re.compile(u"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def connection_argument_spec():
    """The options of doc fragment ``backupops.veeam_em.connection``, with env fallbacks."""
    return dict(
        server=dict(type="str", required=True, fallback=(env_fallback, ["VEEAM_EM_SERVER"])),
        port=dict(type="int", default=9398, fallback=(env_fallback, ["VEEAM_EM_PORT"])),
        username=dict(type="str", fallback=(env_fallback, ["VEEAM_EM_USERNAME"])),
        password=dict(type="str", no_log=True, fallback=(env_fallback, ["VEEAM_EM_PASSWORD"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["VEEAM_EM_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["VEEAM_EM_CA_PATH"])),
        timeout=dict(type="float", default=30),
        api_version=dict(type="str", default="latest", choices=API_VERSIONS),
        session_id=dict(type="str", no_log=True, fallback=(env_fallback, ["VEEAM_EM_SESSION_ID"])),
        retries=dict(type="int", default=3),
        retry_backoff=dict(type="float", default=1.0),
    )


CONNECTION_OPTIONS = tuple(connection_argument_spec())


def create_module(argument_spec, **kwargs):
    """AnsibleModule with the connection options, check mode, and the library checks done."""
    spec = connection_argument_spec()
    spec.update(argument_spec)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, **kwargs)
    if not em_client.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=str(em_client.REQUESTS_IMPORT_ERROR))
    if not em_parse.HAS_XMLTODICT:
        module.fail_json(msg=missing_required_lib("xmltodict"), exception=str(em_parse.XMLTODICT_IMPORT_ERROR))
    return module


def connection_options(module):
    """ConnectionOptions from the parameters, validated; warns when certificates are not checked."""
    params = module.params
    if not params.get("session_id") and (not params.get("username") or params.get("password") is None):
        raise EMValidationError("username and password are required unless session_id is given "
                                "(or set VEEAM_EM_USERNAME / VEEAM_EM_PASSWORD)")
    if params["timeout"] <= 0:
        raise EMValidationError("option timeout: %r must be greater than 0" % params["timeout"])
    if params["retries"] < 0:
        raise EMValidationError("option retries: %r must be 0 or more" % params["retries"])
    if params["retry_backoff"] < 0:
        raise EMValidationError("option retry_backoff: %r must be 0 or more" % params["retry_backoff"])
    # Refused before any request, and without echoing the value (it is a secret): a newline
    # here would otherwise reach requests' header check, whose error message quotes it.
    if params.get("session_id") and not TOKEN_RE.match(params["session_id"]):
        raise EMValidationError("option session_id: not a session token (it contains spaces, control or "
                                "non-ASCII characters); pass the session_id returned by veeam_em_session")
    username = params.get("username")
    if username and (":" in username or CONTROL_RE.search(username)):
        raise EMValidationError("option username: %r cannot be sent with HTTP Basic authentication "
                                "(no ':' and no control characters)" % username)
    if not params["server"] or not params["server"].strip():
        raise EMValidationError("option server: must not be empty")
    if not params["validate_certs"] and not params.get("ca_path"):
        module.warn("validate_certs is false: the EM server certificate is not verified; "
                    "prefer ca_path with the CA that signed it")
    return em_client.ConnectionOptions(
        server=params["server"], port=params["port"], username=params.get("username"),
        password=params.get("password"), validate_certs=params["validate_certs"], ca_path=params.get("ca_path"),
        timeout=params["timeout"], api_version=params["api_version"], session_id=params.get("session_id"),
        retries=params["retries"], retry_backoff=params["retry_backoff"])


def scrub(text, module):
    """Remove the password and token from any text we return (belt and braces: no_log too)."""
    text = str(text)
    for secret in (module.params.get("password"), module.params.get("session_id")):
        if secret and len(str(secret)) >= 3:
            text = text.replace(str(secret), "********")
    return text


def fail(module, error, client=None, **result):
    """One ``fail_json`` naming the request and EM's message; never the password or token."""
    message = scrub(error, module)
    if client is not None:
        if client.token:
            message = message.replace(client.token, "********")
        for warning in client.warnings:
            module.warn(scrub(warning, module))
    details = {"status": getattr(error, "status", None), "request": getattr(error, "request", None)}
    module.fail_json(msg=message, error=details, **result)


def run(module, action, media_type="json"):
    """Open a client (logon or reuse), call ``action(client)`` -> result dict, always log off."""
    client = None
    try:
        options = connection_options(module)
        client = em_client.EMClient(options, media_type=media_type)
        with client:
            result = action(client)
        for warning in client.warnings:
            module.warn(scrub(warning, module))
        return result
    except EMError as error:
        fail(module, error, client)


def run_resource_info_module(resource, extra_options=None, after_read=None):
    """The whole of a query-based info module: options from the table, query, exit.

    ``extra_options`` adds module-specific options; ``after_read(client, items, params)`` may
    enrich the items read and returns extra result keys (the job-session modules use both to
    attach task sessions).
    """
    spec = em_query.query_argument_spec(resource)
    spec["id"] = dict(type="str")
    spec.update(extra_options or {})
    spec["fields"] = em_query.fields_argument_spec(resource)
    exclusive = [("id", option) for option in em_query.filter_argument_spec(resource)] + [("id", "filter")]
    module = create_module(spec, mutually_exclusive=exclusive)
    params = module.params
    try:
        em_query.check_paging(params)
        resource = em_query.projected_resource(resource, params)
        guid = bare_guid(params["id"], resource.item_tag, "id") if params.get("id") else None
        filter_expr = None if guid else em_query.build_filter(resource, params)
        sort = em_query.sort_field(resource, params["sort_by"])
    except EMError as error:
        fail(module, error)
        return

    def action(client):
        if guid:
            before = client.requests_sent
            items = client.get_entity(resource, guid)
            query = {"type": resource.query_type, "filter": None, "sort": None, "page_size": None,
                     "pages": 0, "requests": client.requests_sent - before, "id": guid}
        else:
            items, info = client.query(resource, filter_expr, sort, params["sort_order"], params["page_size"],
                                       limit=params.get("limit"), concurrency=params["concurrency"])
            query = info.as_dict()
        result = {resource.return_key: items, "query": query}
        if after_read is not None:
            result.update(after_read(client, items, params))
        return result

    result = run(module, action, media_type=params["media_type"])
    module.exit_json(changed=False, **result)
