"""Printing benchmark figures: a table on stdout, optionally JSON, each figure with its command."""

from __future__ import annotations

import json
import platform
import shlex
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True)
class Figure:
    """One measured number."""

    name: str
    value: float
    unit: str
    goal: str = ""
    verdict: str = ""


def this_command() -> str:
    """The command line that is running, to print beside its figures."""
    main = sys.modules["__main__"]
    spec = getattr(main, "__spec__", None)
    program = ["-m", spec.name] if spec is not None else [sys.argv[0]]
    return shlex.join([".venv/bin/python", *program, *sys.argv[1:]])


def machine() -> str:
    freq = psutil.cpu_freq()
    mhz = f", {freq.max or freq.current:.0f} MHz" if freq else ""
    mem_gib = psutil.virtual_memory().total / 2**30
    return (
        f"{platform.node()}: {platform.system()} {platform.release()}, "
        f"{psutil.cpu_count()} CPUs{mhz}, {mem_gib:.0f} GiB, Python {platform.python_version()}"
    )


def emit(title: str, figures: Sequence[Figure], json_path: Path | None) -> None:
    """Print the figures as a table (and write them as JSON when asked)."""
    command = this_command()
    width = max(len(f.name) for f in figures)
    print(f"\n{title}\n  command: {command}\n  machine: {machine()}\n")
    print(f"  {'figure':<{width}}  {'value':>12}  unit       goal")
    for f in figures:
        goal = f"{f.goal} {f.verdict}".strip()
        print(f"  {f.name:<{width}}  {f.value:>12.2f}  {f.unit:<9}  {goal}")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "title": title,
            "command": command,
            "machine": machine(),
            "figures": [asdict(f) for f in figures],
        }
        json_path.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"\n  wrote {json_path}")


def verdict(ok: bool) -> str:
    return "(met)" if ok else "(NOT met)"
