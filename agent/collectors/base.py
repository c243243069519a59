"""The collector protocol, and the guard that keeps a failing collector from stopping the agent."""

from __future__ import annotations

import logging
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)

T_co = TypeVar("T_co", covariant=True)
T = TypeVar("T")


class Collector(Protocol[T_co]):
    """Something that reads one concern of the machine (health, inventory, ...)."""

    @property
    def name(self) -> str: ...

    def is_supported(self) -> bool:
        """False when this collector cannot work on this machine; it is then never called."""
        ...

    def collect(self) -> T_co: ...


class GuardedCollector(Generic[T]):
    """Runs a collector, logging failures and skipping runs after them.

    After the n-th consecutive failure the next ``min(2**(n-1), max_skip)`` runs are
    skipped, so a broken collector costs little and recovers on its own.
    """

    def __init__(self, collector: Collector[T], *, max_skip: int = 32) -> None:
        self._collector = collector
        self._max_skip = max_skip
        self._failures = 0
        self._skip = 0
        self._supported: bool | None = None

    @property
    def name(self) -> str:
        return self._collector.name

    @property
    def failures(self) -> int:
        """Consecutive failures so far."""
        return self._failures

    def is_supported(self) -> bool:
        if self._supported is None:
            try:
                self._supported = bool(self._collector.is_supported())
            except Exception:
                log.exception("collector %s: support check failed", self.name)
                self._supported = False
            if not self._supported:
                log.info("collector %s is not supported on this machine", self.name)
        return self._supported

    def run(self) -> T | None:
        """The collector's result, or None when unsupported, backing off, or failed."""
        if not self.is_supported():
            return None
        if self._skip > 0:
            self._skip -= 1
            log.debug("collector %s: backing off (%d more runs)", self.name, self._skip)
            return None
        try:
            result = self._collector.collect()
        except Exception as exc:
            self._failures += 1
            self._skip = min(2 ** (self._failures - 1), self._max_skip)
            if self._failures == 1:
                log.exception("collector %s failed; skipping the next run", self.name)
            else:
                log.warning(
                    "collector %s failed again (%d in a row, %s); skipping the next %d runs",
                    self.name,
                    self._failures,
                    exc,
                    self._skip,
                )
            return None
        if self._failures:
            log.info("collector %s recovered after %d failures", self.name, self._failures)
        self._failures = 0
        return result
