"""Exponential backoff with full jitter, so a collector restart does not bring a reconnect storm.

``delay = random.uniform(0, min(cap, base * 2**attempt))`` (the "full jitter" of the AWS
architecture blog); ``attempt`` counts failures since the last reset.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Delays for successive retries; reset after a success that proved stable."""

    def __init__(
        self,
        *,
        base: float = 1.0,
        cap: float = 300.0,
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
