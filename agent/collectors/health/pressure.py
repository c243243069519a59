"""Linux memory pressure (PSI, /proc/pressure/memory) and OOM kills (/proc/vmstat oom_kill).

PSI lines (Documentation/accounting/psi.rst)::

    some avg10=0.00 avg60=0.00 avg300=0.00 total=0
    full avg10=0.00 avg60=0.00 avg300=0.00 total=0
"""

from __future__ import annotations

import math
from pathlib import Path

from agent.collectors.health.records import PressureStall
from agent.collectors.health.signals import ParseError, SignalUnavailable
from agent.collectors.health.sysfs import read_attribute


def _averages(fields: list[str]) -> tuple[float, float, float]:
    found: dict[str, float] = {}
    for item in fields:
        key, sep, value = item.partition("=")
        if not sep:
            raise ParseError(f"PSI field without '=': {item!r}")
        try:
            number = float(value)
        except ValueError as exc:
            raise ParseError(f"PSI field {key} is not a number: {value!r}") from exc
        if not math.isfinite(number) or number < 0:
            raise ParseError(f"PSI field {key} is out of range: {value!r}")
        found[key] = number
    try:
        return (found["avg10"], found["avg60"], found["avg300"])
    except KeyError as exc:
        raise ParseError(f"PSI line lacks {exc.args[0]}") from exc


def parse_psi(text: str) -> PressureStall:
    """The averages of a PSI file; "full" is 0 where the kernel has none (CPU before 5.13)."""
    lines: dict[str, tuple[float, float, float]] = {}
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] not in ("some", "full"):
            raise ParseError(f"unexpected PSI line: {line[:80]!r}")
        lines[fields[0]] = _averages(fields[1:])
    if "some" not in lines:
        raise ParseError("PSI text has no 'some' line")
    full = lines.get("full", (0.0, 0.0, 0.0))
    return PressureStall(*lines["some"], *full)


def parse_oom_kills(vmstat: str) -> int | None:
    """The ``oom_kill`` counter of /proc/vmstat text; None when the kernel has none (< 4.13)."""
    for line in vmstat.splitlines():
        name, _, value = line.partition(" ")
        if name == "oom_kill":
            try:
                count = int(value.strip())
            except ValueError as exc:
                raise ParseError(f"oom_kill is not an integer: {value[:40]!r}") from exc
            if count < 0:
                raise ParseError("oom_kill is negative")
            return count
    return None


class MemoryPressure:
    """Memory PSI from ``proc_root/pressure/memory``."""

    signal = "memory_pressure"

    def __init__(self, proc_root: Path = Path("/proc")) -> None:
        self._path = proc_root / "pressure" / "memory"

    def read(self) -> PressureStall:
        text = read_attribute(self._path)
        if text is None:
            raise SignalUnavailable(
                "kernel exposes no pressure stall information "
                "(needs Linux 4.20+ with CONFIG_PSI, or psi=1 on the kernel command line)"
            )
        return parse_psi(text)


class OomKills:
    """OOM kills since boot from ``proc_root/vmstat``."""

    signal = "oom_kills"

    def __init__(self, proc_root: Path = Path("/proc")) -> None:
        self._path = proc_root / "vmstat"

    def read(self) -> int:
        text = read_attribute(self._path)
        if text is None:
            raise SignalUnavailable("/proc/vmstat is not readable")
        count = parse_oom_kills(text)
        if count is None:
            raise SignalUnavailable("kernel does not count OOM kills (needs Linux 4.13+)")
        return count
