"""The collector's process tunes Python's garbage collector once it serves."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
from collections.abc import Iterator
from types import SimpleNamespace
from typing import cast

import pytest

import server.app
from server.app import GC_THRESHOLDS, run_until_signalled, tune_gc
from server.settings import CollectorSettings


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_tune_gc_freezes_what_is_alive_and_raises_the_thresholds(restored_gc: None) -> None:
    gc.unfreeze()
    tune_gc()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert GC_THRESHOLDS[0] > 700  # Python's default young threshold
    assert gc.get_freeze_count() > 0


async def test_the_collector_process_tunes_gc_once_it_serves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps: list[str] = []
    tuned = asyncio.Event()

    class Running:
        async def stop(self, grace: float) -> None:
            steps.append("stop")

    async def serve(settings: CollectorSettings) -> Running:
        steps.append("serve")
        return Running()

    def tune() -> None:
        steps.append("tune_gc")
        tuned.set()

    monkeypatch.setattr(server.app, "serve", serve)
    monkeypatch.setattr(server.app, "tune_gc", tune)
    settings = cast(CollectorSettings, SimpleNamespace(shutdown_grace_s=0.1))
    running = asyncio.create_task(run_until_signalled(settings))
    await asyncio.wait_for(tuned.wait(), 5)
    await asyncio.sleep(0)  # the signal handlers are installed right after
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(running, 5)
    assert steps == ["serve", "tune_gc", "stop"]
