"""Enrolment against the collector double over real TLS, and the identity files it leaves."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from agent.address import Address
from agent.identity import (
    EnrollError,
    certificate_info,
    certificate_matches_key,
    enroll,
    load_identity,
    new_key_and_csr,
    store_renewed,
)
from agent.state import StatePaths
from tests.agent.collector_double import GOOD_TOKEN, CollectorState, RunningCollector
from tests.agent.pki import ThrowawayCA


def addresses(collector: RunningCollector) -> tuple[Address, Address]:
    return Address("127.0.0.1", collector.agent_port), Address("127.0.0.1", collector.enroll_port)


async def do_enroll(
    paths: StatePaths,
    collector: RunningCollector,
    ca_file: Path,
    token: str = GOOD_TOKEN,
    force: bool = False,
) -> None:
    server, enroll_server = addresses(collector)
    await enroll(
        paths=paths,
        server=server,
        enroll_server=enroll_server,
        token=token,
        ca_file=ca_file,
        force=force,
        os_family="linux",
        hostname="pc-042",
    )


def test_csr_carries_the_public_key() -> None:
    key_pem, csr_der = new_key_and_csr()
    key = serialization.load_pem_private_key(key_pem, password=None)
    csr = x509.load_der_x509_csr(csr_der)
    assert csr.is_signature_valid
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    assert csr.public_key().public_bytes(der, spki) == key.public_key().public_bytes(der, spki)
    assert key.key_size == 256  # type: ignore[union-attr]


async def test_enrol_writes_the_identity(
    tmp_path: Path, collector: RunningCollector, collector_state: CollectorState, ca_file: Path
) -> None:
    paths = StatePaths(tmp_path / "state")
    await do_enroll(paths, collector, ca_file)

    assert stat.S_IMODE(os.stat(paths.root).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(paths.device_key).st_mode) == 0o600
    record = json.loads(paths.device_record.read_text())
    assert record == {
        "device_id": "dev-0001",
        "tenant": "acme",
        "site": "paris",
        "server": f"127.0.0.1:{collector.agent_port}",
        "enroll_server": f"127.0.0.1:{collector.enroll_port}",
    }
    identity = load_identity(paths)
    assert certificate_matches_key(identity.cert_pem, identity.key_pem)
    assert identity.ca_pem == collector_state.ca.cert_pem
    signing = serialization.load_pem_public_key(paths.signing_key.read_bytes())
    assert (
        signing.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        == collector_state.ca.signing_public_raw
    )
    assert f'server = "127.0.0.1:{collector.agent_port}"' in paths.config.read_text()
    # What the agent said about itself; never its key.
    request = collector_state.enroll_requests[0]
    assert request.agent.hostname == "pc-042" and request.agent.os_family == "linux"
    assert b"PRIVATE" not in request.SerializeToString()


async def test_refuses_to_enrol_over_an_identity_without_force(
    tmp_path: Path, collector: RunningCollector, ca_file: Path
) -> None:
    paths = StatePaths(tmp_path / "state")
    await do_enroll(paths, collector, ca_file)
    first_key = paths.device_key.read_bytes()
    with pytest.raises(EnrollError, match=r"already holds an identity.*--force"):
        await do_enroll(paths, collector, ca_file)
    assert paths.device_key.read_bytes() == first_key
    await do_enroll(paths, collector, ca_file, force=True)
    assert paths.device_key.read_bytes() != first_key
    assert sorted(p.name for p in paths.root.iterdir()) == ["agent.toml", "identity"]


async def test_refused_token_shows_the_collector_message_and_writes_nothing(
    tmp_path: Path, collector: RunningCollector, ca_file: Path
) -> None:
    paths = StatePaths(tmp_path / "state")
    with pytest.raises(EnrollError, match=r"refused.*enrolment token expired"):
        await do_enroll(paths, collector, ca_file, token="stale")
    assert not paths.root.exists()


async def test_wrong_ca_is_a_tls_failure_and_writes_nothing(
    tmp_path: Path, collector: RunningCollector
) -> None:
    other = tmp_path / "other-ca.pem"
    other.write_bytes(ThrowawayCA(name="Someone else").cert_pem)
    paths = StatePaths(tmp_path / "state")
    with pytest.raises(EnrollError, match="TLS handshake"):
        await do_enroll(paths, collector, other)
    assert not paths.root.exists()


async def test_unreachable_collector_writes_nothing(tmp_path: Path, ca_file: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    paths = StatePaths(tmp_path / "state")
    with pytest.raises(EnrollError, match="cannot reach"):
        await enroll(
            paths=paths,
            server=Address("127.0.0.1", port),
            enroll_server=Address("127.0.0.1", port),
            token=GOOD_TOKEN,
            ca_file=ca_file,
        )
    assert not paths.root.exists()


async def test_unreadable_ca_file(tmp_path: Path) -> None:
    with pytest.raises(EnrollError, match="cannot read the CA"):
        await enroll(
            paths=StatePaths(tmp_path / "state"),
            server=Address("127.0.0.1", 1),
            enroll_server=Address("127.0.0.1", 2),
            token=GOOD_TOKEN,
            ca_file=tmp_path / "absent.pem",
        )


async def test_renewed_pair_replaces_the_old_one(
    tmp_path: Path, collector: RunningCollector, ca: ThrowawayCA, ca_file: Path
) -> None:
    paths = StatePaths(tmp_path / "state")
    await do_enroll(paths, collector, ca_file)
    old_serial = certificate_info(paths.device_cert.read_bytes()).serial_hex
    key_pem, csr_der = new_key_and_csr()
    cert_pem = ca.sign_csr(csr_der, "dev-0001")
    store_renewed(paths, key_pem, cert_pem)
    identity = load_identity(paths)
    assert identity.key_pem == key_pem
    assert certificate_info(identity.cert_pem).serial_hex != old_serial
    assert stat.S_IMODE(os.stat(paths.device_key).st_mode) == 0o600
    assert not list(paths.identity_dir.glob("*.next"))
