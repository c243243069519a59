"""Memory per open Connect stream: a bare grpc.aio echo server beside the collector.

N devices are enrolled once; then, for each server (``echo``: bench/echo_server.py, ``collector``:
``parc-server run``) and each set of gRPC server options (``before``: message limits and
keepalive only, as the collector had them; ``bounded``: ``server.api.options.SERVER_OPTIONS``),
a fresh server process is started and one client process opens N mutual-TLS Connect streams,
one connection each, as agents do. Each stream sends a heartbeat and waits for its ack, twice.
The server's RSS is read with a first tenth of the streams open and with all N open (after a
pause, so the process is at rest): the difference over the streams in between is the cost of
one stream, with the process's one-off costs left out. With ``--tracemalloc`` a second pass
reads the Python heap the same way (tracemalloc inflates RSS, so it is never the same pass),
which splits each stream's cost into what Python allocates and what gRPC core does.

    python -m bench.stream_memory [--streams 1000] [--servers echo,collector]
        [--variants before,bounded] [--option NAME=VALUE ...] [--tracemalloc] [--json FILE]

``--option`` adds a variant ``custom``: ``bounded`` plus the given grpc channel arguments, for
trying one at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import json
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import grpc
import psutil

from bench.fleet import DeviceCredentials, heartbeat, mtls_channel
from bench.report import Figure, emit
from bench.scenarios.agents import enrol_many
from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc
from server.api import options
from tests.e2e.processes import init_collector, start_collector, wait_for

SERVERS = ("echo", "collector")
Option = tuple[str, int]
VARIANTS: dict[str, tuple[Option, ...]] = {
    "before": options.SAFETY_OPTIONS,
    "bounded": options.SERVER_OPTIONS,
}
OPEN_CONCURRENCY = 100
SETTLE_S = 2.0
KiB = 1024


# --- the server side: run in a process of its own ---------------------------------------------


def _options_of(variant: str, extra: Sequence[Option]) -> tuple[Option, ...]:
    if variant == "custom":
        return tuple(dict([*options.SERVER_OPTIONS, *extra]).items())
    return VARIANTS[variant]


def _install_heap_probe(report: Path) -> None:
    """On SIGUSR1, write the Python heap now traced, and the sites that grew most since the
    previous probe, to ``report``."""
    tracemalloc.start(1)
    previous: list[tracemalloc.Snapshot] = []

    def probe(signum: int, frame: object) -> None:
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        grown = snapshot.compare_to(previous[0], "lineno")[:25] if previous else []
        previous[:] = [snapshot]
        report.write_text(
            json.dumps(
                {
                    "traced": tracemalloc.get_traced_memory()[0],
                    "top": [[str(s.traceback), s.size_diff, s.count_diff] for s in grown],
                }
            )
        )

    signal.signal(signal.SIGUSR1, probe)


def _install_trim(done: Path) -> None:
    """On SIGUSR2, collect garbage and give free heap back to the OS (glibc ``malloc_trim``),
    then write ``done``: what RSS keeps after that is memory in use, not free memory held."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))

    def trim(signum: int, frame: object) -> None:
        gc.collect()
        libc.malloc_trim(0)
        done.write_text("trimmed")

    signal.signal(signal.SIGUSR2, trim)


def serve(args: argparse.Namespace) -> None:
    server_options = _options_of(args.variant, args.option)
    _install_trim(args.heap_file.with_suffix(".trimmed"))
    if args.tracemalloc:
        _install_heap_probe(args.heap_file)
    if args.server == "echo":
        from bench.echo_server import serve as serve_echo

        asyncio.run(serve_echo(args.data_dir / "pki", args.port_file, server_options))
        return
    # The collector exactly as `parc-server run` starts it, with these server options.
    options.SERVER_OPTIONS = server_options
    from server.cli import main as server_main

    sys.exit(
        server_main(
            [
                "run",
                "--data-dir",
                str(args.data_dir),
                "--listen",
                "127.0.0.1:0",
                "--enroll-listen",
                "127.0.0.1:0",
                "--http-listen",
                "127.0.0.1:0",
            ]
        )
    )


