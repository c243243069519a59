"""A small in-test collector: AgentServiceServicer on grpc.aio with real TLS.

It is a test double of the real collector (server/), not a mock library: it speaks the
wire contract over mutual TLS on 127.0.0.1 and records what the agent sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc
from tests.agent.pki import ThrowawayCA

GOOD_TOKEN = "good-token"


@dataclass
class CollectorState:
    """What the double remembers; it survives a restart of the server."""

    ca: ThrowawayCA
    device_id: str = "dev-0001"
    cert_lifetime: dt.timedelta = dt.timedelta(days=1)
    refuse_renewal: bool = False
    health_ids: list[str] = field(default_factory=list)
    inventory_ids: list[str] = field(default_factory=list)
    health_received: list[str] = field(default_factory=list)
    inventories: list[pb.InventoryReport] = field(default_factory=list)
    # Answer the next ReportInventory with full_inventory_requested (then reset).
    request_full_inventory: bool = False
    heartbeats: list[int] = field(default_factory=list)
    acks: list[pb.CommandAck] = field(default_factory=list)
    commands: list[pb.Command] = field(default_factory=list)
    enroll_requests: list[pb.EnrollRequest] = field(default_factory=list)
    renewals: int = 0
    streams_opened: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        self.changed.set()

    async def wait_for(self, predicate: Any, limit: float = 20.0) -> None:
        """Waits until ``predicate()`` holds (a hang guard, not a timing assertion)."""

        async def loop() -> None:
            while not predicate():
                self.changed.clear()
                if predicate():
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), timeout=0.2)

        await asyncio.wait_for(loop(), timeout=limit)


def _now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp


class CollectorDouble(pb_grpc.AgentServiceServicer):
    def __init__(self, state: CollectorState) -> None:
        self.state = state

    async def Enroll(self, request: pb.EnrollRequest, context: Any) -> pb.EnrollResponse:
        self.state.enroll_requests.append(request)
        if request.token != GOOD_TOKEN:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "enrolment token expired")
        cert = self.state.ca.sign_csr(
            request.csr_der, self.state.device_id, self.state.cert_lifetime
        )
        return pb.EnrollResponse(
            device_id=self.state.device_id,
            certificate_pem=cert.decode(),
            ca_certificate_pem=self.state.ca.cert_pem.decode(),
            package_signing_public_key=self.state.ca.signing_public_raw,
            tenant="acme",
            site="paris",
        )

    async def RenewCertificate(
        self, request: pb.RenewCertificateRequest, context: Any
    ) -> pb.RenewCertificateResponse:
        if self.state.refuse_renewal:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "not the newest certificate")
        self.state.renewals += 1
        cert = self.state.ca.sign_csr(
            request.csr_der, self.state.device_id, self.state.cert_lifetime
        )
        return pb.RenewCertificateResponse(certificate_pem=cert.decode())

    async def ReportHealth(
        self, request: pb.ReportHealthRequest, context: Any
    ) -> pb.ReportHealthResponse:
        ids = [r.report_id for r in request.reports]
        self.state.health_received.extend(ids)
        for report_id in ids:
            if report_id not in self.state.health_ids:
                self.state.health_ids.append(report_id)
        self.state.notify()
        return pb.ReportHealthResponse(accepted_report_ids=ids)

    async def ReportInventory(
        self, request: pb.ReportInventoryRequest, context: Any
    ) -> pb.ReportInventoryResponse:
        for report in request.reports:
            if report.report_id not in self.state.inventory_ids:
                self.state.inventory_ids.append(report.report_id)
                self.state.inventories.append(report)
        self.state.notify()
        full, self.state.request_full_inventory = self.state.request_full_inventory, False
        return pb.ReportInventoryResponse(
            accepted_report_ids=[r.report_id for r in request.reports],
            full_inventory_requested=full,
        )

    async def Connect(
        self, request_iterator: AsyncIterator[pb.ConnectRequest], context: Any
    ) -> AsyncIterator[pb.ConnectResponse]:
        self.state.streams_opened += 1
        self.state.notify()
        out: asyncio.Queue[pb.ConnectResponse | None] = asyncio.Queue()
        for command in self.state.commands:
            out.put_nowait(pb.ConnectResponse(command=command))

        async def read() -> None:
            async for request in request_iterator:
                which = request.WhichOneof("message")
                if which == "heartbeat":
                    self.state.heartbeats.append(request.heartbeat.sequence)
                    await out.put(
                        pb.ConnectResponse(
                            heartbeat_ack=pb.HeartbeatAck(
                                sequence=request.heartbeat.sequence, server_time=_now()
                            )
                        )
                    )
                elif which == "command_ack":
                    self.state.acks.append(request.command_ack)
                    # An acknowledged command is done: not sent again on the next stream.
                    self.state.commands = [
                        c
                        for c in self.state.commands
                        if c.command_id != request.command_ack.command_id
                    ]
                self.state.notify()
            await out.put(None)

        reader = asyncio.get_running_loop().create_task(read())
        try:
            while (item := await out.get()) is not None:
                yield item
        finally:
            reader.cancel()


@dataclass
class RunningCollector:
    """A started double: the agent port (mTLS) and the enrolment port (server TLS only)."""

    server: grpc.aio.Server
    agent_port: int
    enroll_port: int

    async def stop(self) -> None:
        await self.server.stop(grace=None)


async def start_collector(
    state: CollectorState, agent_port: int = 0, enroll_port: int = 0
) -> RunningCollector:
    server = grpc.aio.server()
    pb_grpc.add_AgentServiceServicer_to_server(CollectorDouble(state), server)
    identity = [(state.ca.server_key_pem, state.ca.server_cert_pem)]
    mtls = grpc.ssl_server_credentials(
        identity, root_certificates=state.ca.cert_pem, require_client_auth=True
    )
    tls = grpc.ssl_server_credentials(identity)
    bound_agent = server.add_secure_port(f"127.0.0.1:{agent_port}", mtls)
    bound_enroll = server.add_secure_port(f"127.0.0.1:{enroll_port}", tls)
    await server.start()
    return RunningCollector(server, bound_agent, bound_enroll)
