# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Shared module base: connection options, AnsibleModule creation, error to ``fail_json``.

Modules stay thin: they declare their options (mostly derived from a resource table) and a
function that uses an ``EMClient``; this file does the rest the same way for all of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json
import os
import sys

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.parameters import remove_values

from ansible_collections.backupops.veeam_em.plugins.module_utils import (
    em_client, em_connection, em_decode, em_parse, em_query, em_secrets, em_values)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMError, EMValidationError
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_filter_expr import bare_guid

STREAM_BATCH = 500  # items encoded per write when the item list is streamed


def connection_argument_spec():
    """The options of doc fragment ``backupops.veeam_em.connection`` (declared on ConnectionOptions)."""
    return em_connection.ConnectionOptions.argument_spec()


# The option names, for callers that refuse unknown keys (the EDA event source).
CONNECTION_OPTIONS = tuple(em_connection.ConnectionOptions.ARGSPEC)


def wait_argument_spec():
    """``wait_timeout`` and ``wait_interval`` of the modules that poll EM tasks (doc fragment task_wait)."""
    return dict(wait_timeout=dict(type="int", default=300), wait_interval=dict(type="float", default=3))


def check_wait(params):
    """The values of ``wait_argument_spec``, before any request (as ``em_query.check_paging``)."""
    if params["wait_timeout"] < 0:
        raise EMValidationError("option wait_timeout: %r must be 0 or more" % params["wait_timeout"])
    if not em_values.finite_over(params["wait_interval"], 0):  # nan passed "<= 0"
        raise EMValidationError("option wait_interval: %r must be a number of seconds greater than 0"
                                % params["wait_interval"])


class EMModule(AnsibleModule):
    """AnsibleModule that masks a user name and password written into ``server`` from the first moment.

    ``server`` is no no_log option (its host name must show), and AnsibleModule validates every option as
    it is built, failing at the first bad one with all options echoed in ``invocation.module_args``; any
    later check of ours fails the same way. So the user info is put into ``no_log_values`` as soon as the
    options are read, before any check (attack, session 15: page_size 0 showed the password in clear).
    """

    def _load_params(self):
        super(EMModule, self)._load_params()
        # the environment's server too: AnsibleModule's fallback puts it into the echoed options
        for server in (self.params.get("server"), os.environ.get("VEEAM_EM_SERVER")):
            self.no_log_values.update(register_server_secrets(server))

    def warn(self, warning, *args, **kwargs):
        """Every warning through the one scrubber, whoever calls: ansible-core masks only the exact case."""
        super(EMModule, self).warn(em_secrets.scrub(warning), *args, **kwargs)

    def _return_formatted(self, kwargs):
        """ansible-core masks its ``no_log_values`` in the exact case only (remove_values): a password EM
        echoes upper-cased in a task message, a token a proxy lower-cased, reached the result and the -vvv
        traceback. The other cases of them found in this result are masked too (em_secrets.case_variants:
        what em_secrets.scrub masks, weak values in their own case only). ``_return_formatted`` is where
        exit_json and fail_json meet, after fail_json added the traceback (ansible-core 2.16 to 2.19)."""
        self.no_log_values.update(em_secrets.case_variants(self.no_log_values, _strings(kwargs)))
        return super(EMModule, self)._return_formatted(kwargs)


def _strings(value):
    """Every string in nested dicts, lists and tuples (keys too); a stack, not recursion (a deep result)."""
    stack = [value]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)


def register_server_secrets(server):
    """The user info of ``server`` (``user:password@host``, refused by em_connection) and its password
    part registered as secrets; returns their forms (empty when there is none)."""
    userinfo = em_connection.server_userinfo(None if server is None else str(server))
    if not userinfo:
        return set()
    return em_secrets.register(userinfo) | em_secrets.register(userinfo.partition(":")[2])


def create_module(argument_spec, **kwargs):
    """AnsibleModule with the connection options, check mode, and the library checks done."""
    spec = connection_argument_spec()
    spec.update(argument_spec)
    module = EMModule(argument_spec=spec, supports_check_mode=True, **kwargs)
    if not em_client.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=str(em_client.REQUESTS_IMPORT_ERROR))
    if not em_decode.HAS_XMLTODICT:
        module.fail_json(msg=missing_required_lib("xmltodict"), exception=str(em_decode.XMLTODICT_IMPORT_ERROR))
    return module


