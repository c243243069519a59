"""Enrolment tokens and durations."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from server.services.errors import InvalidArgument, NotFound
from server.services.tokens import parse_duration
from server.store.models import EnrollmentTokenRow
from tests.server.services.support import Collector

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", timedelta(hours=24)),
        ("30m", timedelta(minutes=30)),
        ("7d", timedelta(days=7)),
        ("90s", timedelta(seconds=90)),
        (" 1h ", timedelta(hours=1)),
    ],
)
def test_parse_duration_examples(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@given(st.integers(min_value=0, max_value=999_999), st.sampled_from(sorted(UNITS)))
def test_parse_duration_reads_any_amount_and_unit(amount: int, unit: str) -> None:
    assert parse_duration(f"{amount}{unit}") == timedelta(**{UNITS[unit]: amount})


@pytest.mark.parametrize(
    "text", ["", "h", "24", "24 hours", "-5m", "1.5h", "1w", "24H", "1h30m", "1e3s", "9999999999d"]
)
def test_parse_duration_refuses_junk(text: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_duration(text)


@given(st.text(max_size=12))
def test_parse_duration_either_reads_or_refuses(text: str) -> None:
    try:
        value = parse_duration(text)
    except InvalidArgument:
        return
    assert value >= timedelta(0)
    assert text.strip()[-1] in UNITS


async def test_create_stores_only_the_hash(collector: Collector) -> None:
    issued = await collector.tokens.create("Acme", "HQ", uses=3, ttl=timedelta(hours=24))
    assert issued.secret.startswith("parc_")
    assert len(issued.secret) > 40
    assert issued.tenant == "Acme"
    assert issued.site == "HQ"
    assert issued.uses_allowed == 3
    assert issued.expires_at == collector.clock.now + timedelta(hours=24)
    async with collector.sessions() as session:
        row = await session.scalar(select(EnrollmentTokenRow))
    assert row is not None
    assert row.token_hash == hashlib.sha256(issued.secret.encode()).hexdigest()
    columns = EnrollmentTokenRow.__table__.columns
    stored = [str(getattr(row, column.key)) for column in columns]
    assert not any(issued.secret in value for value in stored)


async def test_every_token_has_its_own_secret(collector: Collector) -> None:
    first = await collector.tokens.create("Acme", "HQ", uses=1, ttl=timedelta(hours=1))
    second = await collector.tokens.create("Acme", "HQ", uses=1, ttl=timedelta(hours=1))
    assert first.secret != second.secret
    assert first.token_id != second.token_id


async def test_create_makes_tenant_and_site_on_first_use(collector: Collector) -> None:
    await collector.tokens.create("Globex", "Paris", uses=1, ttl=timedelta(hours=1))
    assert [tenant.name for tenant in await collector.tenancy.list_tenants()] == ["Globex"]


@pytest.mark.parametrize(
    ("uses", "ttl"),
    [(0, timedelta(hours=1)), (-1, timedelta(hours=1)), (1, timedelta(0)), (1, timedelta(-1))],
)
async def test_create_refuses_no_uses_or_no_lifetime(
    collector: Collector, uses: int, ttl: timedelta
) -> None:
    with pytest.raises(InvalidArgument):
        await collector.tokens.create("Acme", "HQ", uses=uses, ttl=ttl)
    assert await collector.tokens.list() == []
    assert await collector.tenancy.list_tenants() == []


async def test_list_and_revoke(collector: Collector) -> None:
    issued = await collector.tokens.create("Acme", "HQ", uses=2, ttl=timedelta(days=7))
    [info] = await collector.tokens.list()
    assert info.token_id == issued.token_id
    assert (info.tenant, info.site, info.uses_allowed, info.uses_count) == ("Acme", "HQ", 2, 0)
    assert info.revoked_at is None
    assert info.created_at == collector.clock.now
    assert not hasattr(info, "secret")

    revoked_at = collector.clock.now
    await collector.tokens.revoke(issued.token_id)
    collector.clock.advance(timedelta(minutes=5))
    await collector.tokens.revoke(issued.token_id)  # again: changes nothing
    [info] = await collector.tokens.list()
    assert info.revoked_at == revoked_at


async def test_revoke_unknown_token(collector: Collector) -> None:
    with pytest.raises(NotFound):
        await collector.tokens.revoke(12345)
