"""Fixtures of the review-server tests: a served project, a TLS certificate made with `cryptography`,
and the server itself started as `recist review serve` in a subprocess on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from review.conftest import CHARTER, NOW, load_factory, timepoints

from recist.review.accounts import Accounts
from recist.review.keys import SigningKey, project_state_dir
from recist.review.workflow import ReviewProject, SubjectTimepoint

PASSWORDS = {"PM1": "core-lab admin pass 1", "R1": "reader one passphrase", "R2": "reader two passphrase",
             "ADJ1": "adjudicator passphrase"}
NAMES = {"PM1": "Pat Manager", "R1": "Dr Ada Reader", "R2": "Dr Bo Reader", "ADJ1": "Dr Cy Adjudicator"}
ROOT = Path(__file__).resolve().parents[2]


def make_tls(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "recist test server")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def _dicom_timepoints(folder: Path, subject: str) -> list[SubjectTimepoint]:
    """Two timepoints of ``subject``, one small identified CT series each (the DICOM test factory)."""
    factory = load_factory()
    tps = []
    for k, day in enumerate((dt.date(2024, 1, 8), dt.date(2024, 3, 4))):
        series = folder / subject / f"tp{k}"
        factory.write_series(series, shape=(2, 8, 8), extra={
            "PatientName": f"Doe^{subject}", "PatientID": subject, "StudyDate": day.strftime("%Y%m%d"),
            "InstitutionName": "Hospital X"})
        tps.append(SubjectTimepoint("baseline" if k == 0 else "week 8", day, (str(series),)))
    return tps


def make_served_project(base: Path, n_subjects: int = 3, *, dicom: bool = False) -> tuple[Path, Path]:
    """A project with subjects, the server key installed and an account per person; (project, home).

    ``dicom``: each subject has two timepoints with a real (identified) DICOM series each.
    """
    root, home = base / "review", base / "server-home"
    project = ReviewProject.init(root, CHARTER, as_="PM1", now=NOW)
    for k in range(n_subjects):
        subject = f"NET-{k + 1:03d}"
        tps = _dicom_timepoints(base / "dicom", subject) if dicom else timepoints()
        project.add_subject(subject, tps, as_="PM1", now=NOW, check_images=dicom)
    key = SigningKey.load_or_create(home)
    ReviewProject.open(root, signer=key).install_server_key(as_="PM1", now=NOW)
    accounts = Accounts(project_state_dir(root, home))
    for user, password in PASSWORDS.items():
        accounts.add(user, role=ReviewProject.open(root).charter.role_of(user), name=NAMES[user], password=password,
                     charter_role=ReviewProject.open(root).charter.role_of(user), now=NOW)
    return root, home


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running `recist review serve` subprocess."""

    root: Path
    home: Path
    cert: Path
    key: Path
    log: Path
    extra: list[str] = field(default_factory=list)
    port: int = 0
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> None:
        self.port = free_port()
        cmd = [sys.executable, "-m", "recist", "review", "serve", str(self.root), "--port", str(self.port),
               "--tls-cert", str(self.cert), "--tls-key", str(self.key), "--server-home", str(self.home), *self.extra]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins"),
                                                            os.environ.get("PYTHONPATH", "")])}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                httpx.get(self.url + "/api/me", verify=self.tls(), timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"the server did not start within {timeout_s} s: {self.log.read_text()[-2000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.proc = None

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, verify=self.tls(), timeout=60, headers=headers)

    def token(self, user: str) -> str:
        response = httpx.post(self.url + "/api/login", json={"user": user, "password": PASSWORDS[user]},
                              verify=self.tls(), timeout=60)
        assert response.status_code == 200, response.text
        return response.json()["token"]

    def login(self, user: str) -> httpx.Client:
        """An httpx client with ``user``'s session token."""
        return self.client(self.token(user))


def start_server(base: Path, *extra: str, n_subjects: int = 3, dicom: bool = False) -> Server:
    root, home = make_served_project(base, n_subjects, dicom=dicom)
    cert, key = make_tls(base)
    server = Server(root=root, home=home, cert=cert, key=key, log=base / "server.log", extra=list(extra))
    server.start()
    return server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One served project (3 subjects with two CT timepoints each) for the tests that share it."""
    srv = start_server(tmp_path_factory.mktemp("served"), dicom=True)
    yield srv
    srv.stop()