def connection_options(module, mask_results=True):
    """ConnectionOptions from the parameters, validated; warns when certificates are not checked.

    ``mask_results``: every secret the client registers also goes into ``module.no_log_values``, so
    ansible-core masks it anywhere in the result; only ``veeam_em_session`` (whose result IS the token)
    passes False, and relies on the scrubbed messages and the user's ``no_log``.
    """
    params = module.params
    em_secrets.register(params.get("password"))
    em_secrets.register_token(params.get("session_id"))
    register_server_secrets(params.get("server"))  # user:password@host: refused, masked (adapters: first here)
    # The inventory plugin and the event source pass an adapter with no result for Ansible to mask:
    # they rely on the scrubbed messages alone.
    no_log_values = getattr(module, "no_log_values", None)
    if mask_results and no_log_values is not None:
        em_secrets.attach(no_log_values)
    _prefer_task_credentials(module)
    options = em_connection.ConnectionOptions.from_params(params)
    base = em_connection.base_url(params["server"], params["port"])
    if base.startswith("http://") and params["allow_http"]:
        module.warn("allow_http is true and server is %s: the password (Basic authentication) and every EM "
                    "session token cross the network unencrypted and readable by anyone on the path or any "
                    "HTTP proxy; use https:// outside an isolated lab" % base)
    elif not params["validate_certs"] and not params.get("ca_path"):
        module.warn("validate_certs is false: the EM server certificate is not verified; "
                    "prefer ca_path with the CA that signed it")
    return options


def _task_args(module):
    """The task's own arguments, before environment fallbacks (None when they cannot be read).

    An adapter (the inventory plugin, the EDA source) says itself which options were written
    (``written_args``). Only a module process has task arguments to load: in the controller ansible's
    loader parses the controller's sys.argv with argparse (SystemExit, which ended ansible-inventory) or
    reads stdin (attack, session 15).
    """
    written = getattr(module, "written_args", None)
    if written is not None:
        return written
    if not isinstance(module, AnsibleModule):
        return None
    try:
        from ansible.module_utils.basic import _load_params
        args = _load_params()
    except Exception:  # pylint: disable=broad-except  # any failure: behave as if unknown
        return None
    return args if isinstance(args, dict) else None


def _prefer_task_credentials(module):
    """username/password written in the task beat a VEEAM_EM_SESSION_ID found in the environment.

    The ambient session belongs to whoever exported it; a task that names its account means that
    account. The environment's session id is then ignored (with a warning), not silently used.
    """
    params = module.params
    env_session = os.environ.get("VEEAM_EM_SESSION_ID")
    if not env_session or params.get("session_id") != env_session:
        return
    args = _task_args(module)
    if args is None or args.get("session_id"):
        return
    if args.get("username") or args.get("password") is not None:
        params["session_id"] = None
        module.warn("VEEAM_EM_SESSION_ID from the environment is ignored: the task gives username/password, "
                    "which take precedence (pass session_id in the task to reuse a session)")


def scrub(text, module=None, client=None):
    """``text`` without any secret the collection holds, in any form (em_secrets: the one scrubber).

    What the module's options and the client hold is registered here too, so that the result does
    not depend on whether a logon already registered it (the registry is per process).
    """
    if module is not None:
        params = module.params
        if params.get("username") and params.get("password") is not None:
            em_secrets.register_credentials(params["username"], params["password"])
        em_secrets.register(params.get("password"))
        em_secrets.register_token(params.get("session_id"))
    if client is not None:
        em_secrets.register_token(getattr(client, "token", None))
    return em_secrets.scrub(text)


def error_message(module, error, client=None):
    """The error's text without the password, any session id/token or the Basic header value."""
    return scrub(error, module, client)


def warn_client(module, client):
    """Pass the client's warnings (retries, logoff trouble) on to the module, scrubbed."""
    if client is not None:
        for warning in client.warnings:
            module.warn(scrub(warning, module, client))
        del client.warnings[:]  # each once, whichever path passes them on