# --- the client side --------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    server: str
    variant: str
    streams: int
    rss_base: int  # with the first streams open
    rss_full: int  # with every stream open
    per_stream: float  # bytes of RSS per stream beyond the first ones
    trimmed_per_stream: float | None  # the same after gc and malloc_trim (--trim)
    python_per_stream: float | None  # bytes of Python heap per stream (tracemalloc pass)
    heap_top: list[Any]


class OpenStream:
    """One device's connection and Connect call, kept open."""

    def __init__(self, address: str, device: DeviceCredentials) -> None:
        self.channel = mtls_channel(address, device)
        self.call = pb_grpc.AgentServiceStub(self.channel).Connect()
        self.sequence = 0

    async def beat(self) -> None:
        self.sequence += 1
        await self.call.write(heartbeat(self.sequence))
        reply = await self.call.read()
        if not isinstance(reply, pb.ConnectResponse):
            raise RuntimeError(f"the stream ended: {await self.call.code()}")

    async def upload(self, size: int) -> None:
        """One large request on this connection (an inventory is a few hundred KiB): buffers
        sized by the traffic are then in use, as on a collector that has run for a while.
        Both servers refuse it (an Enroll with a bogus token); the bytes went through anyway."""
        stub = pb_grpc.AgentServiceStub(self.channel)
        with contextlib.suppress(grpc.aio.AioRpcError):
            await stub.Enroll(pb.EnrollRequest(token="bench", csr_der=b"\x00" * size))

    async def close(self) -> None:
        self.call.cancel()
        await self.channel.close()


async def _open(
    address: str, devices: Sequence[DeviceCredentials], upload: int
) -> list[OpenStream]:
    slots = asyncio.Semaphore(OPEN_CONCURRENCY)

    async def one(device: DeviceCredentials) -> OpenStream:
        async with slots:
            stream = OpenStream(address, device)
            await stream.beat()
            if upload:
                await stream.upload(upload)
            return stream

    return list(await asyncio.gather(*(one(d) for d in devices)))


