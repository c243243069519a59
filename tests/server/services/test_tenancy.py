"""Tenants and sites."""

from __future__ import annotations

import pytest

from server.services.audit import AuditLog
from server.services.errors import AlreadyExists, InvalidArgument, NotFound
from server.services.records import Actor, Site, Tenant
from tests.server.services.support import Collector

BAD_NAMES = ["", "   ", "x" * 101, "line\nbreak", "tab\there", "nul\x00"]


async def test_create_and_list_tenants(collector: Collector) -> None:
    zeta = await collector.tenancy.create_tenant("Zeta SARL")
    acme = await collector.tenancy.create_tenant("Acme")
    assert isinstance(acme, Tenant)
    assert acme.name == "Acme"
    assert acme.id != zeta.id
    assert await collector.tenancy.list_tenants() == [acme, zeta]


async def test_tenant_names_are_unique(collector: Collector) -> None:
    await collector.tenancy.create_tenant("Acme")
    with pytest.raises(AlreadyExists, match="Acme"):
        await collector.tenancy.create_tenant("Acme")
    assert len(await collector.tenancy.list_tenants()) == 1


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_bad_tenant_names_are_refused(collector: Collector, name: str) -> None:
    with pytest.raises(InvalidArgument):
        await collector.tenancy.create_tenant(name)
    with pytest.raises(InvalidArgument):
        await collector.tenancy.ensure_site(name, "HQ")
    with pytest.raises(InvalidArgument):
        await collector.tenancy.ensure_site("Acme", name)
    assert await collector.tenancy.list_tenants() == []


async def test_longest_allowed_name(collector: Collector) -> None:
    tenant = await collector.tenancy.create_tenant("é" * 100)
    assert tenant.name == "é" * 100


async def test_create_site(collector: Collector) -> None:
    await collector.tenancy.create_tenant("Acme")
    site = await collector.tenancy.create_site("Acme", "Lyon office")
    assert site == Site(id=site.id, tenant="Acme", name="Lyon office")
    with pytest.raises(AlreadyExists):
        await collector.tenancy.create_site("Acme", "Lyon office")


async def test_site_of_unknown_tenant(collector: Collector) -> None:
    with pytest.raises(NotFound, match="Nobody"):
        await collector.tenancy.create_site("Nobody", "HQ")
    assert await collector.tenancy.list_tenants() == []


async def test_same_site_name_in_two_tenants(collector: Collector) -> None:
    first = await collector.tenancy.ensure_site("Acme", "HQ")
    second = await collector.tenancy.ensure_site("Globex", "HQ")
    assert first.id != second.id


async def test_ensure_site_creates_on_first_use_only(collector: Collector) -> None:
    first = await collector.tenancy.ensure_site("Acme", "HQ")
    again = await collector.tenancy.ensure_site("Acme", "HQ")
    assert again == first
    assert [tenant.name for tenant in await collector.tenancy.list_tenants()] == ["Acme"]
    with pytest.raises(AlreadyExists):
        await collector.tenancy.create_site("Acme", "HQ")


# --- audit ------------------------------------------------------------------------------------

ALICE = Actor("user", 7, "alice")


def audit(collector: Collector) -> AuditLog:
    return AuditLog(collector.sessions, collector.clock)


async def test_creating_a_tenant_and_a_site_is_audited(collector: Collector) -> None:
    tenant = await collector.tenancy.create_tenant("Acme", actor=ALICE, address="192.0.2.7")
    site = await collector.tenancy.add_site(tenant.id, "Lyon", actor=ALICE, address="192.0.2.7")
    assert site == Site(id=site.id, tenant="Acme", name="Lyon")
    site_event, tenant_event = await audit(collector).list()
    assert (tenant_event.action, tenant_event.target_type, tenant_event.target_id) == (
        "tenant.create",
        "tenant",
        str(tenant.id),
    )
    assert (site_event.action, site_event.target_type, site_event.target_id) == (
        "site.create",
        "site",
        str(site.id),
    )
    for event in (tenant_event, site_event):
        assert (event.actor, event.actor_name, event.address) == ("user:7", "alice", "192.0.2.7")
        assert event.tenant_id == tenant.id
        assert event.time == collector.clock.now
    assert site_event.details == {"tenant": "Acme", "name": "Lyon"}


