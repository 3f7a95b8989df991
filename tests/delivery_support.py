"""The receiving ends of the compliance deliveries (issue 17), shared by the single-EM and the fleet tests:
an aiosmtpd server with SMTP AUTH and an http.server webhook, both on 127.0.0.1, keeping what arrives."""
import email
import email.policy
import json
import os
import sys
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from collection_layout import ansible_env

SMTP_PASSWORD = "Smtp-S3cret-7f3a9c"   # must never show in the output
TOKEN = "T0k3n-b9e41d7c"               # the webhook URL's secret part
IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """aiosmtpd on 127.0.0.1 with AUTH (LOGIN/PLAIN) allowed without TLS, keeping every message."""

    def __init__(self):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.messages, self.logins = [], []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
                sink.messages.append({"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                                      "message": email.message_from_bytes(envelope.original_content,
                                                                          policy=email.policy.default)})
                return "250 Message accepted for delivery"

        def authenticator(server, session, envelope, mechanism, auth_data):
            sink.logins.append((auth_data.login.decode(), auth_data.password.decode()))
            return AuthResult(success=auth_data.password.decode() == SMTP_PASSWORD)

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, authenticator=authenticator,
                                     auth_require_tls=False)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


class WebhookSink:
    """http.server on 127.0.0.1 in a thread, keeping every request's path, headers and JSON body."""

    def __init__(self, status=200):
        self.requests = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's hook name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sink.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/workflows/hook?api-version=1&sig=%s" % (self.server.server_port, TOKEN)

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def require(what, present):
    if not present:
        if IN_CI:
            pytest.fail("CI must provide %s (requirements-dev.txt); this test must not be skipped there" % what)
        pytest.skip("%s is not installed (requirements-dev.txt); in CI (CI=true) this fails" % what)


def community_general_installed():
    """Where ansible-playbook looks: ANSIBLE_COLLECTIONS_PATH and every sys.path entry (site-packages
    of the `ansible` package)."""
    roots = ansible_env()["ANSIBLE_COLLECTIONS_PATH"].split(os.pathsep) + sys.path
    roots += os.environ.get("PYTHONPATH", "").split(os.pathsep)
    return any(os.path.isfile(os.path.join(root, "ansible_collections", "community", "general", "plugins",
                                           "modules", "mail.py")) for root in roots if root)
