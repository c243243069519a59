"""What the device page reads and does, on SQLite and PostgreSQL: status, software pages and
search (LIKE wildcards taken literally), audited revoke and command requests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.services.audit import AuditFilter, AuditLog
from server.services.devices import state_label
from server.services.errors import FailedPrecondition, InvalidArgument, NotFound
from server.services.records import Actor
from tests.server.services.support import Collector, full_inventory, package

ALICE = Actor("user", 7, "alice")
NAMES = ["50% Off Tool", "500 Offers", "a_b", "axb", "back\\slash", "Zeta"] + [
    f"lib{n:02d}" for n in range(60)
]


async def enrolled_with_software(collector: Collector) -> str:
    _, identity = await collector.enroll()
    packages = [package(name, publisher="Pub" if name != "Zeta" else "Zeta Corp") for name in NAMES]
    await collector.reports.store_inventory(
        identity, [full_inventory("inv-1", collector.clock.now, packages)]
    )
    return identity.device_id


async def test_software_pages_and_search(collector: Collector) -> None:
    device = await enrolled_with_software(collector)
    first = await collector.devices.software_page(device, "", 1, 50)
    assert first.total == len(NAMES) and len(first.packages) == 50 and first.has_next
    assert not first.has_previous
    last = await collector.devices.software_page(device, "", 2, 50)
    assert len(last.packages) == len(NAMES) - 50 and not last.has_next and last.has_previous
    names = [p.name for p in first.packages + last.packages]
    assert sorted(names) == sorted(NAMES) and len(set(names)) == len(NAMES)

    async def found(text: str) -> set[str]:
        page = await collector.devices.software_page(device, text, 1, 500)
        assert page.total == len(page.packages)
        return {p.name for p in page.packages}

    assert await found("50%") == {"50% Off Tool"}
    assert await found("a_b") == {"a_b"}
    assert await found("\\") == {"back\\slash"}
    assert await found("ZETA CORP") == {"Zeta"}  # publisher, any case
    assert await found("nothing like it") == set()
    other = await collector.devices.software_page("no-such-device", "", 1, 50)
    assert other.total == 0


@pytest.mark.parametrize(
    ("text", "page", "per_page"), [("x" * 201, 1, 50), ("nul\x00", 1, 50), ("", 0, 50), ("", 1, 0)]
)
async def test_bad_software_queries_are_refused(
    collector: Collector, text: str, page: int, per_page: int
) -> None:
    with pytest.raises(InvalidArgument):
        await collector.devices.software_page("x", text, page, per_page)


async def test_status_says_where_the_device_belongs_and_how_it_stands(
    collector: Collector,
) -> None:
    device = await enrolled_with_software(collector)
    status = await collector.devices.status(device)
    assert status.hostname == "pc-042" and status.state == "offline" and not status.revoked
    with pytest.raises(NotFound):
        await collector.devices.status("00000000-0000-4000-8000-000000000000")
    assert state_label(False, True, 0) == "ok"
    assert state_label(False, True, 1) == "warning"
    assert state_label(False, True, 2) == "critical"
    assert state_label(False, False, 2) == "offline"
    assert state_label(True, True, 0) == "revoked"


async def test_revoke_and_commands_are_audited_with_actor_and_address(
    collector: Collector,
) -> None:
    device = await enrolled_with_software(collector)
    command = await collector.commands.queue(
        device, "send_inventory", actor=ALICE, address="192.0.2.9"
    )
    assert await collector.devices.revoke(device, actor=ALICE, address="192.0.2.9") is True
    collector.clock.advance(timedelta(minutes=1))
    assert await collector.devices.revoke(device, actor=ALICE) is False
    log = AuditLog(collector.sessions)
    (revoked,) = await log.list(AuditFilter(action="device.revoke"))
    assert (revoked.actor, revoked.actor_name, revoked.address) == ("user:7", "alice", "192.0.2.9")
    assert revoked.target_id == device and revoked.tenant_id is not None
    (queued,) = await log.list(AuditFilter(action="device.command"))
    assert queued.details == {"kind": "send_inventory", "command_id": command.command_id}
    status = await collector.devices.status(device)
    assert status.state == "revoked" and status.revoked_at == collector.clock.now - timedelta(
        minutes=1
    )
    with pytest.raises(FailedPrecondition):
        await collector.commands.queue(device, "send_inventory", actor=ALICE)
    assert len(await log.list(AuditFilter(action="device.command"))) == 1
    events = await collector.devices.events(device, 10)
    assert [e.kind for e in events][:1] == ["revoked"]
    with pytest.raises(InvalidArgument):
        await collector.devices.events(device, 0)


async def test_unaudited_callers_keep_working(collector: Collector) -> None:
    device = await enrolled_with_software(collector)
    await collector.commands.queue(device, "send_inventory")
    await collector.devices.revoke(device)
    assert await AuditLog(collector.sessions).list(AuditFilter(target_id=device)) == []
