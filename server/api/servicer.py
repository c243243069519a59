"""The ``parc.v1.AgentService`` servicer: convert, call a service, convert back.

Authentication and the mapping of errors to statuses happen in the interceptors
(``server.api.auth``, ``server.api.errors``); the caller's identity comes from
``current_device()``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, TypeAlias

import grpc

from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc
from server.api import convert
from server.api.auth import current_device
from server.api.streams import AgentStream, ConnectionRegistry, StreamEnd
from server.services.commands import CommandService
from server.services.devices import DeviceService
from server.services.enrollment import EnrollmentService
from server.services.errors import InvalidArgument
from server.services.presence import PresenceRecorder
from server.services.records import DeviceIdentity, PendingCommand
from server.services.reports import ReportService

log = logging.getLogger(__name__)

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"


class AgentServicer(pb_grpc.AgentServiceServicer):
    """What agents call. Holds no business rules and opens no database sessions."""

    def __init__(
        self,
        *,
        enrollment: EnrollmentService,
        devices: DeviceService,
        reports: ReportService,
        commands: CommandService,
        registry: ConnectionRegistry,
        presence: PresenceRecorder,
        clock: Callable[[], datetime],
    ) -> None:
        self._enrollment = enrollment
        self._devices = devices
        self._reports = reports
        self._commands = commands
        self._registry = registry
        self._presence = presence
        self._clock = clock

    async def Enroll(self, request: pb.EnrollRequest, context: Context) -> pb.EnrollResponse:
        enrollment = await self._enrollment.enroll(
            request.token, request.csr_der, convert.agent_facts(request.agent)
        )
        log.info(
            "enrolled device %s (%s/%s)", enrollment.device_id, enrollment.tenant, enrollment.site
        )
        return convert.enroll_response(enrollment)

    async def RenewCertificate(
        self, request: pb.RenewCertificateRequest, context: Context
    ) -> pb.RenewCertificateResponse:
        certificate_pem = await self._enrollment.renew(current_device(), request.csr_der)
        return pb.RenewCertificateResponse(certificate_pem=certificate_pem)

    async def ReportHealth(
        self, request: pb.ReportHealthRequest, context: Context
    ) -> pb.ReportHealthResponse:
        samples = [convert.health_sample(report) for report in request.reports]
        accepted = await self._reports.store_health(current_device(), samples)
        return pb.ReportHealthResponse(accepted_report_ids=accepted)

    async def ReportInventory(
        self, request: pb.ReportInventoryRequest, context: Context
    ) -> pb.ReportInventoryResponse:
        snapshots = [convert.inventory_snapshot(report) for report in request.reports]
        receipt = await self._reports.store_inventory(current_device(), snapshots)
        return convert.inventory_response(receipt)

    async def Connect(
        self, request_iterator: AsyncIterator[pb.ConnectRequest], context: Context
    ) -> AsyncIterator[pb.ConnectResponse]:
        identity = current_device()
        stream = self._registry.open(identity.device_id)
        self._presence.seen(identity.device_id, self._clock())
        reader = asyncio.create_task(self._read(identity, request_iterator, stream))
        log.info("device %s connected", identity.device_id)
        try:
            while True:
                item = await stream.next()
                if isinstance(item, StreamEnd):
                    if item.error is not None:
                        raise item.error
                    if item.code is not None:
                        # Set, not abort: the agent may be gone already (shutdown, replaced
                        # stream), and aborting a finished call raises.
                        context.set_code(item.code)
                        context.set_details(item.message)
                    return
                if isinstance(item, PendingCommand):
                    try:
                        yield convert.command_message(item)
                        # Stored together with every other stream's mark of the moment.
                        await self._commands.mark_delivered([item.command_id])
                    finally:
                        stream.written(item.command_id)
                else:
                    yield item
        finally:
            reader.cancel()
            self._registry.release(stream)
            log.info("device %s disconnected", identity.device_id)

    async def _read(
        self,
        identity: DeviceIdentity,
        requests: AsyncIterator[pb.ConnectRequest],
        stream: AgentStream,
    ) -> None:
        """Handle what the agent sends; end the stream when it half-closes or on error."""
        try:
            async for request in requests:
                kind = request.WhichOneof("message")
                if kind == "heartbeat":
                    now = self._clock()
                    self._presence.seen(identity.device_id, now)
                    await stream.put_reply(convert.heartbeat_ack(request.heartbeat.sequence, now))
                elif kind == "command_ack":
                    ack = request.command_ack
                    await self._commands.acknowledge(
                        identity, ack.command_id, convert.ack_status(ack.status), ack.detail
                    )
                else:
                    raise InvalidArgument("a ConnectRequest must hold a heartbeat or an ack")
        except Exception as exc:
            stream.end(StreamEnd(error=exc))
        else:
            stream.end(StreamEnd())
