"""Hints that name the real cause (issue 17), each against the situation that used to mislead.

* HTTPS to a plain-HTTP server used to say "set ca_path": a real plain HTTP server on loopback.
* A web server that is not EM (501 / 404 / 405 at logon) said nothing about EM: the same server over
  http://, and the fake transport for 404/405.
* A 401 at logon mentioned a session_id nobody used and named neither user nor URL.
* A missing server did not name VEEAM_EM_SERVER; VEEAM_EM_PORT="" (a cleared AWX field) gave a raw
  int-conversion error: the module's own argument spec, fallbacks included, through ansible-core's
  ArgumentSpecValidator (what AnsibleModule runs).
* A missing or non-PEM CA file gave requests' or OpenSSL's raw text.
"""
import http.server
import threading

import pytest
import requests
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_connection
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_client import ConnectionOptions, EMClient
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMAuthError, EMHTTPError, EMNotFoundError, EMServerError, EMTransportError, EMValidationError)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import BACKUP_TASK_SESSION
from unit.plugins.module_utils.em_fake import FakeEM, Reply, error_body, mount

PASSWORD = "Hint-Pa55!"
NOT_EM = "is this Veeam Backup Enterprise Manager (port 9398)? the VBR REST API on 9419 is a different API"


class _Quiet(http.server.BaseHTTPRequestHandler):
    """A web server that is not EM: Python's own, which knows no POST (501) and no TLS."""

    def log_message(self, *args):
        pass


@pytest.fixture
def plain_http_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def client_for(server, fake=None, **options):
    settings = dict(server=server, username="CORP\\svc-report", password=PASSWORD, retries=0, timeout=5)
    settings.update(options)
    client = EMClient(ConnectionOptions(**settings), media_type="json", sleep=lambda seconds: None)
    if fake is not None:
        mount(client, fake)
    return client


def query(client):
    with client:
        return client.query(BACKUP_TASK_SESSION, filter_expr=None, sort_field="CreationTime", sort_order="desc",
                            page_size=100)


# ---- TLS to a plain HTTP server ------------------------------------------------------------------

def test_https_to_a_plain_http_server_says_so_not_ca_path(plain_http_server):
    with pytest.raises(EMTransportError) as error:
        query(client_for("https://127.0.0.1:%d" % plain_http_server))
    text = str(error.value)
    assert ("the server answered plain HTTP / TLS handshake failed: is it http://127.0.0.1:%d?"
            % plain_http_server) in text, text
    assert "ca_path" not in text and "validate_certs" not in text