class ServerProcess:
    """A server started by this module's ``serve`` mode."""

    def __init__(
        self, server: str, variant: str, data_dir: Path, work: Path, extra: Sequence[Option]
    ) -> None:
        self.server = server
        self.heap_file = work / f"{server}-{variant}.heap.json"
        self.port_file = work / f"{server}-{variant}.port"
        self.log = work / f"{server}-{variant}.log"
        self.data_dir = data_dir
        self.heap_file.unlink(missing_ok=True)
        self.port_file.unlink(missing_ok=True)
        self.tracing = False
        self._command = [
            sys.executable,
            "-m",
            "bench.stream_memory",
            "serve",
            "--server",
            server,
            "--variant",
            variant,
            "--data-dir",
            str(data_dir),
            "--port-file",
            str(self.port_file),
            "--heap-file",
            str(self.heap_file),
            *[f"--option={name}={value}" for name, value in extra],
        ]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, tracing: bool) -> str:
        self.tracing = tracing
        self.port_file.unlink(missing_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self._command + (["--tracemalloc"] if tracing else []),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        proc = self.proc

        def address() -> str | None:
            if proc.poll() is not None:
                raise RuntimeError(f"the {self.server} exited: {self.log.read_text()[-2000:]}")
            if self.server == "echo":
                port = self.port_file.exists() and self.port_file.read_text()
                return f"127.0.0.1:{port}" if port else None
            run_file = self.data_dir / "run" / "collector.json"
            with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
                info = json.loads(run_file.read_text())
                if info.get("pid") == proc.pid:
                    return str(info["agent_address"])
            return None

        found: str = wait_for(address, 60, f"the {self.server} to listen")
        return found

    def rss(self) -> int:
        assert self.proc is not None
        return int(psutil.Process(self.proc.pid).memory_info().rss)

    async def trimmed_rss(self) -> int:
        assert self.proc is not None
        done = self.heap_file.with_suffix(".trimmed")
        done.unlink(missing_ok=True)
        self.proc.send_signal(signal.SIGUSR2)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while not done.exists():
            if loop.time() > deadline:
                raise RuntimeError("the server did not trim its heap")
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        return self.rss()

    async def heap(self) -> dict[str, Any]:
        assert self.proc is not None
        self.heap_file.unlink(missing_ok=True)
        self.proc.send_signal(signal.SIGUSR1)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while loop.time() < deadline:
            with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
                report: dict[str, Any] = json.loads(self.heap_file.read_text())
                return report
            await asyncio.sleep(0.1)
        raise RuntimeError("no heap report from the server")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Probe:
    rss: int
    trimmed: int | None = None
    heap: dict[str, Any] | None = None


async def _probe(server: ServerProcess, tracing: bool, trim: bool) -> Probe:
    await asyncio.sleep(SETTLE_S)
    probe = Probe(server.rss())
    if trim:
        probe.trimmed = await server.trimmed_rss()
    if tracing:
        probe.heap = await server.heap()
    return probe


async def _pass(
    server: ServerProcess,
    devices: Sequence[DeviceCredentials],
    *,
    tracing: bool,
    trim: bool,
    upload: int,
) -> tuple[Probe, Probe]:
    """Open a tenth of the streams, probe; open the rest, beat once more, probe."""
    address = server.start(tracing)
    first = max(1, len(devices) // 10)
    streams: list[OpenStream] = []
    try:
        streams += await _open(address, devices[:first], upload)
        base = await _probe(server, tracing, trim)
        streams += await _open(address, devices[first:], upload)
        await asyncio.gather(*(s.beat() for s in streams))
        full = await _probe(server, tracing, trim)
        return base, full
    finally:
        await asyncio.gather(*(s.close() for s in streams), return_exceptions=True)
        server.stop()


async def _measure(
    server: str,
    variant: str,
    data_dir: Path,
    work: Path,
    devices: Sequence[DeviceCredentials],
    *,
    tracing: bool,
    trim: bool,
    upload: int,
    extra: Sequence[Option],
) -> Measurement:
    process = ServerProcess(server, variant, data_dir, work, extra)
    base, full = await _pass(process, devices, tracing=False, trim=trim, upload=upload)
    opened_after = len(devices) - max(1, len(devices) // 10)
    trimmed: float | None = None
    if base.trimmed is not None and full.trimmed is not None:
        trimmed = (full.trimmed - base.trimmed) / opened_after
    python_per_stream: float | None = None
    top: list[Any] = []
    if tracing:
        base, full = await _pass(process, devices, tracing=True, trim=False, upload=upload)
        assert base.heap is not None and full.heap is not None
        python_per_stream = (full.heap["traced"] - base.heap["traced"]) / opened_after
        top = full.heap["top"][:15]
    return Measurement(
        server,
        variant,
        len(devices),
        base.rss,
        full.rss,
        (full.rss - base.rss) / opened_after,
        trimmed,
        python_per_stream,
        top,
    )


async def _enrol(data_dir: Path, count: int) -> list[DeviceCredentials]:
    collector = start_collector(data_dir)
    try:
        token = collector.create_token("Bench", "Memory", uses=count)
        enrolment = await enrol_many(
            collector.enroll_address, collector.ca_cert.read_bytes(), token, count
        )
    finally:
        collector.stop()
    if enrolment.errors:
        raise RuntimeError(f"enrolment failed: {enrolment.errors}")
    return enrolment.devices


def run(
    streams: int,
    servers: Sequence[str],
    variants: Sequence[str],
    *,
    tracing: bool = False,
    trim: bool = False,
    upload: int = 0,
    extra: Sequence[Option] = (),
) -> list[Measurement]:
    with tempfile.TemporaryDirectory(prefix="parc-stream-memory-") as tmp:
        work = Path(tmp)
        data_dir = work / "collector"
        init_collector(data_dir)
        devices = asyncio.run(_enrol(data_dir, streams))
        return [
            asyncio.run(
                _measure(
                    server,
                    variant,
                    data_dir,
                    work,
                    devices,
                    tracing=tracing,
                    trim=trim,
                    upload=upload,
                    extra=extra,
                )
            )
            for server in servers
            for variant in variants
        ]


def _figures(results: Sequence[Measurement]) -> list[Figure]:
    figures: list[Figure] = []
    for m in results:
        label = f"{m.server}, {m.variant} options"
        figures.append(Figure(f"{label}: RSS per stream", m.per_stream / KiB, "KiB"))
        if m.trimmed_per_stream is not None:
            figures.append(
                Figure(f"{label}: RSS per stream, heap trimmed", m.trimmed_per_stream / KiB, "KiB")
            )
        if m.python_per_stream is not None:
            figures.append(
                Figure(f"{label}: Python heap per stream", m.python_per_stream / KiB, "KiB")
            )
        figures.append(Figure(f"{label}: RSS with all streams", m.rss_full / 2**20, "MiB"))
    return figures


def _parse_option(text: str) -> Option:
    name, _, value = text.partition("=")
    if not name or not value:
        raise argparse.ArgumentTypeError("--option takes NAME=VALUE (an integer value)")
    return name, int(value)


def _names(text: str, allowed: Sequence[str]) -> list[str]:
    names = [n for n in text.split(",") if n]
    unknown = sorted(set(names) - set(allowed))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}")
    return names


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stream_memory", description=__doc__)
    sub = parser.add_subparsers(dest="mode")
    server = sub.add_parser("serve", help="(internal) run one server for a measurement")
    server.add_argument("--server", choices=SERVERS, required=True)
    server.add_argument("--variant", choices=[*VARIANTS, "custom"], required=True)
    server.add_argument("--data-dir", type=Path, required=True)
    server.add_argument("--port-file", type=Path, required=True)
    server.add_argument("--heap-file", type=Path, required=True)
    server.add_argument("--tracemalloc", action="store_true")
    server.add_argument("--option", type=_parse_option, action="append", default=[])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--servers", type=lambda t: _names(t, SERVERS), default=list(SERVERS))
    parser.add_argument(
        "--variants", type=lambda t: _names(t, [*VARIANTS, "custom"]), default=list(VARIANTS)
    )
    parser.add_argument("--option", type=_parse_option, action="append", default=[])
    parser.add_argument("--tracemalloc", action="store_true", help="also split Python / core")
    parser.add_argument("--trim", action="store_true", help="also RSS after gc + malloc_trim")
    parser.add_argument(
        "--upload",
        type=int,
        default=0,
        metavar="BYTES",
        help="send one request of this size on each connection first (e.g. 262144)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.mode == "serve":
        serve(args)
        return
    if args.streams < 2:
        parser.error("--streams must be at least 2")
    variants = args.variants + (["custom"] if args.option and "custom" not in args.variants else [])
    started = time.perf_counter()
    results = run(
        args.streams,
        args.servers,
        variants,
        tracing=args.tracemalloc,
        trim=args.trim,
        upload=args.upload,
        extra=args.option,
    )
    emit(
        f"Server memory per open mTLS Connect stream ({args.streams} streams, one connection "
        f"each{f', {args.upload} B uploaded on each' if args.upload else ''}; "
        f"{time.perf_counter() - started:.0f} s)",
        _figures(results),
        args.json,
    )
    if args.json is not None:
        detail = json.loads(args.json.read_text())
        detail["measurements"] = [asdict(m) for m in results]
        detail["options"] = {v: _options_of(v, args.option) for v in variants}
        args.json.write_text(json.dumps(detail, indent=2) + "\n")
    for m in results:
        if m.heap_top:
            print(
                f"\n  {m.server}, {m.variant}: Python allocation sites that grew with the streams"
            )
            for site, size, count in m.heap_top:
                print(f"    {size / KiB:10.1f} KiB {count:8d}  {site}")


if __name__ == "__main__":
    main()
