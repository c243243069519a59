"""Exponential backoff with full jitter, so a collector restart does not bring a reconnect storm.

``delay = random.uniform(0, min(cap, base * 2**attempt))`` (the "full jitter" of the AWS
architecture blog); ``attempt`` counts failures since the last reset.

The stream's reconnect backoff starts from a 5 s window (``RECONNECT_BASE_S``), not 1 s:
when a collector restarts, every agent's stream ends at the same moment, and the old process
takes seconds to exit and the new one seconds to listen. From 1 s, an agent used up about
four attempts (each one an error) before the collector was back, and then the whole fleet
retried within a second or two of each other while the new collector was still busy with
TLS handshakes; from 5 s the first attempts of 10,000 agents spread over 5 s (2,000 a
second), the next over 10 s, and an agent needs one or two attempts. The cap (60 s) keeps
the last agents back within two minutes. The load generator (``bench/loadgen.py``) uses the
same constants.
"""

from __future__ import annotations

import random
from collections.abc import Callable

RECONNECT_BASE_S = 5.0
RECONNECT_CAP_S = 60.0


class Backoff:
    """Delays for successive retries; reset after a success that proved stable."""

    def __init__(
        self,
        *,
        base: float = RECONNECT_BASE_S,
        cap: float = RECONNECT_CAP_S,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        if base <= 0 or cap < base:
            raise ValueError("backoff needs 0 < base <= cap")
        self.base = base
        self.cap = cap
        self._uniform = uniform
        self._attempt = 0

    @property
    def attempt(self) -> int:
        """Failures since the last reset."""
        return self._attempt

    def ceiling(self) -> float:
        """The largest delay the next call to :meth:`next_delay` may return."""
        # Stop growing the exponent once past the cap, so it never overflows.
        if self.base * 2.0 ** min(self._attempt, 64) >= self.cap:
            return self.cap
        return self.base * 2.0**self._attempt

    def next_delay(self) -> float:
        """The delay before the next retry; counts one more failure."""
        delay = self._uniform(0.0, self.ceiling())
        self._attempt = min(self._attempt + 1, 64)
        return min(max(delay, 0.0), self.cap)

    def reset(self) -> None:
        self._attempt = 0
