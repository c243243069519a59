"""On this machine: the Linux software collector runs and returns well-formed rows."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agent.collectors.software import SoftwareSource, linux_software
from agent.wire.software import software_inventory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def test_live_linux_software() -> None:
    collector = linux_software()
    if not collector.is_supported():
        pytest.skip("no package manager here")
    inventory = collector.collect()
    rows = inventory.packages
    for row in rows:
        assert row.name
        assert row.name == row.name.strip()
        assert not any(ch in row.name + row.version for ch in "\n\r\t\x00")
        assert isinstance(row.source, SoftwareSource)
    keys = [(r.name.casefold(), r.name, r.version) for r in rows]
    assert keys == sorted(keys)
    if Path("/var/lib/dpkg/status").is_file():
        assert any(r.source is SoftwareSource.DEB for r in rows)
    message = software_inventory(inventory)
    assert len(message.packages) == len(rows)
