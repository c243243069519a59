"""The device's identity: enrolment, the files it leaves in DIR/identity, and their loading.

The private key is made on the device and never leaves it. Enrolment writes nothing until
the collector has answered: the files go to a temporary directory renamed into place last.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import grpc

from agent import __version__
from agent.address import Address
from agent.channel import ENROLL_TIMEOUT_S, enroll_channel
from agent.config import render_config
from agent.der import DerError, pem_to_der, serial_and_validity
from agent.files import replace_file, sync_dir, write_new_file
from agent.state import StatePaths
from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

log = logging.getLogger(__name__)

KEY_MODE = 0o600
DIR_MODE = 0o700


class IdentityError(Exception):
    """The device is not enrolled, or its identity files are unusable."""


class EnrollError(Exception):
    """Enrolment failed; the message says why, for the person running the command."""


class EnrollRefused(EnrollError):
    """The collector answered and refused this enrolment (a bad, spent or expired token):
    trying again with the same token cannot succeed."""


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """What DIR/identity/device.json records about the device."""

    device_id: str
    tenant: str
    site: str
    server: str
    enroll_server: str


@dataclass(frozen=True, slots=True)
class Identity:
    """The device's credentials, as PEM bytes."""

    record: DeviceRecord
    key_pem: bytes
    cert_pem: bytes
    ca_pem: bytes


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """The parts of a certificate the agent cares about."""

    serial_hex: str
    not_before: datetime
    not_after: datetime

    @property
    def lifetime_seconds(self) -> float:
        return (self.not_after - self.not_before).total_seconds()


def new_key_and_csr() -> tuple[bytes, bytes]:
    """A fresh ECDSA P-256 key (PEM, PKCS#8) and a CSR for it (DER)."""
    # Only enrolment and renewal need the builders: imported here to keep `run` light.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    # The collector chooses the subject; this CN is only a placeholder it ignores.
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "parc-agent")]))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, csr.public_bytes(serialization.Encoding.DER)


def _load_cert(pem: bytes, what: str) -> Certificate:
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise IdentityError(f"{what} is not a PEM certificate") from None


def certificate_info(cert_pem: bytes) -> CertificateInfo:
    """Serial and validity, read without `cryptography` (kept out of `run` until needed)."""
    try:
        serial, not_before, not_after = serial_and_validity(pem_to_der(cert_pem))
    except DerError as exc:
        raise IdentityError(f"the device certificate is unreadable: {exc}") from None
    return CertificateInfo(
        serial_hex=format(serial, "x"), not_before=not_before, not_after=not_after
    )


def certificate_matches_key(cert_pem: bytes, key_pem: bytes) -> bool:
    """Whether the certificate is for this private key."""
    from cryptography.hazmat.primitives import serialization

    cert = _load_cert(cert_pem, "the certificate")
    key = serialization.load_pem_private_key(key_pem, password=None)
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    return cert.public_key().public_bytes(enc, fmt) == key.public_key().public_bytes(enc, fmt)


def is_enrolled(paths: StatePaths) -> bool:
    return paths.device_record.exists() or paths.device_cert.exists()


