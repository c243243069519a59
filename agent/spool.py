"""A bounded, persistent queue of reports waiting for the collector (SQLite, WAL).

Reports are spooled first and sent afterwards, oldest first; an item leaves the spool only
when the collector's response lists its report id (at-least-once delivery; the collector
stores each id once). When the spool holds more than its bound, the oldest health samples
are dropped first and inventories last.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

ReportKind = Literal["health", "inventory"]
KINDS: tuple[ReportKind, ...] = ("health", "inventory")
# Dropped first when the spool is full.
EVICTION_ORDER: tuple[ReportKind, ...] = ("health", "inventory")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('health', 'inventory')),
    report_id TEXT NOT NULL UNIQUE,
    payload BLOB NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS items_kind_seq ON items (kind, seq);
"""


@dataclass(frozen=True, slots=True)
class SpooledReport:
    """One report waiting in the spool."""

    seq: int
    kind: ReportKind
    report_id: str
    payload: bytes
    created: float


class Spool:
    """The report queue in one SQLite file. Use from one thread (the agent's event loop)."""

    def __init__(
        self,
        path: Path,
        *,
        max_reports: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_reports < 1:
            raise ValueError("max_reports must be at least 1")
        self.path = path
        self.max_reports = max_reports
        self._clock = clock
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def put(self, kind: ReportKind, report_id: str, payload: bytes) -> int:
        """Adds a report at the end of the queue; returns how many old reports were dropped."""
        if kind not in KINDS:
            raise ValueError(f"unknown report kind {kind!r}")
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR IGNORE INTO items (kind, report_id, payload, created)"
                " VALUES (?, ?, ?, ?)",
                (kind, report_id, payload, self._clock()),
            )
            dropped = self._evict()
        if dropped:
            log.warning(
                "spool full (%d reports max): dropped %s",
                self.max_reports,
                ", ".join(f"{n} oldest {k}" for k, n in dropped.items() if n),
            )
        return sum(dropped.values())

    def _evict(self) -> dict[ReportKind, int]:
        (count,) = self._db.execute("SELECT COUNT(*) FROM items").fetchone()
        excess = int(count) - self.max_reports
        dropped: dict[ReportKind, int] = {}
        for kind in EVICTION_ORDER:
            if excess <= 0:
                break
            cursor = self._db.execute(
                "DELETE FROM items WHERE seq IN"
                " (SELECT seq FROM items WHERE kind = ? ORDER BY seq LIMIT ?)",
                (kind, excess),
            )
            dropped[kind] = cursor.rowcount
            excess -= cursor.rowcount
        return dropped

    def next_batch(self, limit: int = 100) -> list[SpooledReport]:
        """The oldest report and the reports of its kind that follow it directly."""
        rows = self._db.execute(
            "SELECT seq, kind, report_id, payload, created FROM items ORDER BY seq LIMIT ?",
            (limit,),
        ).fetchall()
        batch: list[SpooledReport] = []
        for seq, kind, report_id, payload, created in rows:
            if batch and kind != batch[0].kind:
                break
            batch.append(SpooledReport(seq, kind, report_id, bytes(payload), created))
        return batch

    def delete(self, report_ids: Iterable[str]) -> int:
        """Removes the reports with these ids (those the collector acknowledged)."""
        ids = list(report_ids)
        deleted = 0
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                cursor = self._db.execute(
                    f"DELETE FROM items WHERE report_id IN ({marks})",  # noqa: S608 - only "?"s
                    chunk,
                )
                deleted += cursor.rowcount
        return deleted

    def depth(self) -> dict[ReportKind, int]:
        """How many reports of each kind are waiting."""
        return _depth(self._db)

    def __len__(self) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM items").fetchone()
        return int(count)


def _depth(db: sqlite3.Connection) -> dict[ReportKind, int]:
    counts: dict[ReportKind, int] = dict.fromkeys(KINDS, 0)
    for kind, count in db.execute("SELECT kind, COUNT(*) FROM items GROUP BY kind"):
        if kind in counts:
            counts[kind] = int(count)
    return counts


def read_depth(path: Path) -> dict[ReportKind, int] | None:
    """The depth of a spool file without changing it; None when there is no spool yet."""
    if not path.exists():
        return None
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return _depth(db)
    except sqlite3.Error:
        return None
    finally:
        db.close()
