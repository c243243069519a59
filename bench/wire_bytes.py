"""Bytes on the wire for one heartbeat and one health report, through the real collector.

A counting TCP proxy sits between a simulated device and the collector; the connection is set
up and warmed first (TLS handshake, HTTP/2 settings, stream opened), then exactly one heartbeat
(and its ack) and one ReportHealth call with one real health sample of this machine are sent,
and the bytes each way are read off the proxy's counters. TLS records, HTTP/2 frames and gRPC
framing are all included. The protobuf payload sizes are printed beside.

    python bench/wire_bytes.py [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from bench.fleet import enroll, heartbeat, mtls_channel
from bench.report import Figure, emit
from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc
from tests.e2e.processes import init_collector, start_collector


@dataclass
class Counters:
    up: int = 0
    down: int = 0


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: Counters, upstream: bool
) -> None:
    try:
        while data := await reader.read(65536):
            if upstream:
                count.up += len(data)
            else:
                count.down += len(data)
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def _proxy(target_port: int, count: Counters) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
        try:
            await asyncio.gather(
                _pipe(reader, up_writer, count, upstream=True),
                _pipe(up_reader, writer, count, upstream=False),
                return_exceptions=True,
            )
        except asyncio.CancelledError:
            # The benchmark is over and its event loop is closing: drop the connection quietly.
            writer.close()
            up_writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def _health_report() -> pb.HealthReport:
    """One real health sample of this machine, exactly as the agent builds it."""
    from agent.collectors.health import HealthCollector
    from agent.collectors.system import PsutilProbe
    from agent.platform import current_platform
    from agent.wire.health import health_report

    collector = HealthCollector(current_platform(), PsutilProbe())
    return health_report(collector.collect(), report_id=str(uuid.uuid4()))


async def _settle(count: Counters) -> tuple[int, int]:
    await asyncio.sleep(0.5)
    return count.up, count.down


async def _measure() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="parc-bench-") as tmp:
        data_dir = Path(tmp) / "collector"
        init_collector(data_dir)
        collector = start_collector(data_dir)
        try:
            device = await enroll(
                collector.enroll_address, collector.ca_cert.read_bytes(), collector.create_token()
            )
            count = Counters()
            port = int(collector.agent_address.rsplit(":", 1)[1])
            proxy = await _proxy(port, count)
            proxy_port = proxy.sockets[0].getsockname()[1]
            queue: asyncio.Queue[pb.ConnectRequest] = asyncio.Queue()

            async def requests() -> AsyncIterator[pb.ConnectRequest]:
                while True:
                    yield await queue.get()

            report = _health_report()
            async with mtls_channel(f"127.0.0.1:{proxy_port}", device) as channel:
                stub = pb_grpc.AgentServiceStub(channel)
                call = stub.Connect(requests())
                await queue.put(heartbeat(1))
                await call.read()  # warm: handshake, settings, stream open
                warm = pb.HealthReport()
                warm.CopyFrom(report)
                warm.report_id = str(uuid.uuid4())
                await stub.ReportHealth(pb.ReportHealthRequest(reports=[warm]))
                up0, down0 = await _settle(count)
                await queue.put(heartbeat(2))
                await call.read()
                up1, down1 = await _settle(count)
                request = pb.ReportHealthRequest(reports=[report])
                await stub.ReportHealth(request)
                up2, down2 = await _settle(count)
                call.cancel()
            proxy.close()
            hb_payload = heartbeat(2).ByteSize()
            return [
                Figure("heartbeat: protobuf payload", hb_payload, "bytes"),
                Figure("heartbeat: bytes up on the wire (TLS)", up1 - up0, "bytes"),
                Figure("heartbeat ack: bytes down on the wire (TLS)", down1 - down0, "bytes"),
                Figure("health report: protobuf payload", request.ByteSize(), "bytes"),
                Figure("health report: bytes up on the wire (TLS)", up2 - up1, "bytes"),
                Figure("health report reply: bytes down on the wire", down2 - down1, "bytes"),
                Figure("filesystems in the health report", len(report.filesystems), "count"),
            ]
        finally:
            collector.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    emit(
        "Bytes on the wire (mutual TLS, through a counting proxy)",
        asyncio.run(_measure()),
        args.json,
    )


if __name__ == "__main__":
    main()
