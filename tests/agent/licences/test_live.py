"""On this machine: the Linux licence collector runs and returns well-formed records."""

from __future__ import annotations

import sys

import pytest

from agent.collectors.licences import linux_licences
from agent.collectors.licences.spdx import is_spdx_expression
from agent.wire.licences import licence_inventory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def test_live_linux_licences() -> None:
    collector = linux_licences()
    if not collector.is_supported():
        pytest.skip("no package manager here")
    inventory = collector.collect()
    assert inventory.activations == ()
    for record in inventory.packages:
        assert record.package
        assert record.source in {"debian-copyright", "rpm"}
        assert record.spdx == "" or is_spdx_expression(record.spdx)
        assert not record.spdx or record.declared  # an SPDX result always has its source text
    keys = [(p.package, p.source) for p in inventory.packages]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert len(licence_inventory(inventory).packages) == len(inventory.packages)
