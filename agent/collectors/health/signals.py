"""Signal sources, and the wrappers that keep them cheap and harmless.

A *signal source* reads one health signal (temperatures, batteries, SMART, ...) and either
returns it or raises :class:`SignalUnavailable` with a reason a technician can read. Anything
else it raises is a failure:

- :class:`Guarded` runs a fast source on every sample; a failing source is logged, backed off
  (the next 1, 2, 4, ... samples skip it) and reported as unavailable, never raised.
- :class:`Periodic` runs a slow source (a subprocess: smartctl, apt-get, PowerShell) at most
  once per interval, in the background by default, and hands every sample the latest result.

Exceptions::

    SignalUnavailable   the signal does not exist here (no battery, not installed, a VM, ...)
    ParseError          a parser was given text it cannot read (a ValueError)
    SourceError         a probe ran but reported an error (a command's failure exit status)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from agent.collectors.health.records import UnavailableSignal
from agent.platform.runner import CommandError, CommandNotFound, CommandTimeout

log = logging.getLogger(__name__)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class SignalUnavailable(Exception):
    """The signal does not exist on this machine; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ParseError(ValueError):
    """Text handed to a parser is not in the format it reads."""


class SourceError(Exception):
    """A probe ran but reported an error (a failure exit status, an error message)."""


class SignalSource(Protocol[T_co]):
    """Reads one health signal, or raises SignalUnavailable."""

    @property
    def signal(self) -> str:
        """The signal's name in UnavailableSignal ("temperatures", "smart", ...)."""
        ...

    def read(self) -> T_co: ...


class Unavailable(Generic[T]):
    """A signal this OS does not have, with the reason."""

    def __init__(self, signal: str, reason: str) -> None:
        self._signal = signal
        self.reason = reason

    @property
    def signal(self) -> str:
        return self._signal

    def read(self) -> T:
        raise SignalUnavailable(self.reason)


def failure_reason(exc: BaseException) -> str:
    """A short reason for an unexpected failure of a source."""
    if isinstance(exc, CommandNotFound):
        return str(exc)
    if isinstance(exc, CommandTimeout):
        return f"timed out: {exc}"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, CommandError | ParseError | SourceError | OSError):
        return f"failed: {exc}"
    return f"failed: {type(exc).__name__}: {exc}"


class Guarded(Generic[T]):
    """Runs a source each sample; failures are logged, backed off and reported as unavailable.

    After the n-th consecutive failure the next ``min(2**(n-1), max_skip)`` reads are skipped and
    report the last failure's reason.
    """

    def __init__(self, source: SignalSource[T], *, max_skip: int = 32) -> None:
        self._source = source
        self._max_skip = max_skip
        self._failures = 0
        self._skip = 0
        self._last_reason = ""

    @property
    def signal(self) -> str:
        return self._source.signal

    @property
    def failures(self) -> int:
        return self._failures

    def read(self) -> T | UnavailableSignal:
        """The signal, or why it is missing."""
        if self._skip > 0:
            self._skip -= 1
            return UnavailableSignal(self.signal, f"backing off after failure: {self._last_reason}")
        try:
            value = self._source.read()
        except SignalUnavailable as exc:
            self._failures = 0
            return UnavailableSignal(self.signal, exc.reason)
        except Exception as exc:
            self._failures += 1
            self._skip = min(2 ** (self._failures - 1), self._max_skip)
            self._last_reason = failure_reason(exc)
            if self._failures == 1:
                log.warning("health signal %s failed: %s", self.signal, exc, exc_info=exc)
            else:
                log.warning(
                    "health signal %s failed again (%d in a row): %s; skipping %d samples",
                    self.signal,
                    self._failures,
                    exc,
                    self._skip,
                )
            return UnavailableSignal(self.signal, self._last_reason)
        if self._failures:
            log.info("health signal %s recovered after %d failures", self.signal, self._failures)
        self._failures = 0
        return value


@dataclass(frozen=True, slots=True)
class _Outcome(Generic[T]):
    value: T | None
    reason: str  # empty when value holds the signal


def start_thread(work: Callable[[], None]) -> None:
    """Runs ``work`` on a daemon thread: slow probes never hold up a sample."""
    threading.Thread(target=work, name="parc-health-refresh", daemon=True).start()


def run_inline(work: Callable[[], None]) -> None:
    """Runs ``work`` now (one-shot commands and tests)."""
    work()


class Periodic(Generic[T]):
    """A slow source read at most once per ``interval_s``; reads return the latest result.

    A refresh starts when the result is older than the interval (or, after a failure, older than
    ``retry_s`` doubled per consecutive failure, capped at the interval). ``start`` decides where
    the refresh runs: a daemon thread by default, so a sample never waits on a slow probe (it
    reports "not collected yet" until the first result), or inline.
    """

    def __init__(
        self,
        source: SignalSource[T],
        interval_s: float,
        *,
        retry_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        start: Callable[[Callable[[], None]], None] = start_thread,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._source = source
        self._interval = interval_s
        self._retry = min(retry_s, interval_s)
        self._clock = clock
        self._start = start
        self._lock = threading.Lock()
        self._outcome: _Outcome[T] | None = None
        self._due: float | None = None  # None: never read yet
        self._running = False
        self._failures = 0

    @property
    def signal(self) -> str:
        return self._source.signal

    def read(self) -> T:
        with self._lock:
            due = self._due is None or self._clock() >= self._due
            begin = due and not self._running
            if begin:
                self._running = True
        if begin:
            try:
                self._start(self._refresh)
            except Exception:
                with self._lock:
                    self._running = False
                raise
        with self._lock:
            outcome = self._outcome
        if outcome is None:
            raise SignalUnavailable("not collected yet (slow signal, read in the background)")
        if outcome.reason:
            raise SignalUnavailable(outcome.reason)
        return outcome.value  # type: ignore[return-value]  # set whenever reason is empty

    def _refresh(self) -> None:
        failed = False
        try:
            outcome: _Outcome[T] = _Outcome(self._source.read(), "")
        except SignalUnavailable as exc:
            outcome = _Outcome(None, exc.reason)
        except Exception as exc:
            failed = True
            outcome = _Outcome(None, failure_reason(exc))
            log.warning("health signal %s failed: %s", self.signal, exc, exc_info=exc)
        with self._lock:
            self._failures = self._failures + 1 if failed else 0
            wait = (
                min(self._retry * 2 ** (self._failures - 1), self._interval)
                if failed
                else self._interval
            )
            self._outcome = outcome
            self._due = self._clock() + wait
            self._running = False
