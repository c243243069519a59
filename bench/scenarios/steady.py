"""Steady state: N connected agents, heartbeat every 30 s, health every 60 s, for a window.

The agents enrol and connect first (spread over ``ramp_up`` seconds); the measured window
starts once all of them hold a stream. Goals (at 10,000 agents): no errors, heartbeat p99
under 100 ms, collector CPU under one core, collector memory per connected agent under 100 KB.
"""

from __future__ import annotations

import asyncio

from bench.loadgen import LoadgenConfig
from bench.report import Figure
from bench.scenarios.agents import Fleet
from bench.scenarios.harness import ClientMeter, ProcessMeter, ScenarioRun
from bench.scenarios.result import ScenarioResult, goal, latency

KB = 1000


async def run(
    scenario: ScenarioRun,
    agents: int,
    *,
    duration: float = 120.0,
    heartbeat_interval: float = 30.0,
    health_interval: float = 60.0,
    ramp_up: float | None = None,
) -> ScenarioResult:
    collector = scenario.collector
    meter = ProcessMeter(collector.proc.pid)
    rss_before = meter.rss()
    ramp = ramp_up if ramp_up is not None else min(120.0, agents / 100)
    config = LoadgenConfig(
        server=collector.agent_address,
        enroll_server=collector.enroll_address,
        ca_cert=collector.ca_cert,
        token=collector.create_token("Bench", "Steady", uses=agents),
        agents=agents,
        duration=duration,
        heartbeat_interval=heartbeat_interval,
        health_interval=health_interval,
        inventory_interval=1e9,
        ramp_up=ramp,
    )
    fleet = Fleet(config)
    fleet.start()
    try:
        connect_s = await fleet.wait_connected(agents, within=ramp + 60 + agents / 10)
        fleet.begin_window()
        meter.start()
        client = ClientMeter()
        await asyncio.sleep(duration)
        cores, client_cores, rss_after = meter.cores(), client.cores(), meter.rss()
        counts, errors, lat = fleet.window_counts(), fleet.window_errors(), fleet.latency_ms()
        connected_at_end = fleet.connected
    finally:
        await fleet.stop()
    per_agent = max(0, rss_after - rss_before) / agents
    hb_p99 = latency(lat, "heartbeat")
    error_count = sum(errors.values())
    messages = counts["heartbeats_acked"] + counts["health_accepted"]
    per_message_ms = 1000 * cores * duration / messages if messages else 0.0
    figures = [
        Figure("agents connected at the end", connected_at_end, "agents"),
        Figure("enrol and connect (ramp-up)", connect_s, "s"),
        Figure("measured window", duration, "s"),
        Figure("heartbeats acked", counts["heartbeats_acked"] / duration, "1/s"),
        Figure("health reports accepted", counts["health_accepted"] / duration, "1/s"),
        # Every agent once per interval: accepted falls short of this when the collector lags.
        Figure("health reports due", agents / health_interval, "1/s"),
        Figure("heartbeat latency p50", latency(lat, "heartbeat", "p50"), "ms"),
        goal("heartbeat latency p99", hb_p99, "ms", "< 100 ms", hb_p99 < 100),
        Figure("health report latency p50", latency(lat, "health", "p50"), "ms"),
        Figure("health report latency p99", latency(lat, "health"), "ms"),
        goal("errors", error_count, "errors", "0", error_count == 0),
        goal("collector CPU", cores, "cores", "< 1 core", cores < 1.0),
        # Comparable between runs of different sizes, and less sensitive to a busy machine.
        Figure("collector CPU per message (heartbeat or health report)", per_message_ms, "ms"),
        Figure("collector RSS at the end", rss_after / 2**20, "MiB"),
        goal("collector memory per agent", per_agent / KB, "KB", "< 100 KB", per_agent < 100 * KB),
        Figure("load generator CPU (same machine)", client_cores, "cores"),
    ]
    figures.extend(Figure(f"errors: {name}", n, "errors") for name, n in sorted(errors.items()))
    return ScenarioResult(
        "steady",
        f"Steady state: {agents} agents, heartbeat {heartbeat_interval:g} s, "
        f"health {health_interval:g} s, {duration:g} s measured ({scenario.backend})",
        figures,
        {
            "agents": agents,
            "connected_at_end": connected_at_end,
            "duration_s": duration,
            "heartbeats_acked": counts["heartbeats_acked"],
            "health_accepted": counts["health_accepted"],
            "heartbeat_p99_ms": hb_p99,
            "errors": errors,
            "collector_cores": cores,
            "collector_cpu_per_message_ms": per_message_ms,
            "collector_rss_bytes": rss_after,
            "memory_per_agent_bytes": per_agent,
            "generator_cores": client_cores,
            "latency_ms": lat,
        },
    )