async def test_the_cli_is_the_default_actor(collector: Collector) -> None:
    await collector.tenancy.create_tenant("Acme")
    await collector.tenancy.create_site("Acme", "HQ")
    assert {event.actor for event in await audit(collector).list()} == {"cli"}


async def test_a_refused_creation_leaves_no_audit_record(collector: Collector) -> None:
    tenant = await collector.tenancy.create_tenant("Acme")
    await collector.tenancy.add_site(tenant.id, "HQ")
    with pytest.raises(AlreadyExists):
        await collector.tenancy.create_tenant("Acme", actor=ALICE)
    with pytest.raises(AlreadyExists):
        await collector.tenancy.add_site(tenant.id, "HQ", actor=ALICE)
    with pytest.raises(NotFound):
        await collector.tenancy.add_site(tenant.id + 100, "HQ", actor=ALICE)
    with pytest.raises(InvalidArgument):
        await collector.tenancy.add_site(tenant.id, "", actor=ALICE)
    assert [event.actor for event in await audit(collector).list()] == ["cli", "cli"]


async def test_ensure_site_audits_only_what_it_creates(collector: Collector) -> None:
    await collector.tenancy.ensure_site("Acme", "HQ", actor=ALICE, address="::1")
    await collector.tenancy.ensure_site("Acme", "HQ", actor=ALICE, address="::1")
    await collector.tenancy.ensure_site("Acme", "Lyon", actor=ALICE, address="::1")
    events = await audit(collector).list()
    assert [event.action for event in events] == ["site.create", "site.create", "tenant.create"]
    assert [event.details.get("name") for event in events] == ["Lyon", "HQ", "Acme"]
    assert {event.address for event in events} == {"::1"}


# --- listing ----------------------------------------------------------------------------------


async def test_sites_and_tenants_with_device_counts(collector: Collector) -> None:
    await collector.tenancy.create_tenant("Empty")
    await collector.enroll("Acme", "HQ")
    _, gone = await collector.enroll("Acme", "HQ")
    await collector.enroll("Acme", "Lyon")
    await collector.enroll("Globex", "HQ")
    await collector.tenancy.ensure_site("Globex", "Paris")
    await collector.devices.revoke(gone.device_id)  # revoked devices are not counted

    sites = await collector.tenancy.list_sites()
    assert [(s.tenant, s.name, s.device_count) for s in sites] == [
        ("Acme", "HQ", 1),
        ("Acme", "Lyon", 1),
        ("Globex", "HQ", 1),
        ("Globex", "Paris", 0),
    ]
    acme, _empty, globex = await collector.tenancy.overview()
    assert (acme.name, acme.device_count, [s.name for s in acme.sites]) == (
        "Acme",
        2,
        ["HQ", "Lyon"],
    )
    assert (_empty.name, _empty.device_count, _empty.sites) == ("Empty", 0, ())
    assert all(site.tenant_id == globex.id for site in globex.sites)

    only = await collector.tenancy.overview(frozenset({globex.id}))
    assert [t.name for t in only] == ["Globex"]
    assert {s.tenant for s in await collector.tenancy.list_sites(frozenset({globex.id}))} == {
        "Globex"
    }
    assert await collector.tenancy.list_tenants(frozenset()) == []
    assert [t.name for t in await collector.tenancy.list_tenants(frozenset({acme.id}))] == ["Acme"]


async def test_get_site_and_tenant(collector: Collector) -> None:
    await collector.enroll("Acme", "HQ")
    [site] = await collector.tenancy.list_sites()
    assert await collector.tenancy.get_site(site.id) == site
    assert (await collector.tenancy.get_tenant(site.tenant_id)).name == "Acme"
    with pytest.raises(NotFound):
        await collector.tenancy.get_site(site.id + 1)
    with pytest.raises(NotFound):
        await collector.tenancy.get_tenant(site.tenant_id + 1)
