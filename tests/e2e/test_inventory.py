"""End to end: the full inventory of this machine reaches the store; a requested inventory
comes back in full; an unchanged one goes as hashes alone."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.processes import (
    Collector,
    enroll_agent,
    init_collector,
    running,
    start_collector,
    wait_for,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    data_dir = tmp_path / "collector"
    init_collector(data_dir)
    started = start_collector(data_dir)
    yield started
    assert started.stop() == 0, started.log()


def show(collector: Collector, device_id: str) -> dict[str, Any]:
    details: dict[str, Any] = json.loads(
        collector.cli("device", "show", device_id, "--json").stdout
    )
    return details


def rows(collector: Collector, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(collector.data_dir / "parc.db") as db:
        return db.execute(sql, params).fetchall()


def test_full_inventory_lands_and_a_requested_one_is_acknowledged(
    collector: Collector, tmp_path: Path
) -> None:
    agent = enroll_agent(collector, tmp_path / "agent", collector.create_token())
    with running(agent, collector.agent_address, "--heartbeat-interval", "1"):
        details = wait_for(
            lambda: (d := show(collector, agent.device_id))["software_count"] > 0 and d,
            60,
            "the first inventory with software",
        )
        sections = {s["section"]: s["content_hash"] for s in details["sections"]}
        assert set(sections) == {"hardware", "software", "licences"}
        assert all(len(h) == 64 for h in sections.values())
        assert details["inventory"]["os_family"] == "linux"
        assert details["inventory"]["form_factor"] != ""
        assert details["software_count"] == len(details["software"])
        # This machine has dpkg: its packages carry the deb source and declared licences.
        assert {p["source"] for p in details["software"]} >= {"deb"}
        assert any(p["spdx"] for p in details["licences"]["packages"])
        first_reports = len(rows(collector, "SELECT report_id FROM inventory_reports"))

        collector.cli("device", "request-inventory", agent.device_id)
        wait_for(
            lambda: rows(collector, "SELECT status FROM commands") == [("succeeded",)],
            60,
            "the SEND_INVENTORY command to be acknowledged",
        )
        assert len(rows(collector, "SELECT report_id FROM inventory_reports")) > first_reports
        again = show(collector, agent.device_id)
        # Same machine, same content: the section hashes did not move.
        assert {s["section"]: s["content_hash"] for s in again["sections"]} == sections
        assert again["software_count"] == details["software_count"]
