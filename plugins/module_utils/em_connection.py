# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The connection options, declared once on the class that uses them.

``ConnectionOptions.ARGSPEC`` is the only place an option name, type, default or environment
variable is written (the shape of community.hashi_vault's ``_connection_options.py``): the module
argspec (``em_module.create_module``) and the constructor's defaults are derived from it, and
``ConnectionOptions.from_params`` holds every check of the values. The doc fragment
``plugins/doc_fragments/connection.py`` stays a static YAML string (ansible-doc reads it without
importing module_utils); tests/unit/plugins/module_utils/test_em_connection.py keeps the two equal.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.errors import AnsibleFallbackNotFound
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMValidationError
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_values import finite_over

API_VERSIONS = ["latest", "v1_7", "v1_6", "v1_5"]
DEFAULT_DEADLINE = 1800.0   # seconds for a whole module call (doc fragment connection: deadline)
# What an X-RestSvcSessionId value can be: printable ASCII, no spaces (EM sends base64).
TOKEN_RE = re.compile(r"^[\x21-\x7e]+$")
CONTROL_RE = re.compile(u"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _env(name):
    return (env_fallback, [name])


# Environment variables found set but empty (a cleared AWX credential field) while their option
# was not given: the option then takes its default, and from_params says so by name instead of
# AnsibleModule's raw "unable to convert to int" (port) or a silent default (server: "required").
EMPTY_ENVIRONMENT = set()


def _env_not_empty(name):
    value = os.environ.get(name)
    if value is not None and not value.strip():
        EMPTY_ENVIRONMENT.add(name)
        raise AnsibleFallbackNotFound
    return env_fallback(name)


def _env_checked(name):
    return (_env_not_empty, [name])


def strict_bool(name, value, variable=None):
    """``value`` read as AnsibleModule reads a bool option (strictly), else an error naming the option.

    ansible-core's plugin configuration reads any other text as false: an empty or mistyped
    VEEAM_EM_VALIDATE_CERTS turned certificate validation off in the inventory plugin (attack, session 15).
    """
    if isinstance(value, bool):
        return value
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise EMValidationError("option %s: %r%s is not a boolean (true/false, yes/no, on/off, 1/0)"
                                % (name, value, " (from the environment variable %s)" % variable if variable else ""))


def plugin_value(name, written, configured, environ=None):
    """One connection option of a plugin (the inventory) by the modules' rules, not by ansible-core's
    plugin configuration's (which takes '' and 'ture' for false).

    ``written``: the options of the plugin's own file; ``configured``: what get_option gave (the file,
    else the environment, else the default). A checked environment variable set but empty gives the
    default and is recorded for ``_check_environment``, as the modules' fallback does; a bool is read
    strictly from the text written or exported.
    """
    environ = os.environ if environ is None else environ
    spec = ConnectionOptions.ARGSPEC[name]
    fallback = spec.get("fallback")
    variable = fallback[1][0] if fallback else None
    if written.get(name) is not None:
        raw, variable = written[name], None
    elif variable is not None and variable in environ:
        raw = environ[variable]
    else:
        return configured
    if variable and fallback[0] is _env_not_empty and not str(raw).strip():
        EMPTY_ENVIRONMENT.add(variable)
        return spec.get("default")
    if spec.get("type") == "bool":
        return strict_bool(name, raw, variable)
    return configured


class ConnectionOptions:
    """The connection options of every module (see doc fragment ``backupops.veeam_em.connection``)."""

    ARGSPEC = dict(
        # not required=True: AnsibleModule's "missing required arguments: server" would not name
        # VEEAM_EM_SERVER; _check_server does (before any request)
        server=dict(type="str", fallback=_env_checked("VEEAM_EM_SERVER")),
        port=dict(type="int", default=9398, fallback=_env_checked("VEEAM_EM_PORT")),
        username=dict(type="str", fallback=_env("VEEAM_EM_USERNAME")),
        password=dict(type="str", no_log=True, fallback=_env("VEEAM_EM_PASSWORD")),
        validate_certs=dict(type="bool", default=True, fallback=_env_checked("VEEAM_EM_VALIDATE_CERTS")),
        ca_path=dict(type="path", fallback=_env("VEEAM_EM_CA_PATH")),
        timeout=dict(type="float", default=30),
        api_version=dict(type="str", default="latest", choices=API_VERSIONS),
        session_id=dict(type="str", no_log=True, fallback=_env("VEEAM_EM_SESSION_ID")),
        retries=dict(type="int", default=3),
        retry_backoff=dict(type="float", default=1.0),
        deadline=dict(type="float", default=DEFAULT_DEADLINE),
        allow_http=dict(type="bool", default=False, fallback=_env("VEEAM_EM_ALLOW_HTTP")),
    )

    def __init__(self, server, **options):
        unknown = sorted(set(options) - set(self.ARGSPEC))
        if unknown:
            raise TypeError("unknown connection options: %s" % ", ".join(unknown))
        self.server = server
        for name, spec in self.ARGSPEC.items():
            if name != "server":
                setattr(self, name, options.get(name, spec.get("default")))

    @classmethod
    def argument_spec(cls):
        """A fresh copy of ``ARGSPEC`` for an AnsibleModule (callers may update it)."""
        return dict((name, dict(spec)) for name, spec in cls.ARGSPEC.items())

    @classmethod
    def from_params(cls, params):
        """The options from module parameters, each value checked (``EMValidationError`` naming it)."""
        _check_environment(params)
        _check_server(params)
        _check_credentials(params)
        _check_numbers(params)
        _check_strings(params)
        return cls(**dict((name, params.get(name)) for name in cls.ARGSPEC))

    @property
    def verify(self):
        """What requests gets as ``verify=`` on every call: the CA file, else True/False."""
        return self.ca_path if self.ca_path else bool(self.validate_certs)


def _check_environment(params):
    for name, spec in sorted(ConnectionOptions.ARGSPEC.items()):
        variable = (spec.get("fallback") or (None, [None]))[1][0]
        if variable in EMPTY_ENVIRONMENT and params.get(name) == spec.get("default"):
            raise EMValidationError("option %s: the environment variable %s is set but empty (a cleared credential "
                                    "field?): set %s, or unset %s%s" % (
                                        name, variable, name, variable,
                                        "" if spec.get("default") is None else " for the default %r" % spec["default"]))


def server_userinfo(server):
    """What stands before '@' in the server option's host part (``user:password``), or None.

    Such a server is refused (_check_server); its user info is still registered as a secret first,
    so that the refusal, the result and Ansible's invocation echo of the options mask it."""
    if not server or "@" not in server:
        return None
    authority = server.strip().split("://", 1)[-1].split("/", 1)[0]
    return authority.rpartition("@")[0] or None


def _check_server(params):
    if not params.get("server") or not params["server"].strip():
        raise EMValidationError("option server: must not be empty: set it to the Enterprise Manager host name or "
                                "https://host[:9398], or set the environment variable VEEAM_EM_SERVER (the AWX "
                                "credential type of this collection does)")
    authority = params["server"].strip().split("://", 1)[-1].split("/", 1)[0]
    if "@" in authority:
        # Not echoed: the part before '@' is a password (or a user and a password). Left in, it went
        # into the URL, every error text, result.source.em_server and the reports.
        raise EMValidationError("option server: must not carry a user name or password (user:password@host; "
                                "value not shown): give the host or https://host[:9398] only, and the account "
                                "in username and password (VEEAM_EM_USERNAME / VEEAM_EM_PASSWORD)")
    _check_url(params["server"])


def _check_url(server):
    """What base_url pastes together must be read back as the same host and port by requests: '#', '?' and
    '\\' end the host part there (and a port of 0 is dropped), so the logon with the password went to port
    443 of the host, not to EM (attack, session 15)."""
    bad = sorted(set(char for char in server.strip() if char in "#?\\" or char.isspace() or CONTROL_RE.match(char)))
    if bad:
        raise EMValidationError("option server: %r contains %s, which would make requests read another URL: give "
                                "the host or https://host[:9398] only" % (server, " ".join(repr(char) for char in bad)))
    scheme, host, url_port = _split_server(server)
    if scheme not in ("https", "http"):
        raise EMValidationError("option server: %r has the scheme %r: use https://host[:9398] (or the host only)"
                                % (server, scheme))
    if not host.strip("[]"):
        raise EMValidationError("option server: %r names no host" % server)
    if url_port:
        _check_port("server", url_port, "%r has the port %r" % (server, url_port))


def _check_port(option, port, what=None):
    """A TCP port, 1-65535: 0 is dropped from the URL by requests (the request goes to 443), others fail late."""
    number = None
    if isinstance(port, int) and not isinstance(port, bool):
        number = port
    elif isinstance(port, str) and port.isdigit() and port.isascii():
        number = int(port)
    if number is None or not 1 <= number <= 65535:
        raise EMValidationError("option %s: %s must be a port number between 1 and 65535 (EM listens on 9398)"
                                % (option, what or repr(port)))


def _check_credentials(params):
    if not params.get("session_id") and (not params.get("username") or params.get("password") is None):
        raise EMValidationError("username and password are required unless session_id is given "
                                "(or set VEEAM_EM_USERNAME / VEEAM_EM_PASSWORD)")


def _check_numbers(params):
    _check_port("port", params.get("port"))
    # finite_number: nan passed "<= 0" and "< 0" (and reached the socket and time.sleep); inf waited for ever
    if not finite_over(params["timeout"], 0):
        raise EMValidationError("option timeout: %r must be a number of seconds greater than 0" % params["timeout"])
    if params["retries"] < 0:
        raise EMValidationError("option retries: %r must be 0 or more" % params["retries"])
    if not finite_over(params["retry_backoff"], 0, or_equal=True):
        raise EMValidationError("option retry_backoff: %r must be a number of seconds, 0 or more" % params["retry_backoff"])
    deadline = params["deadline"]
    if not finite_over(deadline, 0):
        raise EMValidationError("option deadline: %r must be a number of seconds greater than 0" % deadline)
    wait = params.get("wait_timeout")
    if wait is not None and deadline <= wait:
        raise EMValidationError("option deadline: %r must be greater than wait_timeout (%r): the deadline covers "
                                "the whole module call, waiting included" % (deadline, wait))


def _check_strings(params):
    _check_ca_path(params.get("ca_path"))
    # Refused before any request, and without echoing the value (it is a secret): a newline
    # here would otherwise reach requests' header check, whose error message quotes it.
    if params.get("session_id") and not TOKEN_RE.match(params["session_id"]):
        raise EMValidationError("option session_id: not a session token (it contains spaces, control or "
                                "non-ASCII characters); pass the session_id returned by veeam_em_session")
    username = params.get("username")
    if username and (":" in username or CONTROL_RE.search(username)):
        raise EMValidationError("option username: %r cannot be sent with HTTP Basic authentication "
                                "(no ':' and no control characters)" % username)


def _check_ca_path(path):
    """A CA file that is missing, unreadable or holds no PEM certificate is named here, before
    requests' own "Could not find a suitable TLS CA certificate bundle" or OpenSSL's "PEM lib"."""
    if not path:
        return
    where = "option ca_path: %r" % path
    if not os.path.exists(path):
        raise EMValidationError("%s does not exist (from ca_path or VEEAM_EM_CA_PATH: a PEM file with the CA that "
                                "signed EM's certificate)" % where)
    if os.path.isdir(path):
        return  # an OpenSSL hashed certificate directory (c_rehash), which requests accepts
    try:
        with open(path, "rb") as handle:
            text = handle.read(4 * 1024 * 1024)
    except (IOError, OSError) as exc:
        raise EMValidationError("%s cannot be read: %s" % (where, exc.strerror or exc))
    if b"-----BEGIN CERTIFICATE-----" not in text:
        raise EMValidationError("%s holds no PEM certificate (-----BEGIN CERTIFICATE-----); export EM's CA "
                                "certificate as Base-64 (PEM), not DER" % where)


def base_url(server, port):
    """``https://host:port`` from a host name or an ``http(s)://host[:port][/...]`` URL.

    A port written in the URL wins over the ``port`` option; a path (``/api``) is ignored.
    """
    scheme, host, url_port = _split_server(server)
    return "%s://%s:%s" % (scheme, host, url_port or port)


def _split_server(server):
    """``(scheme, host, port text or None)`` of the server option, as base_url reads it."""
    text = server.strip().rstrip("/")
    scheme = "https"
    if "://" in text:
        scheme, text = text.split("://", 1)
        scheme = scheme.lower()
    host_port = text.split("/", 1)[0]
    host, url_port = host_port, None
    if host_port.startswith("["):  # [::1]:9398
        host, _sep, rest = host_port[1:].partition("]")
        url_port = rest[1:] if rest.startswith(":") else None
        host = "[%s]" % host
    elif host_port.count(":") == 1:
        host, url_port = host_port.split(":")
    elif host_port.count(":") > 1:  # bare IPv6 address
        host = "[%s]" % host_port
    return scheme, host, url_port


def check_transport(base, options):
    """Plain HTTP only when asked for by name (``from_params`` checks ca_path)."""
    if base.startswith("http://") and not options.allow_http:
        raise EMValidationError(
            "option server: %s is plain http://: the password and every session token would cross the network "
            "unencrypted (and reach any HTTP proxy); use https:// (EM listens on HTTPS 9398) or set allow_http: true"
            % base)
