"""Self-signed TLS for the emulator: a throw-away CA (``DIR/ca.pem``) and a server certificate
for 127.0.0.1, localhost and ::1, as on a default EM install (always self-signed on Linux EM).
Clients are expected to trust ``ca.pem`` (``verify=em.ca_file``), never to disable checks.
"""
import os
import ssl
import tempfile


def make_server_context(tls_dir=None):
    """Return (ssl_context, ca_pem_path). ``tls_dir`` is created if missing; default: a temp dir."""
    import trustme  # in requirements-dev.txt; only needed for HTTPS

    if not tls_dir:
        tls_dir = tempfile.mkdtemp(prefix="em-emulator-tls-")
    os.makedirs(tls_dir, exist_ok=True)
    ca = trustme.CA(organization_name="EM emulator test CA")
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1", common_name="localhost")
    ca_path = os.path.join(tls_dir, "ca.pem")
    tmp = ca_path + ".tmp"
    ca.cert_pem.write_to_path(tmp)
    os.replace(tmp, ca_path)
    cert.private_key_and_cert_chain_pem.write_to_path(os.path.join(tls_dir, "server.pem"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    cert.configure_cert(ctx)
    return ctx, ca_path
