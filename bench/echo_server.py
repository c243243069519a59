"""A bare grpc.aio server with the collector's mutual-TLS setup that only acknowledges heartbeats.

It is the baseline for bench/heartbeat_throughput.py: same messages, same TLS, same options,
but no authentication lookup, no store and no stream registry.

    python bench/echo_server.py --pki-dir DATA/pki --port-file FILE
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc
from server.api.options import SERVER_OPTIONS


class EchoAgentService(pb_grpc.AgentServiceServicer):
    """Acknowledges heartbeats; every other method is unimplemented here."""

    async def _unimplemented(self, context: grpc.aio.ServicerContext[Any, Any]) -> NoReturn:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "the echo server only acks heartbeats")

    async def Enroll(
        self, request: pb.EnrollRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.EnrollResponse:
        await self._unimplemented(context)

    async def RenewCertificate(
        self, request: pb.RenewCertificateRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.RenewCertificateResponse:
        await self._unimplemented(context)

    async def ReportHealth(
        self, request: pb.ReportHealthRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ReportHealthResponse:
        await self._unimplemented(context)

    async def ReportInventory(
        self, request: pb.ReportInventoryRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ReportInventoryResponse:
        await self._unimplemented(context)

    async def Connect(
        self,
        request_iterator: AsyncIterator[pb.ConnectRequest],
        context: grpc.aio.ServicerContext[pb.ConnectRequest, pb.ConnectResponse],
    ) -> AsyncIterator[pb.ConnectResponse]:
        async for request in request_iterator:
            now = Timestamp()
            now.GetCurrentTime()
            yield pb.ConnectResponse(
                heartbeat_ack=pb.HeartbeatAck(sequence=request.heartbeat.sequence, server_time=now)
            )


async def serve(
    pki_dir: Path, port_file: Path, options: Sequence[tuple[str, int]] = SERVER_OPTIONS
) -> None:
    server = grpc.aio.server(options=options)
    pb_grpc.add_AgentServiceServicer_to_server(EchoAgentService(), server)
    creds = grpc.ssl_server_credentials(
        [((pki_dir / "server.key").read_bytes(), (pki_dir / "server.crt").read_bytes())],
        root_certificates=(pki_dir / "ca.crt").read_bytes(),
        require_client_auth=True,
    )
    port = server.add_secure_port("127.0.0.1:0", creds)
    await server.start()
    await asyncio.to_thread(port_file.write_text, str(port))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    await server.stop(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pki-dir", type=Path, required=True)
    parser.add_argument("--port-file", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.pki_dir, args.port_file))


if __name__ == "__main__":
    main()
