"""A TLS front for the tests: certificates made here, and a proxy on 127.0.0.1.

`certificates` makes a CA and a server certificate for IP 127.0.0.1 signed by
it (with the `cryptography` package Airflow brings), plus a second CA that
signed nothing. `TlsFront` serves TLS with that certificate on a free port of
127.0.0.1 and passes the bytes to a plain HTTP server (the service fixture's
api-server), so one Airflow serves both schemes. It runs in threads of the
test process and ends with `close`.
"""

from __future__ import annotations

import datetime
import ipaddress
import selectors
import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Certificates:
    """PEM files: the CA that signed the server's certificate, another CA, and
    the server's certificate and key."""

    ca: Path
    other_ca: Path
    server: Path
    key: Path


def certificates(folder: Path) -> Certificates:
    """A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated CA."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca = _authority("dagsmith test CA")
    _, other = _authority("another CA")
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        _builder(_name("127.0.0.1"), ca.subject, server_key)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = Certificates(
        folder / "ca.pem",
        folder / "other-ca.pem",
        folder / "server.pem",
        folder / "server.key",
    )
    for path, certificate in (
        (files.ca, ca),
        (files.other_ca, other),
        (files.server, server),
    ):
        path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def _authority(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(
        digital_signature=True,
        key_cert_sign=True,
        crl_sign=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        encipher_only=False,
        decipher_only=False,
    )
    certificate = (
        _builder(_name(common_name), _name(common_name), key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return key, certificate


class TlsFront:
    """TLS on a free port of 127.0.0.1, passed through to a plain HTTP port."""

    def __init__(self, files: Certificates, upstream_port: int) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(files.server, files.key)
        self.handshakes_failed = 0
        front = self

        class Relay(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                try:
                    tls = context.wrap_socket(self.request, server_side=True)
                except (ssl.SSLError, OSError):
                    front.handshakes_failed += 1  # the client refused the certificate
                    return
                with tls, socket.create_connection(("127.0.0.1", upstream_port)) as up:
                    _relay(tls, up)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Relay)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"https://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def _relay(tls: ssl.SSLSocket, up: socket.socket) -> None:
    """Bytes both ways until either side closes.

    An SSL socket may hold decrypted bytes that select() does not see: read
    them while it has any.
    """
    with selectors.DefaultSelector() as selector:
        selector.register(tls, selectors.EVENT_READ, up)
        selector.register(up, selectors.EVENT_READ, tls)
        while True:
            if tls.pending():
                ready = [(tls, up)]
            else:
                events = selector.select(timeout=60)
                if not events:
                    return  # idle for a minute: the client went away
                ready = [(key.fileobj, key.data) for key, _ in events]
            for source, target in ready:
                try:
                    data = source.recv(65536)  # type: ignore[union-attr]
                except (ssl.SSLError, OSError):
                    return
                if not data:
                    return
                target.sendall(data)
