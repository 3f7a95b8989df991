"""Self-signed TLS for the emulator: a throw-away CA (``DIR/ca.pem``) and a server certificate
for 127.0.0.1, localhost and ::1, as on a default EM install (always self-signed on Linux EM).
Clients are expected to trust ``ca.pem`` (``verify=em.ca_file``), never to disable checks.

``trustme`` is used when installed (requirements-dev.txt); otherwise the same CA + leaf pair is
minted with ``cryptography`` directly, and as a last resort with the ``openssl`` command, so
``python3 tests/emulator`` also works with a bare system Python.
"""
import datetime
import ipaddress
import os
import ssl
import subprocess
import tempfile

HOSTS = ("127.0.0.1", "localhost", "::1")


def _with_trustme(tls_dir):
    import trustme

    ca = trustme.CA(organization_name="EM emulator test CA")
    cert = ca.issue_cert(*HOSTS, common_name="localhost")
    ca_path = os.path.join(tls_dir, "ca.pem")
    ca.cert_pem.write_to_path(ca_path + ".tmp")
    os.replace(ca_path + ".tmp", ca_path)
    server_pem = os.path.join(tls_dir, "server.pem")
    cert.private_key_and_cert_chain_pem.write_to_path(server_pem)
    return ca_path, server_pem


def _with_cryptography(tls_dir):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "EM emulator test CA"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "EM emulator test CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, encipher_only=False, decipher_only=False),
                              critical=True)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1"))]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_path = os.path.join(tls_dir, "ca.pem")
    with open(ca_path + ".tmp", "wb") as fh:
        fh.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    os.replace(ca_path + ".tmp", ca_path)
    server_pem = os.path.join(tls_dir, "server.pem")
    with open(server_pem, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    return ca_path, server_pem


def _with_openssl(tls_dir):
    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=tls_dir)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
        "-subj", "/O=EM emulator test CA/CN=EM emulator test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    with open(os.path.join(tls_dir, "ext.cnf"), "w") as fh:
        fh.write("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\n"
                 "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.crt", "-days", "825", "-extfile", "ext.cnf")
    server_pem = os.path.join(tls_dir, "server.pem")
    with open(server_pem, "w") as out:
        for name in ("server.key", "server.crt"):
            with open(os.path.join(tls_dir, name)) as fh:
                out.write(fh.read())
    return os.path.join(tls_dir, "ca.pem"), server_pem


def make_server_context(tls_dir=None):
    """Return (ssl_context, ca_pem_path). ``tls_dir`` is created if missing; default: a temp dir."""
    if not tls_dir:
        tls_dir = tempfile.mkdtemp(prefix="em-emulator-tls-")
    os.makedirs(tls_dir, exist_ok=True)
    try:
        ca_path, server_pem = _with_trustme(tls_dir)
    except ImportError:
        try:
            ca_path, server_pem = _with_cryptography(tls_dir)
        except ImportError:
            ca_path, server_pem = _with_openssl(tls_dir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(server_pem)
    return ctx, ca_path
