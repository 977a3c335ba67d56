"""`customers serve --tls-cert FILE --tls-key FILE` serves HTTPS (issue 16 A.5); a wrong pair
is one line and exit code 2 before anything starts."""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from entrypoints import cli

ROOT = Path(__file__).resolve().parents[2]


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                         serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_https_with_the_given_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMERS_")}
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port),
               "--data-dir", str(tmp_path / "data"), "--tls-cert", str(cert), "--tls-key", str(key)]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)  # fmt: skip
    context = ssl.create_default_context(cafile=str(cert))
    try:
        deadline, status = time.monotonic() + 60, None
        while status is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/health", context=context,
                                            timeout=5) as answer:  # fmt: skip
                    status = answer.status
            except OSError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                time.sleep(0.3)
        assert status == 200
    finally:
        process.terminate()
        process.wait(30)


@pytest.mark.parametrize("which", ["only-cert", "wrong-key", "missing"])
def test_a_bad_tls_pair_is_one_line(
    which: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cert, key = self_signed(tmp_path)
    (tmp_path / "other").mkdir()
    other_cert, _ = self_signed(tmp_path / "other")
    arguments = {
        "only-cert": ["--tls-cert", str(cert)],
        "wrong-key": ["--tls-cert", str(other_cert), "--tls-key", str(key)],
        "missing": ["--tls-cert", str(tmp_path / "nope.pem"), "--tls-key", str(key)],
    }[which]
    monkeypatch.delenv("CUSTOMERS_EVENT_STORE_URL", raising=False)
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("started"))
    assert cli.main(["serve", "--data-dir", str(tmp_path / "d"), *arguments]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "--tls" in error
