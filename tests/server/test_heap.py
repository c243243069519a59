"""glibc malloc settings and the periodic trim of the collector's heap."""

from __future__ import annotations

import asyncio
import platform

from server.heap import HeapTrimmer, trim, tune_malloc

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def test_malloc_is_tuned_on_glibc_and_left_alone_elsewhere() -> None:
    assert tune_malloc() is GLIBC


async def test_the_trimmer_trims_until_stopped() -> None:
    # Something freed to give back (on glibc): a large buffer, gone before the trim.
    garbage = [bytearray(256 * 1024) for _ in range(16)]
    del garbage
    assert isinstance(trim(), bool)
    trimmer = HeapTrimmer(interval_s=0.01)
    trimmer.start()
    for _ in range(500):  # at most ~5 s
        if trimmer.trims >= 2:
            break
        await asyncio.sleep(0.01)
    await trimmer.stop()
    done = trimmer.trims
    await asyncio.sleep(0.05)
    assert trimmer.trims == done  # stopped means stopped
    assert (done >= 2) is GLIBC