def fail(module, error, client=None, **result):
    """One ``fail_json`` naming the request and EM's message; never the password or token.

    The one edge where an ``EMError`` becomes a module failure: the partial result an error
    carries (``em_errors.EMResultError.result``, e.g. the task a wait last saw) goes with it.
    """
    message = error_message(module, error, client)
    warn_client(module, client)
    details = {"status": getattr(error, "status", None), "request": getattr(error, "request", None)}
    carried = dict(getattr(error, "result", None) or {})
    carried.update(result)
    carried.pop("msg", None)  # the error's own (scrubbed) text is the message
    module.fail_json(msg=message, error=details, **carried)


def run(module, action, media_type="json"):
    """Open a client (logon or reuse), call ``action(client)`` -> result dict, always log off."""
    client = None
    try:
        options = connection_options(module)
        client = em_client.EMClient(options, media_type=media_type)
        with client:
            result = action(client)
        warn_client(module, client)
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
            # Without after_read nobody edits the items: keep them compact until they are written.
            items, info = client.query(resource, filter_expr, sort, params["sort_order"], params["page_size"],
                                       limit=params.get("limit"), concurrency=params["concurrency"],
                                       compact=after_read is None)
            query = info.as_dict()
        # An item without UID or creation time is returned (never dropped) and said (issue 13).
        warning = em_parse.incomplete_items_warning(items, resource)
        if warning:
            client.warnings.append(warning)
        result = {resource.return_key: items, "query": query}
        if after_read is not None:
            result.update(after_read(client, items, params))
        return result

    result = run(module, action, media_type=params["media_type"])
    exit_with_items(module, result, resource.return_key)


def exit_with_items(module, result, items_key, within=None, as_text=None):
    """``module.exit_json(changed=False, **result)``, with ``result[items_key]`` written item by item
    (``result[within][items_key]`` when ``within`` names the dict that holds the list).

    ``as_text`` (with ``within``): the dict ``result[within]`` is answered as one JSON text under the key
    ``as_text`` instead (veeam_em_compliance_info's ``result_format=json``), written the same way, item by
    item; ``json.loads`` of that text is the dict ``within`` would have been, key for key.

    Same output, same no_log guarantee, a fraction of the memory: exit_json deep-copies the
    whole result (remove_values) and then builds its JSON text as one string, copied twice more
    on the way to stdout; for 100,000 items that is several times the items themselves.
    Here exit_json runs as usual on the result with an empty list in place of the items (its
    output is captured: warnings, deprecations, invocation, no_log scrubbing all stay its own),
    and each item goes through ansible's own ``remove_values`` with the module's no_log values
    before it is encoded, so no value of a no_log option can appear in an item either.
    Falls back to plain exit_json whenever the capture is not possible or not understood.
    """
    holder = result.get(within) if within else result
    items = holder.get(items_key) if isinstance(holder, dict) else None
    if not items or not _exit_prints_to_stdout(module):
        _exit_plain(module, result, items_key, within, as_text)
    small = dict(result)
    if within:
        small[within] = dict(holder)
        small[within][items_key] = []
    else:
        small[items_key] = []
    stdout, captured, code = sys.stdout, io.StringIO(), 0
    sys.stdout = captured
    try:
        module.exit_json(changed=False, **small)
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.stdout = stdout
    text = captured.getvalue()
    captured = small = None
    document = _json_object(text)
    if code not in (0, None):  # exit_json itself failed (fail_json): pass its answer on
        stdout.write(text)
        stdout.flush()
        sys.exit(code)  # pylint: disable=ansible-bad-function  # exit_json's own answer, passed on
    path = (within, items_key) if within else (items_key,)
    if document is None or _at(document, path) != []:
        _exit_plain(module, result, items_key, within, as_text)
    stdout.write("\n")
    _write_object(stdout, document, path, items, module.no_log_values, as_text)
    stdout.write("\n")
    stdout.flush()
    sys.exit(0)  # pylint: disable=ansible-bad-function  # what exit_json does after printing


