"""What every scenario needs: a fresh collector process, its database, and measurements of it.

``fresh_collector`` initialises a new collector folder (and, for PostgreSQL, a database of its
own, dropped afterwards) and starts ``parc-server run`` as a separate process with the helpers
of ``tests.e2e.processes``. The scenario itself (the simulated fleet) runs in the calling
process, so the collector's CPU and memory are measured apart from the load generator's.
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from server.store.database import resolve_database_url, sync_url
from tests.e2e.processes import Collector, init_collector, start_collector

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/"
BACKENDS = ("sqlite", "postgres")
MiB = 2**20


@dataclass
class ScenarioRun:
    """A running collector for one scenario, and where its data lives."""

    collector: Collector
    backend: str
    database_url: str | None
    exit_code: int | None = None  # the collector's, once stopped at the end
    _engine: Engine | None = None

    def database(self) -> Engine:
        """A synchronous engine on the collector's database (for the scenario's own reads and
        for queuing commands as another process would)."""
        if self._engine is None:
            url = sync_url(resolve_database_url(self.collector.data_dir, self.database_url))
            args = {"timeout": 30} if url.get_backend_name() == "sqlite" else {}
            self._engine = create_engine(url, poolclass=NullPool, connect_args=args)
        return self._engine

    def scalar(self, sql: str) -> int:
        with self.database().connect() as connection:
            return int(connection.execute(text(sql)).scalar_one())

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def restart(self) -> float:
        """Stop the collector (SIGTERM) and start a new process on the same ports.

        Returns how long the old process took to exit; raises if it did not exit with 0.
        """
        old = self.collector
        started = time.perf_counter()
        code = old.stop()
        stopped_in = time.perf_counter() - started
        if code != 0:
            raise RuntimeError(f"the collector exited with {code} on SIGTERM:\n{old.log()[-4000:]}")
        agent_port = int(old.agent_address.rsplit(":", 1)[1])
        enroll_port = int(old.enroll_address.rsplit(":", 1)[1])
        self.collector = start_collector(old.data_dir, agent_port, enroll_port)
        return stopped_in


@dataclass
class ProcessMeter:
    """CPU and memory of one process over a measured window."""

    pid: int
    _process: psutil.Process = field(init=False)
    _cpu0: float = 0.0
    _wall0: float = 0.0

    def __post_init__(self) -> None:
        self._process = psutil.Process(self.pid)

    def start(self) -> None:
        self._cpu0 = _cpu_seconds(self._process)
        self._wall0 = time.perf_counter()

    def cores(self) -> float:
        """Average cores used since ``start``."""
        wall = time.perf_counter() - self._wall0
        return (_cpu_seconds(self._process) - self._cpu0) / wall if wall > 0 else 0.0

    def rss(self) -> int:
        return int(self._process.memory_info().rss)


class ClientMeter:
    """CPU of this process (the load generator) over a window."""

    def __init__(self) -> None:
        self._cpu0 = time.process_time()
        self._wall0 = time.perf_counter()

    def cores(self) -> float:
        wall = time.perf_counter() - self._wall0
        return (time.process_time() - self._cpu0) / wall if wall > 0 else 0.0


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def raise_open_file_limit() -> None:
    """One socket per simulated agent, on both sides: take the hard limit (inherited by the
    collector process started afterwards)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@contextlib.contextmanager
def _postgres_database(base_url: str) -> Iterator[str]:
    import psycopg

    name = f"parc_scen_{uuid.uuid4().hex[:10]}"
    admin = base_url.rstrip("/") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base_url.rstrip("/") + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def fresh_collector(
    backend: str = "sqlite", postgres_url: str = POSTGRES_URL
) -> Iterator[ScenarioRun]:
    """A newly initialised collector process on free loopback ports, stopped afterwards."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}")
    raise_open_file_limit()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="parc-scenario-")))
        database_url = None
        if backend == "postgres":
            database_url = stack.enter_context(_postgres_database(postgres_url))
        previous = os.environ.get("PARC_DATABASE_URL")
        # The collector and every `parc-server` command of the scenario use this database.
        if database_url is not None:
            os.environ["PARC_DATABASE_URL"] = database_url
        else:
            os.environ.pop("PARC_DATABASE_URL", None)
        try:
            data_dir = tmp / "collector"
            init_collector(data_dir)
            run = ScenarioRun(start_collector(data_dir), backend, database_url)
            try:
                yield run
            finally:
                run.close()
                run.exit_code = run.collector.stop()
                if run.exit_code != 0:
                    # Reported with the figures (not raised: they would be lost).
                    print(f"collector log tail:\n{run.collector.log()[-3000:]}", file=sys.stderr)
        finally:
            if previous is None:
                os.environ.pop("PARC_DATABASE_URL", None)
            else:
                os.environ["PARC_DATABASE_URL"] = previous


def machine_facts() -> dict[str, Any]:
    """The machine a run happened on: CPU model, cores, memory, Python, OS."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "cores": psutil.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }
