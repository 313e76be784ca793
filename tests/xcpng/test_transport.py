"""The XML-RPC transport over the wire: plain HTTP, and HTTPS to a self-signed server (XCP-ng's
default) with and without checking its certificate, on loopback servers the test starts."""

from __future__ import annotations

import datetime
import ssl
import threading
import xmlrpc.client
import xmlrpc.server
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.xcpng import Settings
from providers.xcpng._xapi import _Transport


def _self_signed(into: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xcp-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1)).sign(key, hashes.SHA256()))
    cert_file, key_file = into / "cert.pem", into / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def _serve(tls: ssl.SSLContext | None) -> Iterator[str]:
    server = xmlrpc.server.SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False)
    server.register_function(lambda: "pong", "ping")
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def https_url(tmp_path: Path) -> Iterator[str]:
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(*_self_signed(tmp_path))
    yield from _serve(tls)


@pytest.fixture
def http_url() -> Iterator[str]:
    yield from _serve(None)


def _ping(url: str, settings: Settings) -> str:
    return str(xmlrpc.client.ServerProxy(url, transport=_Transport(settings)).ping())


def test_https_to_a_self_signed_server_checks_the_certificate_only_when_asked(https_url: str) -> None:
    assert _ping(https_url, Settings(scheme="https", verify_tls=False)) == "pong"
    with pytest.raises(ssl.SSLCertVerificationError, match="self-signed certificate"):
        _ping(https_url, Settings(scheme="https", verify_tls=True))
    # Every transport of the process shares the TLS settings of its kind, made once.
    unchecked = [vars(_Transport(Settings(scheme="https", verify_tls=False)))["context"] for _ in range(2)]
    checked = vars(_Transport(Settings(scheme="https", verify_tls=True)))["context"]
    assert unchecked[0] is unchecked[1] is not checked
    assert unchecked[0].verify_mode == ssl.CERT_NONE and checked.verify_mode == ssl.CERT_REQUIRED


def test_plain_http_needs_no_tls_settings(http_url: str) -> None:
    settings = Settings(scheme="http")
    assert _ping(http_url, settings) == "pong"
    assert vars(_Transport(settings))["context"] is None