def _exit_plain(module, result, items_key, within, as_text=None):
    """exit_json of the whole result, the items as a list (they may be a sequence that is not one,
    em_rows.PackedRows: exit_json's JSON encoder takes lists); ``as_text``: ``result[within]`` as one
    JSON text under that key (exit_json's no_log masking works inside a text as in any string)."""
    module.exit_json(changed=False, **plain_result(result, items_key, within, as_text))


def plain_result(result, items_key, within=None, as_text=None):
    """``result`` as exit_json or fail_json take it: the items as a list, and with ``as_text`` the dict
    ``result[within]`` replaced by its JSON text under the key ``as_text``."""
    holder = result.get(within) if within else result
    if isinstance(holder, dict) and holder.get(items_key) is not None and not isinstance(holder[items_key], list):
        holder = dict(holder, **{items_key: list(holder[items_key])})
        result = dict(result, **{within: holder}) if within else holder
    if as_text and within and isinstance(result.get(within), dict):
        result = dict(result)
        result[as_text] = json.dumps(result.pop(within))
    return result


def _at(document, path):
    """The value at ``path`` (keys of nested dicts) of exit_json's document, or None."""
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _write_object(stream, document, path, items, no_log_values, as_text=None):
    """``document`` as a JSON object, the (empty) list at ``path`` replaced by ``items`` streamed; with
    ``as_text`` the object at ``path[0]`` is written as one JSON text (a string) under that key."""
    stream.write("{")
    for index, (key, value) in enumerate(document.items()):
        if key == path[0] and len(path) > 1 and as_text:
            stream.write("%s%s: \"" % (", " if index else "", json.dumps(as_text)))
            _write_object(_TextOf(stream), value, path[1:], items, no_log_values)
            stream.write("\"")
            continue
        stream.write("%s%s: " % (", " if index else "", json.dumps(key)))
        if key == path[0] and len(path) == 1:
            _write_items(stream, items, no_log_values)
        elif key == path[0]:
            _write_object(stream, value, path[1:], items, no_log_values)
        else:
            stream.write(json.dumps(value))
    stream.write("}")


class _TextOf(object):
    """A stream that writes what it is given as the inside of a JSON string (quotes and backslashes escaped):
    the JSON written through it arrives as one text. Pieces may be cut anywhere: JSON's escaping is per
    character."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        self.stream.write(json.dumps(text)[1:-1])


def _exit_prints_to_stdout(module):
    """exit_json prints its JSON (ansible-core <= 2.18 always; 2.19 unless the result hook is replaced)."""
    hook = getattr(type(module), "_record_module_result", None)
    return hook is None or getattr(hook, "__module__", None) == "ansible.module_utils.basic"


def _json_object(text):
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _write_items(stream, items, no_log_values):
    """``[item, ...]`` as JSON, in batches; a batch whose JSON text holds any no_log value (any
    registered secret form is one, em_secrets.attach) is encoded again item by item through
    ansible's own remove_values. One regex scan per batch instead of remove_values on every item:
    with every encoding of every secret registered, that is many str.replace calls per string."""
    encode = json.JSONEncoder().encode
    found = _any_of(no_log_values)
    stream.write("[")
    batch, first = [], True
    for item in items:
        batch.append(item)
        if len(batch) >= STREAM_BATCH:
            stream.write(("" if first else ", ") + _encode_batch(batch, encode, found, no_log_values))
            batch, first = [], False
    if batch:
        stream.write(("" if first else ", ") + _encode_batch(batch, encode, found, no_log_values))
    stream.write("]")


def _any_of(values):
    """A test for any of ``values`` in a text (case-insensitive, as em_secrets.scrub), or None.

    Substring tests, not one regex alternation: ``in`` is a C memory search (11 MB x 20 values in
    about 0.1 s), an alternation of 20 literals with IGNORECASE took 3 s on the same text."""
    lowered = sorted(set(str(value).lower() for value in values or () if value))
    if not lowered:
        return None

    def found(text):
        text = text.lower()
        return any(value in text for value in lowered)
    return found


def _encode_batch(batch, encode, found, no_log_values):
    text = ", ".join(encode(item) for item in batch)
    if found is None or not found(text):
        return text
    return ", ".join(encode(em_secrets.scrub_data(remove_values(item, no_log_values))) for item in batch)