def load_record(paths: StatePaths) -> DeviceRecord:
    try:
        raw = json.loads(paths.device_record.read_text(encoding="utf-8"))
        return DeviceRecord(**{k: str(raw[k]) for k in DeviceRecord.__dataclass_fields__})
    except FileNotFoundError:
        raise IdentityError(
            f"not enrolled: {paths.device_record} is missing (run `parc-agent enroll`)"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IdentityError(f"{paths.device_record} is unreadable: {exc}") from None


def load_identity(paths: StatePaths) -> Identity:
    """The device's credentials; finishes a renewal interrupted between its two renames."""
    record = load_record(paths)
    _finish_interrupted_renewal(paths)
    try:
        return Identity(
            record=record,
            key_pem=paths.device_key.read_bytes(),
            cert_pem=paths.device_cert.read_bytes(),
            ca_pem=paths.ca_cert.read_bytes(),
        )
    except OSError as exc:
        raise IdentityError(f"cannot read the device's credentials: {exc}") from None


# Renewal writes the new pair as *.next, then renames the key, then the certificate.
def _next(path: Path) -> Path:
    return path.with_name(path.name + ".next")


def _finish_interrupted_renewal(paths: StatePaths) -> None:
    key_next, cert_next = _next(paths.device_key), _next(paths.device_cert)
    if cert_next.exists() and not key_next.exists():
        # The key was renamed, the certificate not yet.
        os.replace(cert_next, paths.device_cert)
        log.info("completed an interrupted certificate renewal")
    else:
        for leftover in (key_next, cert_next):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def store_renewed(paths: StatePaths, key_pem: bytes, cert_pem: bytes) -> None:
    """Replaces the device key and certificate with a renewed pair."""
    key_next, cert_next = _next(paths.device_key), _next(paths.device_cert)
    for leftover in (key_next, cert_next):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    write_new_file(key_next, key_pem, KEY_MODE)
    write_new_file(cert_next, cert_pem, 0o644)
    sync_dir(paths.identity_dir)
    os.replace(key_next, paths.device_key)
    os.replace(cert_next, paths.device_cert)
    sync_dir(paths.identity_dir)


def _signing_key_pem(raw: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if len(raw) != 32:
        raise EnrollError(
            f"the collector sent a package-signing key of {len(raw)} bytes, not 32 (Ed25519)"
        )
    key = Ed25519PublicKey.from_public_bytes(raw)
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _rpc_failure(exc: grpc.aio.AioRpcError, target: Address, ca_file: Path) -> EnrollError:
    code = exc.code()
    details = exc.details() or ""
    if code == grpc.StatusCode.UNAVAILABLE:
        lowered = details.lower()
        if any(word in lowered for word in ("ssl", "handshake", "certificate", "tls")):
            return EnrollError(
                f"TLS handshake with the collector at {target} failed: its certificate is not "
                f"signed by the CA in {ca_file}, or is not valid for {target.host} ({details})"
            )
        return EnrollError(f"cannot reach the collector's enrolment port at {target}: {details}")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return EnrollError(f"the collector at {target} did not answer in time")
    name = code.name if code is not None else "UNKNOWN"
    return EnrollRefused(f"the collector refused the enrolment ({name}): {details}")


def _read_ca(ca_file: Path) -> bytes:
    try:
        ca_pem = ca_file.read_bytes()
    except OSError as exc:
        raise EnrollError(f"cannot read the CA certificate {ca_file}: {exc.strerror}") from None
    try:
        _load_cert(ca_pem, str(ca_file))
    except IdentityError as exc:
        raise EnrollError(str(exc)) from None
    return ca_pem


async def enroll(
    *,
    paths: StatePaths,
    server: Address,
    enroll_server: Address,
    token: str,
    ca_file: Path,
    force: bool = False,
    os_family: str = "",
    hostname: str | None = None,
    rpc_timeout: float = ENROLL_TIMEOUT_S,
) -> DeviceRecord:
    """Enrols the device with the collector and stores its identity under ``paths.root``."""
    if is_enrolled(paths) and not force:
        try:
            device = load_record(paths).device_id
        except IdentityError:
            device = "an earlier enrolment"
        raise EnrollError(
            f"{paths.root} already holds an identity ({device}); use --force to replace it"
        )
    ca_pem = _read_ca(ca_file)

    key_pem, csr_der = new_key_and_csr()
    request = pb.EnrollRequest(
        token=token,
        csr_der=csr_der,
        agent=pb.AgentInfo(
            hostname=hostname if hostname is not None else socket.gethostname(),
            agent_version=__version__,
            os_family=os_family,
        ),
    )
    async with enroll_channel(enroll_server, ca_pem, tls_name=server.host) as channel:
        stub = pb_grpc.AgentServiceStub(channel)
        try:
            response = await stub.Enroll(request, timeout=rpc_timeout)
        except grpc.aio.AioRpcError as exc:
            raise _rpc_failure(exc, enroll_server, ca_file) from None

    if not response.device_id:
        raise EnrollError("the collector's answer has no device id")
    cert_pem = response.certificate_pem.encode()
    new_ca_pem = response.ca_certificate_pem.encode()
    try:
        _load_cert(new_ca_pem, "the collector's CA certificate")
        if not certificate_matches_key(cert_pem, key_pem):
            raise EnrollError("the collector's certificate is not for the key this device sent")
    except IdentityError as exc:
        raise EnrollError(f"the collector's answer is unusable: {exc}") from None
    signing_pem = _signing_key_pem(response.package_signing_public_key)

    record = DeviceRecord(
        device_id=response.device_id,
        tenant=response.tenant,
        site=response.site,
        server=server.target,
        enroll_server=enroll_server.target,
    )
    _store_identity(
        paths,
        record,
        {
            paths.device_key.name: (key_pem, KEY_MODE),
            paths.device_cert.name: (cert_pem, 0o644),
            paths.ca_cert.name: (new_ca_pem, 0o644),
            paths.signing_key.name: (signing_pem, 0o644),
            paths.device_record.name: (
                (json.dumps(asdict(record), indent=2) + "\n").encode(),
                0o644,
            ),
        },
    )
    log.info(
        "enrolled as device %s (tenant %s, site %s)", record.device_id, record.tenant, record.site
    )
    return record


def _store_identity(
    paths: StatePaths, record: DeviceRecord, files: dict[str, tuple[bytes, int]]
) -> None:
    paths.root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(paths.root, DIR_MODE)
    staging = Path(tempfile.mkdtemp(dir=paths.root, prefix=".identity-new-"))
    old: Path | None = None
    try:
        for name, (data, mode) in files.items():
            write_new_file(staging / name, data, mode)
        os.chmod(staging, DIR_MODE)
        if paths.identity_dir.exists():
            old = Path(tempfile.mkdtemp(dir=paths.root, prefix=".identity-old-"))
            os.replace(paths.identity_dir, old / "identity")
        os.replace(staging, paths.identity_dir)
        sync_dir(paths.root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None and not paths.identity_dir.exists():
            os.replace(old / "identity", paths.identity_dir)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    if not paths.config.exists():
        settings = {"server": record.server, "enroll_server": record.enroll_server}
        replace_file(paths.config, render_config(settings).encode(), 0o644)
