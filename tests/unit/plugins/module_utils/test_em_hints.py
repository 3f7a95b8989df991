"""em_hints directly (test_hints drives the same functions through the client and the modules)."""
import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_hints
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_connection import ConnectionOptions
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMAuthError, EMHTTPError, EMNotFoundError)

BASE = "https://em.example.com:9398"


class Answer:
    def __init__(self, status, content=b"", reason=""):
        self.status_code = status
        self.content = content
        self.reason = reason


def options(**kwargs):
    settings = dict(server="em.example.com", username="EM\\svc", password="pw")
    settings.update(kwargs)
    return ConnectionOptions(**settings)


def test_port_hint_only_for_the_vbr_rest_port():
    assert em_hints.port_hint("https://vbr:9419") == "9419 is the VBR REST API; EM is 9398"
    assert em_hints.port_hint(BASE) is None


@pytest.mark.parametrize("text, words", [
    ("[SSL: WRONG_VERSION_NUMBER] wrong version number", "plain HTTP"),
    ("[SSL] record layer failure", "plain HTTP"),
    ("certificate verify failed: self-signed certificate", "set ca_path"),
    ("certificate verify failed: Hostname mismatch, certificate is not valid for 'x'", "not issued for em.example.com"),
    ("[X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate or crl found", "ca_path /etc/ca.pem holds no usable PEM"),
    ("handshake failure", "the TLS handshake with em.example.com:9398 failed"),
])
def test_tls_hint_names_the_cause(text, words):
    assert words in em_hints.tls_hint(text, BASE, "/etc/ca.pem")


def test_refused_logon_names_user_and_url_never_the_password():
    error = em_hints.http_error(Answer(401, reason="Unauthorized"), "POST /api/sessionMngr/?v=latest (logon)",
                                BASE, options(), owns_session=True)
    assert isinstance(error, EMAuthError) and error.status == 401
    assert "EM refused user 'EM\\\\svc' at https://em.example.com:9398/api/sessionMngr/" in error.hint
    assert "pw" not in str(error)


def test_401_on_a_borrowed_session_says_the_session_id_expired():
    error = em_hints.http_error(Answer(401), "GET /api/query (type=Job)", BASE, options(session_id="tok"),
                                owns_session=False)
    assert error.hint == "the session_id is no longer valid (logged off, or expired after 15 minutes idle)"


def test_not_em_servers_and_em_messages():
    logon_404 = em_hints.http_error(Answer(404), "POST /api/sessionMngr/?v=latest (logon)", BASE, options(), True)
    assert isinstance(logon_404, EMNotFoundError) and logon_404.hint == em_hints.NOT_EM_HINT
    body = b'{"Message": "Invalid filter", "StatusCode": 400, "StackTrace": "at X.Y()"}'
    bad = em_hints.http_error(Answer(400, body, "Bad Request"), "GET /api/query", BASE, options(), True)
    assert bad.em_message == "Invalid filter" and "X.Y" not in str(bad) and bad.hint is None
    assert em_hints.http_error(Answer(418), "GET /api/x", BASE, options(), True).__class__ is EMHTTPError
