"""Reconnect storm: the collector restarts (SIGTERM, new process) with N agents connected.

Measures how long the old process takes to exit (it must exit 0), then how long until every
agent holds a stream again, and how many streams were re-opened and failed on the way (the
agents back off exponentially with full jitter from the agent's constants in
``agent.backoff``: 5 s doubling up to 60 s).
Goal: all back within 2 minutes without a flood of errors.
"""

from __future__ import annotations

import asyncio
import time

from bench.loadgen import LoadgenConfig
from bench.report import Figure
from bench.scenarios.agents import Fleet
from bench.scenarios.harness import ScenarioRun
from bench.scenarios.result import ScenarioResult, goal

GOAL_SECONDS = 120.0


async def run(
    scenario: ScenarioRun,
    agents: int,
    *,
    heartbeat_interval: float = 30.0,
    health_interval: float = 60.0,
    give_up_after: float = 300.0,
) -> ScenarioResult:
    collector = scenario.collector
    ramp = min(60.0, agents / 100)
    config = LoadgenConfig(
        server=collector.agent_address,
        enroll_server=collector.enroll_address,
        ca_cert=collector.ca_cert,
        token=collector.create_token("Bench", "Reconnect", uses=agents),
        agents=agents,
        duration=1,
        heartbeat_interval=heartbeat_interval,
        health_interval=health_interval,
        inventory_interval=1e9,
        ramp_up=ramp,
    )
    fleet = Fleet(config)
    fleet.start()
    try:
        await fleet.wait_connected(agents, within=ramp + 60 + agents / 10)
        fleet.begin_window()
        started = time.perf_counter()
        stop_s = await asyncio.to_thread(scenario.restart)
        ready_s = time.perf_counter() - started
        back_s = ready_s
        all_back = True
        try:
            await fleet.wait_connected(agents, within=give_up_after)
            back_s = time.perf_counter() - started
        except TimeoutError:
            all_back = False
            back_s = time.perf_counter() - started
        connected = fleet.connected
        counts, errors = fleet.window_counts(), fleet.window_errors()
    finally:
        await fleet.stop()
    reopened = counts["reconnects"]
    error_count = sum(errors.values())
    # Every stream ends once at the restart; more failures than that is the "flood".
    flood_limit = 3 * agents
    figures = [
        Figure("agents", agents, "agents"),
        goal("old collector exit after SIGTERM", stop_s, "s", "exit 0 within a few s", stop_s < 10),
        Figure("new collector listening after", ready_s, "s"),
        goal(
            "all agents back after (from SIGTERM)",
            back_s,
            "s",
            "< 120 s",
            all_back and back_s < GOAL_SECONDS,
        ),
        Figure("agents connected at the end", connected, "agents"),
        Figure("streams ended and re-opened", reopened, "streams"),
        goal(
            "errors seen by agents",
            error_count,
            "errors",
            f"<= {flood_limit} (3 per agent)",
            error_count <= flood_limit,
        ),
    ]
    figures.extend(Figure(f"errors: {name}", n, "errors") for name, n in sorted(errors.items()))
    return ScenarioResult(
        "reconnect",
        f"Reconnect storm: collector restarted with {agents} agents connected ({scenario.backend})",
        figures,
        {
            "agents": agents,
            "stop_s": stop_s,
            "ready_s": ready_s,
            "all_back": all_back,
            "back_s": back_s,
            "connected": connected,
            "reconnects": reopened,
            "errors": errors,
        },
    )
