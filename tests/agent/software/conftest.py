"""Shared fixtures for the software collector tests."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.agent.recorded import FIXTURES

SOFTWARE = FIXTURES / "software"
LIST_TIME = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def debian_root(tmp_path: Path) -> Path:
    """A copy of the dpkg fixture tree with known .list mtimes (git does not keep mtimes)."""
    root = tmp_path / "root"
    shutil.copytree(SOFTWARE / "debian", root)
    stamp = LIST_TIME.timestamp()
    for path in (root / "var/lib/dpkg/info").iterdir():
        os.utime(path, (stamp, stamp))
    return root
