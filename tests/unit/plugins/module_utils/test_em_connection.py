"""The connection options: declared once (ConnectionOptions.ARGSPEC), documented once (the doc fragment).

The fragment stays a static YAML string because ansible-doc reads it without importing module_utils;
these tests keep the two equal, option by option.
"""
import re

import pytest
import yaml

from ansible_collections.backupops.veeam_em.plugins.doc_fragments import connection
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_module
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_connection import ConnectionOptions
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMValidationError

DOCUMENTED = yaml.safe_load(connection.ModuleDocFragment.DOCUMENTATION)["options"]
ENV_RE = re.compile(r"E\((VEEAM_EM_[A-Z_]+)\)")


def env_vars(spec):
    fallback = spec.get("fallback")
    return fallback[1] if fallback else []


def test_the_fragment_documents_exactly_the_declared_options():
    assert sorted(DOCUMENTED) == sorted(ConnectionOptions.ARGSPEC)


@pytest.mark.parametrize("name", sorted(ConnectionOptions.ARGSPEC))
def test_fragment_and_declaration_agree(name):
    spec, doc = ConnectionOptions.ARGSPEC[name], DOCUMENTED[name]
    assert doc["type"] == spec["type"]
    assert doc.get("default") == spec.get("default")
    assert doc.get("choices") == spec.get("choices")
    assert bool(doc.get("required")) == bool(spec.get("required"))
    # Each environment fallback is named in the description, and only those.
    assert sorted(set(ENV_RE.findall(" ".join(doc["description"])))) == sorted(env_vars(spec))


def test_secrets_are_no_log():
    assert [name for name, spec in ConnectionOptions.ARGSPEC.items() if spec.get("no_log")] == [
        "password", "session_id"]


def test_the_module_argspec_is_the_declaration_and_a_copy():
    spec = em_module.connection_argument_spec()
    assert spec == ConnectionOptions.ARGSPEC
    spec["port"]["default"] = 1
    assert ConnectionOptions.ARGSPEC["port"]["default"] == 9398


def test_constructor_defaults_come_from_the_declaration():
    options = ConnectionOptions(server="em")
    for name, spec in ConnectionOptions.ARGSPEC.items():
        if name != "server":
            assert getattr(options, name) == spec.get("default"), name
    assert options.verify is True


def test_unknown_option_is_refused():
    with pytest.raises(TypeError, match="unknown connection options: prot"):
        ConnectionOptions(server="em", prot=1)


def params(**overrides):
    values = dict((name, spec.get("default")) for name, spec in ConnectionOptions.ARGSPEC.items())
    values.update(server="em.example.com", username="EM\\svc", password="pw")
    values.update(overrides)
    return values


def test_from_params_builds_every_option():
    options = ConnectionOptions.from_params(params(port=9399, retries=0, ca_path=None))
    assert (options.server, options.port, options.username, options.retries) == ("em.example.com", 9399, "EM\\svc", 0)


@pytest.mark.parametrize("overrides, message", [
    ({"username": None}, "username and password are required unless session_id is given"),
    ({"timeout": 0}, "option timeout: 0 must be a number of seconds greater than 0"),
    # nan passed "<= 0" (socket.settimeout then raised); inf waited for ever
    ({"timeout": float("nan")}, "option timeout: nan must be a number of seconds greater than 0"),
    ({"timeout": float("inf")}, "option timeout: inf must be a number of seconds greater than 0"),
    ({"retries": -1}, "option retries: -1 must be 0 or more"),
    ({"retry_backoff": -0.5}, "option retry_backoff: -0.5 must be a number of seconds, 0 or more"),
    ({"retry_backoff": float("nan")}, "option retry_backoff: nan must be a number of seconds, 0 or more"),
    ({"retry_backoff": float("inf")}, "option retry_backoff: inf must be a number of seconds, 0 or more"),
    ({"deadline": float("inf")}, "option deadline: inf must be a number of seconds greater than 0"),
    ({"deadline": 60.0, "wait_timeout": 60}, "option deadline: 60.0 must be greater than wait_timeout (60)"),
    ({"ca_path": "/nonexistent/ca.pem"}, "option ca_path: '/nonexistent/ca.pem' does not exist"),
    ({"session_id": "a b"}, "option session_id: not a session token"),
    ({"username": "a:b"}, "option username: 'a:b' cannot be sent with HTTP Basic authentication"),
    ({"server": "  "}, "option server: must not be empty"),
])
def test_from_params_names_the_bad_option(overrides, message):
    with pytest.raises(EMValidationError) as raised:
        ConnectionOptions.from_params(params(**overrides))
    assert message in str(raised.value)


def test_a_bad_session_id_is_not_echoed():
    with pytest.raises(EMValidationError) as raised:
        ConnectionOptions.from_params(params(session_id="secret\ntoken"))
    assert "secret" not in str(raised.value)


@pytest.mark.parametrize("server", ["https://emadmin:Url5ecretPw@em.example.com:9398",
                                    "emadmin:Url5ecretPw@em.example.com", "https://Url5ecretPw@em.example.com/api"])
def test_a_server_with_credentials_in_it_is_refused_without_echoing_them(server):
    """user:password@host in server went into the URL (mangled as an IPv6 address), into every error text,
    result.source.em_server and the reports: the password in the open. Refused before any request."""
    with pytest.raises(EMValidationError) as raised:
        ConnectionOptions.from_params(params(server=server))
    assert "option server: must not carry a user name or password" in str(raised.value)
    assert "Url5ecretPw" not in str(raised.value)
