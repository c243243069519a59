"""Keeping the collector's memory close to what it uses: glibc malloc settings and trimming.

Agents send requests of a few hundred KiB (inventories). grpc core's threads and Python
allocate and free those buffers, and glibc's malloc keeps what was freed: after the first
large free it raises its mmap threshold, so later large buffers come from the heap and its
per-thread arenas, and the free memory left between live objects stays in the process.
Measured with ``bench/stream_memory.py --upload 262144 --trim``: the collector's RSS per open
stream was ~800 KiB, and ~155 KiB once ``malloc_trim`` had returned the free pages.

So the collector fixes the mmap threshold (large buffers are always mapped, and unmapped
when freed), caps the number of arenas, and returns free pages to the OS every half minute
(in a worker thread: a trim walks the heap). On a C library other than glibc this does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import sys

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc <malloc.h>
M_ARENA_MAX = -8

MMAP_THRESHOLD_BYTES = 64 * 1024
ARENA_MAX = 2
TRIM_INTERVAL_S = 30.0


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    if not all(hasattr(libc, name) for name in ("mallopt", "malloc_trim", "gnu_get_libc_version")):
        return None
    return libc


def tune_malloc(mmap_threshold: int = MMAP_THRESHOLD_BYTES, arena_max: int = ARENA_MAX) -> bool:
    """Set glibc's mmap threshold and arena cap (call before threads start); False if not glibc."""
    libc = _glibc()
    if libc is None:
        return False
    ok = bool(libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold))
    ok = bool(libc.mallopt(M_ARENA_MAX, arena_max)) and ok
    return ok


def trim() -> bool:
    """Return the heap's free pages to the OS now; True if any were."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


class HeapTrimmer:
    """Calls ``trim`` every ``interval_s`` seconds in a worker thread, until stopped."""

    def __init__(self, interval_s: float = TRIM_INTERVAL_S) -> None:
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self.trims = 0

    def start(self) -> None:
        if self._task is None and _glibc() is not None:
            self._task = asyncio.create_task(self._run(), name="parc-heap-trim")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await asyncio.to_thread(trim)
            except Exception:
                log.exception("returning free memory to the OS failed")
            self.trims += 1
