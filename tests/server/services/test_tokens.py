"""Enrolment tokens and durations."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from server.services.audit import AuditFilter, AuditLog
from server.services.errors import InvalidArgument, NotFound
from server.services.records import Actor
from server.services.tokens import (
    ACTIVE,
    EXPIRED,
    REVOKED,
    USED_UP,
    parse_duration,
    token_state,
)
from server.store.models import EnrollmentTokenRow
from tests.server.pki.csrs import csr_der, new_key
from tests.server.services.support import FACTS, Collector

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


# --- audit, listing by tenant, state -----------------------------------------------------------

ALICE = Actor("user", 7, "alice")


def audit(collector: Collector) -> AuditLog:
    return AuditLog(collector.sessions, collector.clock)


async def test_create_and_revoke_are_audited_without_the_secret(collector: Collector) -> None:
    site = await collector.tenancy.ensure_site("Acme", "HQ")
    issued = await collector.tokens.create_for_site(
        site.id, 5, timedelta(days=7), actor=ALICE, address="192.0.2.9"
    )
    assert (issued.tenant, issued.site, issued.uses_allowed) == ("Acme", "HQ", 5)
    assert await collector.tokens.revoke(issued.token_id, actor=ALICE, address="192.0.2.9")
    assert not await collector.tokens.revoke(issued.token_id, actor=ALICE)  # nothing changes

    revoke, create = await audit(collector).list(AuditFilter(actor="user:7"))
    assert (create.action, create.target_type, create.target_id) == (
        "token.create",
        "enrolment-token",
        str(issued.token_id),
    )
    assert create.details == {
        "tenant": "Acme",
        "site": "HQ",
        "uses": 5,
        "expires": (collector.clock.now + timedelta(days=7)).isoformat(),
    }
    assert (revoke.action, revoke.target_id) == ("token.revoke", str(issued.token_id))
    [info] = await collector.tokens.list()
    for event in (create, revoke):
        assert event.address == "192.0.2.9"
        assert event.tenant_id == info.tenant_id
        assert issued.secret not in repr(event)
        assert issued.secret[len("parc_") :] not in repr(event.details)


async def test_a_token_made_by_name_audits_the_tenant_and_site_it_creates(
    collector: Collector,
) -> None:
    await collector.tokens.create("Acme", "HQ", uses=1, ttl=timedelta(hours=1), actor=ALICE)
    actions = [event.action for event in await audit(collector).list()]
    assert actions == ["token.create", "site.create", "tenant.create"]


async def test_create_for_an_unknown_site_changes_nothing(collector: Collector) -> None:
    with pytest.raises(NotFound):
        await collector.tokens.create_for_site(999, 1, timedelta(hours=1), actor=ALICE)
    site = await collector.tenancy.ensure_site("Acme", "HQ")
    with pytest.raises(InvalidArgument):
        await collector.tokens.create_for_site(site.id, 0, timedelta(hours=1), actor=ALICE)
    assert await collector.tokens.list() == []
    assert await audit(collector).list(AuditFilter(actor="user:7")) == []


async def test_list_narrowed_to_tenants_and_get(collector: Collector) -> None:
    acme = await collector.tokens.create("Acme", "HQ", uses=1, ttl=timedelta(hours=1))
    globex = await collector.tokens.create("Globex", "HQ", uses=1, ttl=timedelta(hours=1))
    everything = await collector.tokens.list()
    assert [t.token_id for t in everything] == [acme.token_id, globex.token_id]
    globex_id = everything[1].tenant_id
    [only] = await collector.tokens.list(frozenset({globex_id}))
    assert (only.token_id, only.tenant, only.site) == (globex.token_id, "Globex", "HQ")
    assert await collector.tokens.list(frozenset()) == []
    assert await collector.tokens.get(acme.token_id) == everything[0]
    with pytest.raises(NotFound):
        await collector.tokens.get(globex.token_id + 1)


async def test_states(collector: Collector) -> None:
    active = await collector.tokens.create("Acme", "HQ", uses=2, ttl=timedelta(days=1))
    short = await collector.tokens.create("Acme", "HQ", uses=1, ttl=timedelta(minutes=5))
    once = await collector.tokens.create("Acme", "HQ", uses=1, ttl=timedelta(days=1))
    revoked = await collector.tokens.create("Acme", "HQ", uses=1, ttl=timedelta(days=1))
    await collector.enrollment.enroll(once.secret, csr_der(new_key()), FACTS)
    await collector.enrollment.enroll(active.secret, csr_der(new_key()), FACTS)
    await collector.tokens.revoke(revoked.token_id)
    collector.clock.advance(timedelta(minutes=5))
    states = {t.token_id: (t.state, t.uses_count) for t in await collector.tokens.list()}
    assert states == {
        active.token_id: (ACTIVE, 1),
        short.token_id: (EXPIRED, 0),
        once.token_id: (USED_UP, 1),
        revoked.token_id: (REVOKED, 0),
    }


@pytest.mark.parametrize(
    ("revoked", "used", "expired", "state"),
    [
        (False, False, False, ACTIVE),
        (False, False, True, EXPIRED),
        (False, True, True, USED_UP),
        (True, True, True, REVOKED),
        (True, False, False, REVOKED),
    ],
)
def test_token_state_precedence(revoked: bool, used: bool, expired: bool, state: str) -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    assert (
        token_state(
            revoked_at=now if revoked else None,
            uses_count=3 if used else 2,
            uses_allowed=3,
            expires_at=now if expired else now + timedelta(seconds=1),
            now=now,
        )
        == state
    )
