"""Tags on devices: normalised, audited, limited to the tenants a caller sees."""

from __future__ import annotations

import pytest

from server.services.audit import AuditFilter, AuditLog
from server.services.errors import InvalidArgument, NotFound
from server.services.records import Actor
from server.services.tags import TagService, normalise_tag
from tests.server.services.support import Collector

ALICE = Actor("user", 7, "alice")


@pytest.mark.parametrize(("text", "tag"), [("Kiosk", "kiosk"), (" loaner-pool ", "loaner-pool")])
def test_tags_are_folded_to_lower_case_and_trimmed(text: str, tag: str) -> None:
    assert normalise_tag(text) == tag


@pytest.mark.parametrize("text", ["", "-x", "a b", "<script>", "x" * 65, "é"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(InvalidArgument):
        normalise_tag(text)


async def test_adding_and_removing_is_audited_once_each(collector: Collector) -> None:
    _, identity = await collector.enroll()
    tags = TagService(collector.sessions, collector.clock)
    assert await tags.add(identity.device_id, "Kiosk", actor=ALICE, address="192.0.2.4")
    assert not await tags.add(identity.device_id, "kiosk", actor=ALICE)
    assert await tags.add(identity.device_id, "finance", actor=ALICE)
    assert await tags.tags_of(identity.device_id) == ["finance", "kiosk"]
    assert await tags.remove(identity.device_id, "kiosk", actor=ALICE)
    assert not await tags.remove(identity.device_id, "kiosk", actor=ALICE)
    assert await tags.tags_of(identity.device_id) == ["finance"]
    events = await AuditLog(collector.sessions).list(AuditFilter(target_id=identity.device_id))
    assert [(e.action, e.details, e.actor) for e in events] == [
        ("device.untag", {"tag": "kiosk"}, "user:7"),
        ("device.tag", {"tag": "finance"}, "user:7"),
        ("device.tag", {"tag": "kiosk"}, "user:7"),
    ]
    assert events[-1].address == "192.0.2.4"
    assert events[-1].tenant_id == identity.tenant_id


async def test_a_device_of_another_tenant_reads_as_not_found(collector: Collector) -> None:
    _, identity = await collector.enroll()
    tags = TagService(collector.sessions, collector.clock)
    with pytest.raises(NotFound):
        await tags.add(identity.device_id, "x", visible_tenants={identity.tenant_id + 1})
    assert await tags.tags_of(identity.device_id) == []
    await tags.add(identity.device_id, "x")
    assert await tags.all_tags({identity.tenant_id}) == ["x"]
    assert await tags.all_tags({identity.tenant_id + 1}) == []
    assert await tags.all_tags() == ["x"]
