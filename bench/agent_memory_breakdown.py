"""Where the agent's resident memory goes: RSS of successively larger Python processes on this
machine, each a fresh interpreter from this project's environment, read after it settles.

1. the interpreter alone;
2. + asyncio (which loads ssl);
3. + a grpc.aio mutual-TLS channel to a real collector, connected, after one RPC;
4. + psutil, APScheduler and the parc.v1 stubs (the agent's other libraries), same channel;
5. the agent itself (`parc-agent run`), 20 s after start.

It shows how much of the agent's footprint is the chosen runtime (CPython, grpcio, asyncio,
APScheduler) before any Parc code runs.

    python -m bench.agent_memory_breakdown [--json FILE]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

from bench.report import Figure, emit
from tests.e2e.processes import enroll_agent, init_collector, running, start_collector, wait_for

SETTLE_S = 20.0

CLIENT = textwrap.dedent(
    """
    import asyncio, sys, time
    {extra}
    import grpc
    from agent.address import parse_address
    from agent.channel import mtls_channel
    from agent.identity import load_identity
    from agent.state import StatePaths
    from parc.v1 import agent_service_pb2 as pb, agent_service_pb2_grpc as pb_grpc

    async def main():
        identity = load_identity(StatePaths(__import__("pathlib").Path(sys.argv[1])))
        channel = mtls_channel(parse_address(sys.argv[2]), ca_pem=identity.ca_pem,
                               key_pem=identity.key_pem, cert_pem=identity.cert_pem)
        await pb_grpc.AgentServiceStub(channel).ReportHealth(pb.ReportHealthRequest())
        print("ready", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


def _rss_of(code: str, *args: str) -> int:
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(2)
        return int(psutil.Process(proc.pid).memory_info().rss)
    finally:
        proc.kill()
        proc.wait()


def measure() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="parc-bench-") as tmp:
        data_dir = Path(tmp) / "collector"
        init_collector(data_dir)
        collector = start_collector(data_dir)
        try:
            agent = enroll_agent(collector, Path(tmp) / "agent", collector.create_token())
            state, address = str(agent.state_dir), collector.agent_address
            bare = _rss_of("print('ready', flush=True); import time; time.sleep(60)")
            with_asyncio = _rss_of(
                "import asyncio; print('ready', flush=True); asyncio.run(asyncio.sleep(60))"
            )
            grpc_client = _rss_of(CLIENT.format(extra=""), state, address)
            libraries = _rss_of(
                CLIENT.format(extra="import psutil, apscheduler.schedulers.asyncio"), state, address
            )
            with running(agent, address):
                assert agent.proc is not None
                wait_for(
                    lambda: (d := collector.device(agent.device_id)) and d["online"],
                    60,
                    "the agent to report",
                )
                time.sleep(SETTLE_S)
                whole = int(psutil.Process(agent.proc.pid).memory_info().rss)
        finally:
            collector.stop()
    return [
        Figure("python interpreter alone", bare / 1e6, "MB"),
        Figure("+ asyncio (and ssl)", with_asyncio / 1e6, "MB"),
        Figure("+ grpc.aio mTLS channel, one RPC done", grpc_client / 1e6, "MB"),
        Figure("+ psutil, APScheduler (the agent's other libraries)", libraries / 1e6, "MB"),
        Figure("the agent (parc-agent run)", whole / 1e6, "MB", "<= 45 MB"),
        Figure("the agent beyond its libraries", (whole - libraries) / 1e6, "MB"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    emit("Agent resident memory, built up layer by layer", measure(), args.json)


if __name__ == "__main__":
    main()
