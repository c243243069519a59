"""Inventory storm: N agents each send a full inventory (~700 packages) at once.

The agents enrol first (not timed); then every one sends its full inventory (hardware, OS,
software, licences) over its own mutual-TLS connection, ``concurrency`` in flight at a time.
Goal: at least 100 full inventories ingested per second.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import grpc

from bench.fleet import DeviceCredentials, mtls_channel
from bench.loadgen import LoadgenConfig, Machine, build_catalog, percentiles
from bench.report import Figure
from bench.scenarios.agents import enrol_many
from bench.scenarios.harness import ClientMeter, ProcessMeter, ScenarioRun
from bench.scenarios.result import ScenarioResult, goal
from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc

GOAL_PER_SECOND = 100.0


async def run(
    scenario: ScenarioRun, agents: int, *, packages: int = 700, concurrency: int = 32
) -> ScenarioResult:
    collector = scenario.collector
    token = collector.create_token("Bench", "Inventory", uses=agents)
    enrolment = await enrol_many(
        collector.enroll_address, collector.ca_cert.read_bytes(), token, agents
    )
    config = LoadgenConfig(
        server=collector.agent_address,
        enroll_server=collector.enroll_address,
        ca_cert=collector.ca_cert,
        token=token,
        agents=agents,
        duration=1,
        packages=packages,
    )
    catalog = build_catalog(max(50, packages * 2), config.seed)
    slots = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    accepted = 0

    async def send(index: int, device: DeviceCredentials) -> None:
        nonlocal accepted
        report = Machine(index, config, catalog).inventory()
        async with slots, mtls_channel(collector.agent_address, device) as channel:
            stub = pb_grpc.AgentServiceStub(channel)
            started = time.perf_counter()
            try:
                reply = await stub.ReportInventory(
                    pb.ReportInventoryRequest(reports=[report]), timeout=120
                )
            except grpc.aio.AioRpcError as exc:
                errors[f"inventory {exc.code().name}"] += 1
                return
            latencies.append(time.perf_counter() - started)
            accepted += len(reply.accepted_report_ids)

    meter = ProcessMeter(collector.proc.pid)
    meter.start()
    client = ClientMeter()
    started = time.perf_counter()
    await asyncio.gather(*(send(i, d) for i, d in enumerate(enrolment.devices)))
    elapsed = time.perf_counter() - started
    cores, client_cores = meter.cores(), client.cores()
    stored = scenario.scalar("SELECT count(*) FROM inventory_reports")
    links = scenario.scalar("SELECT count(*) FROM device_software")
    rate = stored / elapsed if elapsed > 0 else 0.0
    cpu_ms = 1000 * cores * elapsed / stored if stored else 0.0
    lat = percentiles(latencies)
    error_count = sum(errors.values()) + sum(enrolment.errors.values())
    figures = [
        Figure("agents", len(enrolment.devices), "agents"),
        Figure("packages per inventory", packages, "packages"),
        Figure("inventories stored", stored, "reports"),
        Figure("software links stored", links, "rows"),
        Figure("storm took", elapsed, "s"),
        goal("full inventories per second", rate, "1/s", ">= 100/s", rate >= GOAL_PER_SECOND),
        Figure("inventory latency p50", lat.get("p50", 0.0), "ms"),
        Figure("inventory latency p99", lat.get("p99", 0.0), "ms"),
        goal("errors", error_count, "errors", "0", error_count == 0),
        Figure("collector CPU", cores, "cores"),
        # CPU time per inventory: the figure that holds when the machine is shared.
        Figure("collector CPU per inventory", cpu_ms, "ms"),
        Figure("load generator CPU (same machine)", client_cores, "cores"),
    ]
    return ScenarioResult(
        "inventory",
        f"Inventory storm: {agents} full inventories of {packages} packages, "
        f"{concurrency} in flight ({scenario.backend})",
        figures,
        {
            "agents": agents,
            "packages": packages,
            "accepted": accepted,
            "stored": stored,
            "software_links": links,
            "seconds": elapsed,
            "per_second": rate,
            "errors": dict(errors) | enrolment.errors,
            "collector_cores": cores,
            "collector_cpu_ms_per_inventory": cpu_ms,
            "generator_cores": client_cores,
        },
    )
