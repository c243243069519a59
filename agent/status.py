"""DIR/status.json: what `parc-agent run` last heard from the collector, for `parc-agent status`."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.files import replace_file

log = logging.getLogger(__name__)


def _iso(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds")


class StatusRecorder:
    """Keeps status.json up to date: last successful contact and last error."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._clock = clock
        self._state: dict[str, Any] = {
            "pid": os.getpid(),
            "started": _iso(clock()),
            "last_contact": None,
            "last_error": None,
            "last_error_time": None,
            "connected": False,
        }
        previous = read_status(path)
        for key in ("last_contact", "last_error", "last_error_time"):
            if previous.get(key) is not None:
                self._state[key] = previous[key]
        self._write()

    def contact(self) -> None:
        """The collector answered."""
        self._state["last_contact"] = _iso(self._clock())
        self._write()

    def connected(self, up: bool) -> None:
        if self._state["connected"] != up:
            self._state["connected"] = up
            self._write()

    def error(self, message: str) -> None:
        self._state["last_error"] = message
        self._state["last_error_time"] = _iso(self._clock())
        self._write()

    def stopped(self) -> None:
        self._state["connected"] = False
        self._state["pid"] = None
        self._write()

    def _write(self) -> None:
        try:
            replace_file(self._path, (json.dumps(self._state, indent=2) + "\n").encode(), 0o644)
        except OSError as exc:
            log.warning("cannot update %s: %s", self._path, exc)


def read_status(path: Path) -> dict[str, Any]:
    """The recorded status, empty when there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
