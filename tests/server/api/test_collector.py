"""The collector over real sockets and real TLS: what it accepts, and what it refuses.

Every refusal checks the status code and that nothing was stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeAlias

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from parc.v1 import agent_service_pb2 as pb
from server.api.options import MAX_RECEIVE_MESSAGE_BYTES
from tests.server.api.conftest import (
    WAIT_S,
    Agent,
    Harness,
    csr_der,
    health_report,
    key_pem,
    new_key,
)

ENROLL = "/parc.v1.AgentService/Enroll"
REPORT_HEALTH = "/parc.v1.AgentService/ReportHealth"


async def eventually(check: Callable[[], Awaitable[bool] | bool], what: str) -> None:
    """Poll ``check`` until true; fail after WAIT_S seconds (a bound on waiting, not a timing)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while loop.time() < deadline:
        outcome = check()
        if outcome if isinstance(outcome, bool) else await outcome:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def rpc_error(call: Awaitable[object]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


Stream: TypeAlias = "grpc.aio.StreamStreamCall[pb.ConnectRequest, pb.ConnectResponse]"


async def next_reply(call: Stream) -> pb.ConnectResponse:
    """The stream's next message (waiting at most WAIT_S); failing on a clean end."""
    reply = await asyncio.wait_for(call.read(), WAIT_S)
    assert isinstance(reply, pb.ConnectResponse), "the stream ended"
    return reply


async def open_stream(harness: Harness, agent: Agent) -> Stream:
    call = harness.agent_stub(agent).Connect()
    await call.write(pb.ConnectRequest(heartbeat=pb.Heartbeat(sequence=1)))
    reply = await next_reply(call)
    assert reply.heartbeat_ack.sequence == 1
    return call


# --- what is accepted -------------------------------------------------------------------------


async def test_enrolled_agent_reports_health_and_a_resent_report_is_stored_once(
    harness: Harness,
) -> None:
    agent = await harness.enroll()
    assert agent.response.tenant == "Acme" and agent.response.site == "HQ"
    assert agent.response.ca_certificate_pem.encode() == harness.ca_pem
    assert len(agent.response.package_signing_public_key) == 32
    certificate = x509.load_pem_x509_certificate(agent.certificate_pem.encode())
    cn = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == agent.device_id  # the collector's choice, not the CSR's subject

    stub = harness.agent_stub(agent)
    request = pb.ReportHealthRequest(reports=[health_report("r-1"), health_report("r-2")])
    first = await stub.ReportHealth(request, timeout=WAIT_S)
    again = await stub.ReportHealth(request, timeout=WAIT_S)

    assert list(first.accepted_report_ids) == ["r-1", "r-2"]
    assert list(again.accepted_report_ids) == ["r-1", "r-2"]
    assert sorted(harness.health_ids(agent.device_id)) == ["r-1", "r-2"]


async def test_inventory_report_is_accepted(harness: Harness) -> None:
    agent = await harness.enroll()
    report = pb.InventoryReport(
        report_id="inv-1",
        os=pb.OperatingSystem(family="linux", name="Debian", version="12", hostname="pc-1"),
        hardware=pb.Hardware(cpu_model="x", cpu_cores=4, cpu_threads=8, memory_total_bytes=1 << 33),
    )
    report.collect_time.FromDatetime(datetime.now(UTC))
    response = await harness.agent_stub(agent).ReportInventory(
        pb.ReportInventoryRequest(reports=[report]), timeout=WAIT_S
    )
    assert list(response.accepted_report_ids) == ["inv-1"]
    assert harness.rows("SELECT report_id FROM inventory_reports") == [("inv-1",)]


async def test_heartbeat_on_the_stream_is_acknowledged_and_marks_the_device_seen(
    harness: Harness,
) -> None:
    agent = await harness.enroll()
    call = harness.agent_stub(agent).Connect()
    await call.write(pb.ConnectRequest(heartbeat=pb.Heartbeat(sequence=42)))
    reply = await next_reply(call)

    assert reply.WhichOneof("message") == "heartbeat_ack"
    assert reply.heartbeat_ack.sequence == 42
    assert reply.heartbeat_ack.HasField("server_time")

    async def seen() -> bool:
        devices = await harness.devices().list_devices()
        summary = next(d for d in devices if d.device_id == agent.device_id)
        return summary.last_seen_at is not None and summary.online

    # Last-seen marks are coalesced and written about once a second (server.services.presence).
    await eventually(seen, "the heartbeat to mark the device seen")

    await call.done_writing()
    assert await asyncio.wait_for(call.read(), WAIT_S) == grpc.aio.EOF
    assert await call.code() == grpc.StatusCode.OK


async def test_a_command_for_a_connected_device_is_delivered_and_its_ack_recorded(
    harness: Harness,
) -> None:
    agent = await harness.enroll()
    call = await open_stream(harness, agent)
    queued = await harness.commands().queue(agent.device_id, "send_inventory")
    command_id = getattr(queued, "command_id", queued)

    reply = await next_reply(call)
    assert reply.WhichOneof("message") == "command"
    assert reply.command.command_id == command_id
    assert reply.command.kind == pb.COMMAND_KIND_SEND_INVENTORY
    await call.write(
        pb.ConnectRequest(
            command_ack=pb.CommandAck(command_id=command_id, status=pb.COMMAND_STATUS_SUCCEEDED)
        )
    )

    def acknowledged() -> bool:
        rows = harness.rows(
            "SELECT status, delivered_at, acked_at FROM commands WHERE id = ?", command_id
        )
        return bool(rows) and rows[0][0] == "succeeded" and rows[0][2] is not None

    await eventually(acknowledged, "the acknowledgement to be recorded")
    assert harness.rows("SELECT delivered_at FROM commands WHERE id = ?", command_id)[0][0]
    call.cancel()


async def test_a_command_queued_for_several_devices_reaches_each_once_and_all_acks_are_stored(
    harness: Harness,
) -> None:
    agents = [await harness.enroll() for _ in range(4)]
    calls = [await open_stream(harness, agent) for agent in agents]
    queued = await harness.commands().queue_many([a.device_id for a in agents], "send_inventory")
    by_device = {command.device_id: command.command_id for command in queued}

    for agent, call in zip(agents, calls, strict=True):
        reply = await next_reply(call)
        assert reply.command.command_id == by_device[agent.device_id]
        ack = pb.CommandAck(command_id=reply.command.command_id, status=pb.COMMAND_STATUS_FAILED)
        await call.write(pb.ConnectRequest(command_ack=ack))

    def all_answered() -> bool:
        rows = harness.rows("SELECT status FROM commands WHERE acked_at IS NOT NULL")
        return len(rows) == 4

    await eventually(all_answered, "every acknowledgement to be recorded")
    assert harness.rows("SELECT count(*) FROM commands WHERE delivered_at IS NULL") == [(0,)]
    # Each stream still answers heartbeats next: the command was not written to it twice.
    for call in calls:
        await call.write(pb.ConnectRequest(heartbeat=pb.Heartbeat(sequence=2)))
        assert (await next_reply(call)).heartbeat_ack.sequence == 2
        call.cancel()


async def test_a_newer_stream_replaces_the_older_one(harness: Harness) -> None:
    agent = await harness.enroll()
    older = await open_stream(harness, agent)
    newer = await open_stream(harness, agent)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await asyncio.wait_for(older.read(), WAIT_S)
    assert caught.value.code() == grpc.StatusCode.ABORTED
    await newer.write(pb.ConnectRequest(heartbeat=pb.Heartbeat(sequence=2)))
    assert (await next_reply(newer)).heartbeat_ack.sequence == 2
    newer.cancel()


async def test_renewal_from_the_newest_certificate_is_honoured(harness: Harness) -> None:
    agent = await harness.enroll()
    new = new_key()
    response = await harness.agent_stub(agent).RenewCertificate(
        pb.RenewCertificateRequest(csr_der=csr_der(new)), timeout=WAIT_S
    )
    renewed = Agent(agent.device_id, new, response.certificate_pem, agent.response)
    ack = await harness.agent_stub(renewed).ReportHealth(
        pb.ReportHealthRequest(reports=[health_report("after-renewal")]), timeout=WAIT_S
    )
    assert list(ack.accepted_report_ids) == ["after-renewal"]


# --- what is refused --------------------------------------------------------------------------


async def test_agent_port_refuses_a_client_without_certificate(harness: Harness) -> None:
    error = await rpc_error(
        harness.agent_stub().ReportHealth(
            pb.ReportHealthRequest(reports=[health_report("r-x")]), timeout=WAIT_S
        )
    )
    # The TLS handshake itself fails (the port requires a client certificate).
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert harness.health_ids() == []


async def test_agent_port_refuses_a_certificate_from_another_ca(harness: Harness) -> None:
    agent = await harness.enroll()
    other_ca_key = new_key()
    other_ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Parc collector CA")])
    now = datetime.now(UTC)
    forged = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, agent.device_id)]))
        .issuer_name(other_ca_name)
        .public_key(agent.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(other_ca_key, hashes.SHA256())
    )
    forged_pem = forged.public_bytes(serialization.Encoding.PEM)
    error = await rpc_error(
        harness.agent_stub(client=(key_pem(agent.key), forged_pem)).ReportHealth(
            pb.ReportHealthRequest(reports=[health_report("forged")]), timeout=WAIT_S
        )
    )
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert harness.health_ids() == []


