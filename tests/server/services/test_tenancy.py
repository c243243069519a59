"""Tenants and sites."""

from __future__ import annotations

import pytest

from server.services.errors import AlreadyExists, InvalidArgument, NotFound
from server.services.records import Site, Tenant
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
