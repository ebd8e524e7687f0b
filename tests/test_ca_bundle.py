"""--ca-bundle: a target behind a private CA. The reference is served over TLS with a certificate for 127.0.0.1 that
a CA made here signed: without the bundle the run stops in one line on the certificate (exit 2), with it the run
passes."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from iothub_conformance.http.transport import Limits, http_transport
from tests.support.served import free_port as _free_port
from tests.support.suite_runs import ROOT

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

RUN_TIMEOUT = 120  # seconds after which a run counts as hung


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, issuer, public_key, signing_key, *, ca: bool, issuer_key=None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   (issuer_key or signing_key).public_key()), critical=False))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                      content_commitment=False, key_encipherment=False,
                                                      data_encipherment=False, key_agreement=False,
                                                      encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = (builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                         critical=False)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    return builder.sign(signing_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _make_ca(directory, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(_name(name), _name(name), key.public_key(), key, ca=True)
    path = directory / f"{name}.pem"
    path.write_bytes(_pem(cert))
    return key, cert, path


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A private CA, a server certificate for 127.0.0.1 it signed, and another CA that signed nothing."""
    directory = tmp_path_factory.mktemp("pki")
    ca_key, ca_cert, ca_path = _make_ca(directory, "conformance-test-ca")
    _, _, stranger_path = _make_ca(directory, "some-other-ca")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(_name("127.0.0.1"), ca_cert.subject, key.public_key(), ca_key, ca=False)
    (directory / "server.pem").write_bytes(_pem(cert))
    (directory / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                             serialization.PrivateFormat.PKCS8,
                                                             serialization.NoEncryption()))
    return {"ca": ca_path, "stranger": stranger_path, "cert": directory / "server.pem", "key": directory / "server.key"}


@contextmanager
def _tls_reference(pki):
    """The reference app served by uvicorn over TLS on a free 127.0.0.1 port, in a thread."""
    import uvicorn

    from iothub_conformance.reference import Hub, create_app

    hub = Hub.create()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(hub), host="127.0.0.1", port=port, log_level="warning",
                                           ssl_certfile=str(pki["cert"]), ssl_keyfile=str(pki["key"])))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):  # up to 10 s for the server to listen
            if server.started:
                break
            time.sleep(0.05)
        assert server.started, "the TLS reference did not start"
        yield f"https://127.0.0.1:{port}", hub.connection_string()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def tls_hub(pki):
    with _tls_reference(pki) as served:
        yield served


def _run(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("IOTHUB_") and k not in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE")}
    env["IOTHUB_MAX_EXAMPLES"] = "2"
    command = [sys.executable, "-m", "iothub_conformance.cli", "run", "--bundle", str(tmp_path / "bundle"), *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)


def test_the_transport_trusts_exactly_the_ca_bundle(tls_hub, pki):
    url, _ = tls_hub
    with httpx.Client(transport=http_transport(Limits(), str(pki["ca"]))) as client:
        assert client.get(url + "/statistics/service", params={"api-version": "2016-02-03"}).status_code == 401  # no key
    for bundle in (None, str(pki["stranger"])):
        with httpx.Client(transport=http_transport(Limits(), bundle)) as client:
            with pytest.raises(httpx.ConnectError, match=r"TLS certificate is not trusted .*give --ca-bundle FILE"):
                client.get(url + "/statistics/service")


def test_without_the_ca_bundle_the_run_stops_in_one_line_on_the_certificate(tls_hub, tmp_path):
    url, connection_string = tls_hub
    done = _run(tmp_path, "--target", url, "--connection-string", connection_string)
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "CERTIFICATE_VERIFY_FAILED" in errors[0] and "--ca-bundle" in errors[0], done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_with_the_ca_bundle_the_run_passes(tls_hub, pki, tmp_path):
    url, connection_string = tls_hub
    done = _run(tmp_path, "--target", url, "--connection-string", connection_string, "--ca-bundle", str(pki["ca"]),
                "--", "-k", "device_identities")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    statuses = [r["status"] for r in json.loads((tmp_path / "bundle" / "results.json").read_text())["requirements"]]
    assert statuses.count("pass") >= 10 and "fail" not in statuses and "error" not in statuses


def test_the_ca_bundle_comes_from_the_environment_too(tls_hub, pki, tmp_path, monkeypatch):
    url, connection_string = tls_hub
    monkeypatch.setenv("IOTHUB_CA_BUNDLE", str(pki["ca"]))
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    env["IOTHUB_MAX_EXAMPLES"] = "2"
    command = [sys.executable, "-m", "iothub_conformance.cli", "run", "--bundle", str(tmp_path / "bundle"),
               "--target", url, "--connection-string", connection_string, "--", "-k", "device_identities and etag"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_a_ca_bundle_that_is_no_certificate_is_one_line_and_exit_2(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    done = _run(tmp_path, "--target", "https://127.0.0.1:9", "--connection-string",
                "HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey="
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "--ca-bundle", str(bundle))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--ca-bundle" in done.stderr and "Traceback" not in done.stdout + done.stderr
    assert len([line for line in done.stderr.splitlines() if line.strip()]) == 1, done.stderr
