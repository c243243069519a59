"""Enrolment storm: N new agents enrol at once (50 at a time, each with its own key and CSR).

Goal: 10,000 within 5 minutes, i.e. at least 33.3 enrolments a second.
"""

from __future__ import annotations

from bench.loadgen import percentiles
from bench.report import Figure
from bench.scenarios.agents import enrol_many
from bench.scenarios.harness import ClientMeter, ProcessMeter, ScenarioRun
from bench.scenarios.result import GOAL_AGENTS, ScenarioResult, goal

GOAL_SECONDS = 300.0


async def run(scenario: ScenarioRun, agents: int, *, concurrency: int = 50) -> ScenarioResult:
    collector = scenario.collector
    token = collector.create_token("Bench", "Enrol", uses=agents)
    meter = ProcessMeter(collector.proc.pid)
    meter.start()
    client = ClientMeter()
    done = await enrol_many(
        collector.enroll_address, collector.ca_cert.read_bytes(), token, agents, concurrency
    )
    cores, client_cores = meter.cores(), client.cores()
    stored = scenario.scalar("SELECT count(*) FROM devices")
    rate = len(done.devices) / done.seconds if done.seconds > 0 else 0.0
    needed = GOAL_AGENTS / GOAL_SECONDS
    lat = percentiles(done.latencies)
    errors = sum(done.errors.values())
    figures = [
        Figure("agents enrolled", len(done.devices), "agents"),
        Figure("devices stored", stored, "devices"),
        Figure("enrolment storm took", done.seconds, "s"),
        goal(
            "enrolments per second",
            rate,
            "1/s",
            f">= {needed:.1f}/s (10k in 5 min)",
            rate >= needed,
        ),
        Figure("10,000 at this rate would take", GOAL_AGENTS / rate if rate else 0.0, "s"),
        Figure("enrol latency p50", lat.get("p50", 0.0), "ms"),
        Figure("enrol latency p99", lat.get("p99", 0.0), "ms"),
        goal("errors", errors, "errors", "0", errors == 0),
        Figure("collector CPU", cores, "cores"),
        Figure("load generator CPU (same machine)", client_cores, "cores"),
    ]
    return ScenarioResult(
        "enrol",
        f"Enrolment storm: {agents} new agents, {concurrency} at a time ({scenario.backend})",
        figures,
        {
            "agents": agents,
            "enrolled": len(done.devices),
            "devices_stored": stored,
            "seconds": done.seconds,
            "per_second": rate,
            "errors": done.errors,
            "collector_cores": cores,
            "generator_cores": client_cores,
        },
    )
