"""What a scenario returns: its figures (each with its goal and verdict) and raw fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.report import Figure, verdict

GOAL_AGENTS = 10_000  # the goals are stated for a fleet of this size


@dataclass
class ScenarioResult:
    scenario: str
    title: str
    figures: list[Figure]
    data: dict[str, Any] = field(default_factory=dict)


def goal(name: str, value: float, unit: str, text: str, ok: bool) -> Figure:
    return Figure(name, value, unit, goal=text, verdict=verdict(ok))


def latency(latencies: dict[str, dict[str, float]], kind: str, rank: str = "p99") -> float:
    return latencies.get(kind, {}).get(rank, 0.0)