async def test_enrolment_port_refuses_every_other_method(harness: Harness) -> None:
    stub = harness.enroll_stub()
    error = await rpc_error(
        stub.ReportHealth(pb.ReportHealthRequest(reports=[health_report("r-e")]), timeout=WAIT_S)
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    renew = await rpc_error(
        stub.RenewCertificate(
            pb.RenewCertificateRequest(csr_der=csr_der(new_key())), timeout=WAIT_S
        )
    )
    assert renew.code() == grpc.StatusCode.UNAUTHENTICATED
    call = stub.Connect()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        # The refusal can end the call before the heartbeat is written (the write raises it)
        # or after (the read does).
        await call.write(pb.ConnectRequest(heartbeat=pb.Heartbeat(sequence=1)))
        await asyncio.wait_for(call.read(), WAIT_S)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert harness.health_ids() == []


async def test_revoked_device_is_refused_and_its_open_stream_closed(harness: Harness) -> None:
    agent = await harness.enroll()
    stream = await open_stream(harness, agent)
    stub = harness.agent_stub(agent)

    await harness.devices().revoke(agent.device_id)  # through its own engine: "another process"

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await asyncio.wait_for(stream.read(), WAIT_S)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in (caught.value.details() or "")
    error = await rpc_error(
        stub.ReportHealth(pb.ReportHealthRequest(reports=[health_report("late")]), timeout=WAIT_S)
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert harness.health_ids() == []


async def test_expired_token_is_refused(harness: Harness) -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    issued = await harness.tokens(clock=lambda: past).create("Acme", "HQ", 5, timedelta(hours=1))
    error = await rpc_error(harness.enroll(issued.secret))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert harness.rows("SELECT id FROM devices") == []


async def test_used_up_token_is_refused(harness: Harness) -> None:
    token = await harness.token(uses=1)
    await harness.enroll(token)
    error = await rpc_error(harness.enroll(token))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert len(harness.rows("SELECT id FROM devices")) == 1


async def test_unknown_token_is_refused(harness: Harness) -> None:
    error = await rpc_error(harness.enroll("parc_not-a-token"))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert harness.rows("SELECT id FROM devices") == []


async def test_renewal_from_an_old_serial_is_refused(harness: Harness) -> None:
    agent = await harness.enroll()
    await harness.agent_stub(agent).RenewCertificate(
        pb.RenewCertificateRequest(csr_der=csr_der(new_key())), timeout=WAIT_S
    )
    certificates_before = harness.rows("SELECT serial FROM certificates")
    error = await rpc_error(
        harness.agent_stub(agent).RenewCertificate(
            pb.RenewCertificateRequest(csr_der=csr_der(new_key())), timeout=WAIT_S
        )
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert harness.rows("SELECT serial FROM certificates") == certificates_before


async def test_malformed_message_is_invalid_argument_and_the_server_keeps_serving(
    harness: Harness,
) -> None:
    # grpc alone would answer a request it cannot parse with a generic status; the collector
    # parses requests inside its error mapping, so the agent gets INVALID_ARGUMENT.
    channel = harness.raw_channel(harness.enroll_target)
    raw_enroll = channel.unary_unary(ENROLL, request_serializer=None, response_deserializer=None)
    error = await rpc_error(raw_enroll(b"\xff\xff\xff\xff not protobuf", timeout=WAIT_S))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT

    agent = await harness.enroll()
    raw_health = harness.raw_channel(
        harness.agent_target, (key_pem(agent.key), agent.certificate_pem.encode())
    ).unary_unary(REPORT_HEALTH, request_serializer=None, response_deserializer=None)
    error = await rpc_error(raw_health(b"\x0a\xff\xff\xff", timeout=WAIT_S))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert harness.health_ids() == []


async def test_malformed_message_on_the_stream_ends_it_invalid_argument(harness: Harness) -> None:
    agent = await harness.enroll()
    channel = harness.raw_channel(
        harness.agent_target, (key_pem(agent.key), agent.certificate_pem.encode())
    )
    connect = channel.stream_stream(
        "/parc.v1.AgentService/Connect", request_serializer=None, response_deserializer=None
    )
    call = connect()
    await call.write(b"\x0a\xff\xff\xff")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await asyncio.wait_for(call.read(), WAIT_S)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_oversized_message_is_refused_and_changes_nothing(harness: Harness) -> None:
    token = await harness.token(uses=1)
    oversized = pb.EnrollRequest(token=token, csr_der=b"\0" * (MAX_RECEIVE_MESSAGE_BYTES + 1))
    error = await rpc_error(harness.enroll_stub().Enroll(oversized, timeout=WAIT_S))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert harness.rows("SELECT id FROM devices") == []
    agent = await harness.enroll(token)  # the token was not used up
    assert agent.device_id


async def test_bad_csr_is_invalid_argument_and_does_not_use_the_token(harness: Harness) -> None:
    token = await harness.token(uses=1)
    error = await rpc_error(
        harness.enroll_stub().Enroll(pb.EnrollRequest(token=token, csr_der=b"junk"), timeout=WAIT_S)
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert harness.rows("SELECT uses_count FROM enrollment_tokens") == [(0,)]


async def test_concurrent_calls_from_two_devices_are_each_stored_under_their_own_device(
    harness: Harness,
) -> None:
    first, second = await harness.enroll(), await harness.enroll()
    stubs = {
        first.device_id: harness.agent_stub(first),
        second.device_id: harness.agent_stub(second),
    }

    await asyncio.gather(
        *(
            stub.ReportHealth(
                pb.ReportHealthRequest(reports=[health_report(f"{device_id}-{n}")]), timeout=WAIT_S
            )
            for n in range(10)
            for device_id, stub in stubs.items()
        )
    )
    for device_id in stubs:
        stored = harness.health_ids(device_id)
        assert sorted(stored) == sorted(f"{device_id}-{n}" for n in range(10))


async def test_stopping_the_collector_ends_open_streams_unavailable(harness: Harness) -> None:
    agent = await harness.enroll()
    call = await open_stream(harness, agent)
    await harness.collector.stop(1)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await asyncio.wait_for(call.read(), WAIT_S)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert not harness.collector.run_file.exists()
