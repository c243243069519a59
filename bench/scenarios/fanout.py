"""Command fan-out: one command queued for every one of N connected agents at once.

The commands are inserted in one transaction by another process (as a dashboard action on
another collector would); the collector notices them (its watcher polls every second),
writes each to its agent's stream, and stores each acknowledgement. The agents here
acknowledge on receipt (``PromptAgent``). Measured: from the commit until every command is
stored as acknowledged. Goal: all 10,000 acks within 10 seconds.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, text

from bench.loadgen import LoadgenConfig
from bench.report import Figure
from bench.scenarios.agents import Fleet, PromptAgent
from bench.scenarios.harness import ClientMeter, ProcessMeter, ScenarioRun
from bench.scenarios.result import ScenarioResult, goal
from server.store.models import CommandRow

GOAL_SECONDS = 10.0


def queue_for_all(scenario: ScenarioRun) -> int:
    """Queue one send-inventory command for every device, in one transaction."""
    now = datetime.now(UTC)
    with scenario.database().begin() as connection:
        devices = [row[0] for row in connection.execute(text("SELECT id FROM devices"))]
        rows: list[dict[str, Any]] = [
            {
                "id": str(uuid.uuid4()),
                "device_id": device,
                "kind": "send_inventory",
                "payload": b"",
                "created_at": now,
                "delivered_at": None,
                "acked_at": None,
                "status": "queued",
                "detail": "",
            }
            for device in devices
        ]
        connection.execute(insert(CommandRow), rows)
    return len(rows)


async def run(
    scenario: ScenarioRun, agents: int, *, give_up_after: float = 120.0
) -> ScenarioResult:
    collector = scenario.collector
    ramp = min(60.0, agents / 100)
    config = LoadgenConfig(
        server=collector.agent_address,
        enroll_server=collector.enroll_address,
        ca_cert=collector.ca_cert,
        token=collector.create_token("Bench", "Fanout", uses=agents),
        agents=agents,
        duration=1,
        inventory_interval=1e9,
        ramp_up=ramp,
    )
    fleet = Fleet(config, PromptAgent)
    fleet.start()
    try:
        await fleet.wait_connected(agents, within=ramp + 60 + agents / 10)
        meter = ProcessMeter(collector.proc.pid)
        queued = await asyncio.to_thread(queue_for_all, scenario)
        meter.start()
        client = ClientMeter()
        started = time.perf_counter()
        delivered_s = acked_s = None
        acked = 0
        while time.perf_counter() - started < give_up_after:
            await asyncio.sleep(0.2)
            delivered, acked = await asyncio.to_thread(_progress, scenario)
            if delivered_s is None and delivered >= queued:
                delivered_s = time.perf_counter() - started
            if acked >= queued:
                acked_s = time.perf_counter() - started
                break
        cores, client_cores = meter.cores(), client.cores()
        rss = meter.rss()
    finally:
        await fleet.stop()
    all_acked = acked_s is not None
    elapsed = acked_s if acked_s is not None else time.perf_counter() - started
    figures = [
        Figure("agents connected", agents, "agents"),
        Figure("commands queued (one transaction)", queued, "commands"),
        Figure("all delivered after", delivered_s or 0.0, "s"),
        goal(
            "all acknowledged after", elapsed, "s", "<= 10 s", all_acked and elapsed <= GOAL_SECONDS
        ),
        Figure("acknowledgements stored", acked, "commands"),
        Figure("acks per second", acked / elapsed if elapsed > 0 else 0.0, "1/s"),
        Figure("collector CPU", cores, "cores"),
        Figure("collector RSS at the end", rss / 2**20, "MiB"),
        Figure("collector memory per agent (RSS / agents)", rss / agents / 1024, "KiB"),
        Figure("load generator CPU (same machine)", client_cores, "cores"),
    ]
    return ScenarioResult(
        "fanout",
        f"Command fan-out: one command for each of {agents} connected agents ({scenario.backend})",
        figures,
        {
            "agents": agents,
            "queued": queued,
            "acked": acked,
            "all_acked": all_acked,
            "delivered_s": delivered_s,
            "acked_s": elapsed,
            "collector_cores": cores,
            "collector_rss_bytes": rss,
            "generator_cores": client_cores,
        },
    )


def _progress(scenario: ScenarioRun) -> tuple[int, int]:
    with scenario.database().connect() as connection:
        row = connection.execute(
            text("SELECT count(delivered_at), count(acked_at) FROM commands")
        ).one()
    return int(row[0]), int(row[1])