def test_a_failed_certificate_check_still_points_at_ca_path():
    fake = FakeEM("json", logon=lambda call: Reply(exc=requests.exceptions.SSLError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain")))
    with pytest.raises(EMTransportError) as error:
        query(client_for("em.example.com", fake))
    assert "set ca_path to the CA bundle" in str(error.value) and "plain HTTP" not in str(error.value)


def test_a_certificate_for_another_name_says_which_name_not_ca_path():
    fake = FakeEM("json", logon=lambda call: Reply(exc=requests.exceptions.SSLError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid "
        "for 'em.example.com'. (_ssl.c:1006)")))
    with pytest.raises(EMTransportError) as error:
        query(client_for("em.example.com", fake))
    text = str(error.value)
    assert "EM's certificate is not issued for em.example.com" in text and "set ca_path" not in text


# ---- a server that is not EM ---------------------------------------------------------------------

def test_a_web_server_that_is_not_em_501_asks_whether_it_is_em(plain_http_server):
    with pytest.raises(EMServerError) as error:
        query(client_for("http://127.0.0.1:%d" % plain_http_server, allow_http=True))
    text = str(error.value)
    assert "HTTP 501" in text and NOT_EM in text, text


@pytest.mark.parametrize("status, error_class", [(404, EMNotFoundError), (405, EMHTTPError)])
def test_no_logon_endpoint_asks_whether_it_is_em(status, error_class):
    fake = FakeEM("json", logon=lambda call: Reply(status, b"<html>Not here</html>"))
    with pytest.raises(error_class) as error:
        query(client_for("web.example.com", fake))
    assert NOT_EM in str(error.value)


def test_the_vbr_rest_api_port_is_named_before_the_general_question():
    fake = FakeEM("json", logon=lambda call: Reply(404, b""))
    with pytest.raises(EMNotFoundError) as error:
        query(client_for("vbr.example.com", fake, port=9419))
    assert "9419 is the VBR REST API; EM is 9398" in str(error.value)


def test_a_404_for_one_object_after_logon_does_not_ask_whether_it_is_em():
    fake = FakeEM("json", handler=lambda call: Reply(404, error_body("json", 404, "Not found")))
    with pytest.raises(EMNotFoundError) as error:
        query(client_for("em.example.com", fake))
    assert "Enterprise Manager" not in str(error.value)


# ---- 401 at logon --------------------------------------------------------------------------------

def test_a_401_at_logon_names_user_and_url_and_no_session_id():
    fake = FakeEM("json", logon=lambda call: Reply(401, error_body("json", 401, "Unauthorized"),
                                                   {"WWW-Authenticate": "Basic Realm=RestSvc"}))
    with pytest.raises(EMAuthError) as error:
        query(client_for("em.example.com", fake))
    text = str(error.value)
    assert "EM refused user 'CORP\\\\svc-report' at https://em.example.com:9398/api/sessionMngr/" in text, text
    assert "check username and password" in text
    assert "session_id" not in text and PASSWORD not in text


def test_a_401_with_a_given_session_id_names_the_session_id():
    fake = FakeEM("json", handler=lambda call: Reply(401, error_body("json", 401, "Unauthorized")))
    with pytest.raises(EMAuthError) as error:
        query(client_for("em.example.com", fake, session_id="aGludC10ZXN0LXRva2VuLTQ3MTE=", username=None, password=None))
    assert "the session_id is no longer valid" in str(error.value)


# ---- options from the environment (the module's argument spec, fallbacks included) ---------------

def validated(monkeypatch, environment, **parameters):
    """What AnsibleModule does with the connection argspec, then ConnectionOptions.from_params."""
    for name in list(em_connection.os.environ):
        if name.startswith("VEEAM_EM_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(em_connection, "EMPTY_ENVIRONMENT", set(), raising=False)
    result = ArgumentSpecValidator(ConnectionOptions.argument_spec()).validate(parameters)
    assert result.error_messages == []
    return ConnectionOptions.from_params(result.validated_parameters)


CREDENTIALS = {"VEEAM_EM_USERNAME": "CORP\\svc", "VEEAM_EM_PASSWORD": PASSWORD}


def test_a_missing_server_names_veeam_em_server(monkeypatch):
    with pytest.raises(EMValidationError) as error:
        validated(monkeypatch, CREDENTIALS)
    assert "option server" in str(error.value) and "VEEAM_EM_SERVER" in str(error.value)


def test_server_from_veeam_em_server_is_used(monkeypatch):
    assert validated(monkeypatch, dict(CREDENTIALS, VEEAM_EM_SERVER="em01.example.com")).server == "em01.example.com"


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_veeam_em_port_is_named_not_an_int_conversion_error(monkeypatch, value):
    with pytest.raises(EMValidationError) as error:
        validated(monkeypatch, dict(CREDENTIALS, VEEAM_EM_SERVER="em01.example.com", VEEAM_EM_PORT=value))
    text = str(error.value)
    assert "option port: the environment variable VEEAM_EM_PORT is set but empty" in text, text
    assert "for the default 9398" in text


def test_an_empty_veeam_em_port_does_not_matter_when_port_is_given(monkeypatch):
    options = validated(monkeypatch, dict(CREDENTIALS, VEEAM_EM_SERVER="em01.example.com", VEEAM_EM_PORT=""),
                        port=443)
    assert options.port == 443


def test_an_empty_veeam_em_server_names_it(monkeypatch):
    with pytest.raises(EMValidationError) as error:
        validated(monkeypatch, dict(CREDENTIALS, VEEAM_EM_SERVER=""))
    assert "VEEAM_EM_SERVER" in str(error.value)


def test_an_empty_veeam_em_validate_certs_is_named(monkeypatch):
    with pytest.raises(EMValidationError) as error:
        validated(monkeypatch, dict(CREDENTIALS, VEEAM_EM_SERVER="em01", VEEAM_EM_VALIDATE_CERTS=""))
    assert "option validate_certs: the environment variable VEEAM_EM_VALIDATE_CERTS is set but empty" in str(error.value)


def test_a_set_veeam_em_port_is_used(monkeypatch):
    assert validated(monkeypatch, dict(CREDENTIALS, VEEAM_EM_SERVER="em01", VEEAM_EM_PORT="9399")).port == 9399


# ---- the CA file ---------------------------------------------------------------------------------

def test_a_missing_ca_file_is_named_before_any_request(monkeypatch, tmp_path):
    missing = str(tmp_path / "em-ca.pem")
    with pytest.raises(EMValidationError) as error:
        validated(monkeypatch, dict(CREDENTIALS, VEEAM_EM_SERVER="em01", VEEAM_EM_CA_PATH=missing))
    text = str(error.value)
    assert "option ca_path: %r does not exist" % missing in text and "VEEAM_EM_CA_PATH" in text
    assert "Could not find a suitable TLS CA certificate bundle" not in text


def test_a_ca_file_without_a_pem_certificate_is_named(monkeypatch, tmp_path):
    der = tmp_path / "em-ca.cer"
    der.write_bytes(b"\x30\x82\x03\x1d\x30\x82\x02\x05\xa0\x03\x02\x01\x02")  # the start of a DER certificate
    with pytest.raises(EMValidationError) as error:
        validated(monkeypatch, dict(CREDENTIALS, VEEAM_EM_SERVER="em01", VEEAM_EM_CA_PATH=str(der)))
    assert "option ca_path: %r holds no PEM certificate" % str(der) in str(error.value)


def test_a_pem_ca_file_and_a_certificate_directory_are_accepted(monkeypatch, tmp_path):
    pem = tmp_path / "ca.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", encoding="ascii")
    assert validated(monkeypatch, dict(CREDENTIALS, VEEAM_EM_SERVER="em01", VEEAM_EM_CA_PATH=str(pem))).ca_path \
        == str(pem)
    assert validated(monkeypatch, dict(CREDENTIALS, VEEAM_EM_SERVER="em01"), ca_path=str(tmp_path)).ca_path \
        == str(tmp_path)
