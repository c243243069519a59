"""Accounts: users, sign-in with lockout and TOTP, sessions, API tokens, grants, audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services import totp
from server.services.access import (
    AUDIT_READ,
    DEVICES_READ,
    DEVICES_WRITE,
    TENANTS_WRITE,
    USERS_WRITE,
    AccessPolicy,
)
from server.services.accounts import (
    SIGN_IN_FAILED,
    AccountService,
    hash_secret,
    lockout_for,
)
from server.services.audit import AuditFilter, AuditLog
from server.services.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    TotpRequired,
    Unauthenticated,
)
from server.services.records import CLI_ACTOR, Principal, UserInfo
from server.services.secrets import SecretBox
from server.services.tenancy import TenancyService
from server.store.models import ApiTokenRow, TenantRow, UserRow, UserSessionRow
from tests.conftest import FakeClock

PASSWORD = "correct horse battery staple"


def wrong_code(secret: str, clock: FakeClock) -> str:
    """A well-formed code that matches no step of the window around now."""
    key, step = totp.secret_bytes(secret), totp.counter_at(clock.now)
    valid = {totp.hotp(key, step + delta) for delta in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(10) if f"{n:06d}" not in valid)


@dataclass
class Accounts:
    sessions: async_sessionmaker[AsyncSession]
    clock: FakeClock
    service: AccountService
    audit: AuditLog
    tenancy: TenancyService

    async def user(self, name: str, role: str = "technician", *tenants: str) -> UserInfo:
        created = await self.service.create_user(
            name, role, actor=CLI_ACTOR, password=PASSWORD, tenants=tenants
        )
        return created.user

    async def raw_user(self, user_id: int) -> UserRow:
        async with self.sessions() as session:
            row = await session.get(UserRow, user_id)
        assert row is not None
        return row

    async def actions(self) -> list[str]:
        return [event.action for event in reversed(await self.audit.list())]


@pytest.fixture
async def accounts(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, tmp_path: Path
) -> Accounts:
    box = SecretBox.for_data_dir(tmp_path / "data")
    tenancy = TenancyService(sessions, clock)
    # Set-up data straight into the store: tenant.create records would crowd the audit tests.
    async with sessions.begin() as session:
        session.add_all(TenantRow(name=name, created_at=clock.now) for name in ("Acme", "Globex"))
    return Accounts(
        sessions, clock, AccountService(sessions, box, clock), AuditLog(sessions, clock), tenancy
    )


# --- users -------------------------------------------------------------------------------------


async def test_create_user_with_generated_password_stores_only_the_scrypt_hash(
    accounts: Accounts,
) -> None:
    created = await accounts.service.create_user("Alice", "admin", actor=CLI_ACTOR)
    assert created.password is not None and len(created.password) >= 12
    assert created.user.username == "alice"
    assert created.user.must_change_password
    row = await accounts.raw_user(created.user.id)
    assert row.password_hash.startswith("scrypt$n=32768,r=8,p=1$")
    async with accounts.sessions() as session:
        raw = (await session.execute(text("SELECT * FROM users"))).one()
    assert not any(created.password in str(value) for value in raw)
    authentication = await accounts.service.authenticate("ALICE", created.password)
    assert authentication.must_change_password
    assert authentication.totp_enrolment_required  # an admin without TOTP


@pytest.mark.parametrize(
    ("username", "role", "password"),
    [
        ("bob", "admin", "elevenchars"),
        ("bob", "root", PASSWORD),
        ("", "admin", PASSWORD),
        ("bob smith", "admin", PASSWORD),
        ("b" * 65, "admin", PASSWORD),
    ],
)
async def test_create_user_refuses_bad_input_and_changes_nothing(
    accounts: Accounts, username: str, role: str, password: str
) -> None:
    with pytest.raises(InvalidArgument):
        await accounts.service.create_user(username, role, actor=CLI_ACTOR, password=password)
    assert await accounts.service.list_users() == []
    assert await accounts.audit.list() == []


async def test_create_user_twice_or_with_unknown_tenant_refused(accounts: Accounts) -> None:
    await accounts.user("bob")
    with pytest.raises(AlreadyExists):
        await accounts.user("BOB")
    with pytest.raises(NotFound):
        await accounts.user("carol", "technician", "Initech")
    assert [u.username for u in await accounts.service.list_users()] == ["bob"]


async def test_wrong_password_and_unknown_user_read_the_same(accounts: Accounts) -> None:
    await accounts.user("bob")
    with pytest.raises(Unauthenticated) as wrong:
        await accounts.service.authenticate("bob", "not the password")
    with pytest.raises(Unauthenticated) as unknown:
        await accounts.service.authenticate("nobody", PASSWORD)
    assert str(wrong.value) == str(unknown.value) == SIGN_IN_FAILED
    events = await accounts.audit.list(AuditFilter(action="user.sign_in_failed"))
    assert sorted(str(e.details["reason"]) for e in events) == ["unknown user", "wrong password"]


# --- lockout -------------------------------------------------------------------------------------


def test_lockout_schedule_doubles_and_is_capped() -> None:
    assert [lockout_for(n) for n in range(5)] == [None] * 5
    assert lockout_for(5) == timedelta(minutes=1)
    assert lockout_for(6) == timedelta(minutes=2)
    assert lockout_for(7) == timedelta(minutes=4)
    assert lockout_for(50) == timedelta(hours=1)


async def test_five_failures_lock_then_backoff_doubles(accounts: Accounts) -> None:
    service, clock = accounts.service, accounts.clock
    await accounts.user("bob")
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            await service.authenticate("bob", "wrong password!")
    row = await accounts.raw_user(1)
    assert row.failed_logins == 5
    assert row.locked_until == clock.now + timedelta(minutes=1)

    # Locked: even the right password is refused, with the same message, and not counted.
    with pytest.raises(Unauthenticated, match="sign-in failed"):
        await service.authenticate("bob", PASSWORD)
    assert (await accounts.raw_user(1)).failed_logins == 5

    clock.advance(timedelta(minutes=1))
    with pytest.raises(Unauthenticated):
        await service.authenticate("bob", "wrong again!!")
    assert (await accounts.raw_user(1)).locked_until == clock.now + timedelta(minutes=2)

    clock.advance(timedelta(minutes=2))
    authentication = await service.authenticate("bob", PASSWORD)
    assert authentication.user.username == "bob"
    row = await accounts.raw_user(1)
    assert (row.failed_logins, row.locked_until) == (0, None)


async def test_disabled_user_cannot_sign_in_and_loses_sessions_and_tokens(
    accounts: Accounts,
) -> None:
    bob = await accounts.user("bob")
    issued = await accounts.service.sign_in("bob", PASSWORD)
    token = await accounts.service.create_api_token(bob.id, "psa", [DEVICES_READ], actor=CLI_ACTOR)
    await accounts.service.disable_user("bob", actor=CLI_ACTOR)
    with pytest.raises(Unauthenticated, match="sign-in failed"):
        await accounts.service.authenticate("bob", PASSWORD)
    with pytest.raises(Unauthenticated):
        await accounts.service.validate_session(issued.token)
    with pytest.raises(Unauthenticated):
        await accounts.service.authenticate_api_token(token.secret)
    assert (await accounts.service.get_user("bob")).disabled_at == accounts.clock.now


# --- TOTP ----------------------------------------------------------------------------------------


async def test_admin_must_enrol_totp_before_sign_in_completes(accounts: Accounts) -> None:
    service, clock = accounts.service, accounts.clock
    admin = await accounts.user("root", "admin")
    pending = await service.sign_in("root", PASSWORD, user_agent="Firefox", address="192.0.2.1")
    assert pending.totp_pending
    with pytest.raises(Unauthenticated):
        await service.validate_session(pending.token)
    principal = await service.validate_session(pending.token, allow_totp_pending=True)
    assert principal.user.id == admin.id

    enrolment = await service.begin_totp_enrolment(admin.id)
    assert enrolment.uri.startswith("otpauth://totp/Parc%3Aroot?secret=" + enrolment.secret)
    with pytest.raises(InvalidArgument):
        await service.confirm_totp_enrolment(
            admin.id, wrong_code(enrolment.secret, clock), session_token=pending.token
        )
    code = totp.code_at(enrolment.secret, clock.now)
    await service.confirm_totp_enrolment(admin.id, code, session_token=pending.token)
    full = await service.validate_session(pending.token)
    assert full.user.totp_enabled

    # From now on the code is required, and a code once used is spent.
    with pytest.raises(TotpRequired):
        await service.authenticate("root", PASSWORD)
    with pytest.raises(Unauthenticated, match="sign-in failed"):
        await service.authenticate("root", PASSWORD, code)  # replay of the enrolment code
    clock.advance(timedelta(seconds=30))
    fresh = totp.code_at(enrolment.secret, clock.now)
    authentication = await service.authenticate("root", PASSWORD, fresh)
    assert not authentication.totp_enrolment_required
    with pytest.raises(Unauthenticated):
        await service.authenticate("root", PASSWORD, fresh)  # replay
    assert (await accounts.raw_user(admin.id)).failed_logins == 1  # the success reset it


async def test_totp_secret_is_never_stored_in_clear(accounts: Accounts) -> None:
    bob = await accounts.user("bob")
    enrolment = await accounts.service.begin_totp_enrolment(bob.id)
    async with accounts.sessions() as session:
        raw = (await session.execute(text("SELECT totp_secret FROM users"))).scalar_one()
    assert isinstance(raw, bytes) and raw
    assert enrolment.secret.encode() not in raw
    assert totp.secret_bytes(enrolment.secret) not in raw
    events = await accounts.audit.list()
    assert enrolment.secret not in repr(events)


async def test_reset_totp_makes_the_user_enrol_again(accounts: Accounts) -> None:
    admin = await accounts.user("root", "admin")
    enrolment = await accounts.service.begin_totp_enrolment(admin.id)
    code = totp.code_at(enrolment.secret, accounts.clock.now)
    await accounts.service.confirm_totp_enrolment(admin.id, code)
    with pytest.raises(FailedPrecondition):
        await accounts.service.begin_totp_enrolment(admin.id)
    await accounts.service.reset_totp("root", actor=CLI_ACTOR)
    row = await accounts.raw_user(admin.id)
    assert (row.totp_secret, row.totp_enabled, row.totp_last_counter) == (None, False, None)
    assert (await accounts.service.authenticate("root", PASSWORD)).totp_enrolment_required


# --- sessions ------------------------------------------------------------------------------------


async def test_session_token_is_stored_only_as_its_hash(accounts: Accounts) -> None:
    await accounts.user("bob", "technician", "Acme")
    issued = await accounts.service.sign_in("bob", PASSWORD, user_agent="UA", address="192.0.2.7")
    async with accounts.sessions() as session:
        row = await session.scalar(select(UserSessionRow))
    assert row is not None
    assert row.id == hash_secret(issued.token) == issued.session_id
    assert (row.user_agent, row.address) == ("UA", "192.0.2.7")
    assert issued.token not in repr([getattr(row, c.key) for c in UserSessionRow.__table__.c])


async def test_session_slides_then_expires_when_idle_and_at_most_twelve_hours(
    accounts: Accounts,
) -> None:
    service, clock = accounts.service, accounts.clock
    await accounts.user("bob")
    issued = await service.sign_in("bob", PASSWORD)
    for _ in range(11):  # used every 59 minutes: slides
        clock.advance(timedelta(minutes=59))
        await service.validate_session(issued.token)
    clock.advance(timedelta(minutes=59))  # 11 h 48 m: still inside the 12 h cap
    await service.validate_session(issued.token)
    clock.advance(timedelta(minutes=12))  # 12 h since sign-in: over, used or not
    with pytest.raises(Unauthenticated):
        await service.validate_session(issued.token)

    idle = await service.sign_in("bob", PASSWORD)
    clock.advance(timedelta(hours=1))
    with pytest.raises(Unauthenticated):
        await service.validate_session(idle.token)


async def test_logout_and_logout_everywhere(accounts: Accounts) -> None:
    service = accounts.service
    bob = await accounts.user("bob")
    carol = await accounts.user("carol")
    first = await service.sign_in("bob", PASSWORD)
    second = await service.sign_in("bob", PASSWORD)
    third = await service.sign_in("bob", PASSWORD)
    other = await service.sign_in("carol", PASSWORD)
    await service.logout(first.token)
    await service.logout(first.token)  # again: changes nothing
    with pytest.raises(Unauthenticated):
        await service.validate_session(first.token)
    await service.validate_session(second.token)
    assert await service.logout_everywhere(bob.id, actor=bob.actor) == 2
    for token in (second.token, third.token):
        with pytest.raises(Unauthenticated):
            await service.validate_session(token)
    assert (await service.validate_session(other.token)).user.id == carol.id
    with pytest.raises(Unauthenticated):
        await service.validate_session("made-up token")


async def test_change_password_keeps_the_current_session_only(accounts: Accounts) -> None:
    service = accounts.service
    bob = await accounts.user("bob")
    kept = await service.sign_in("bob", PASSWORD)
    dropped = await service.sign_in("bob", PASSWORD)
    with pytest.raises(Unauthenticated):
        await service.change_password(bob.id, "wrong current!", "a brand new password")
    await service.change_password(bob.id, PASSWORD, "a brand new password", keep_session=kept.token)
    await service.validate_session(kept.token)
    with pytest.raises(Unauthenticated):
        await service.validate_session(dropped.token)
    with pytest.raises(Unauthenticated):
        await service.authenticate("bob", PASSWORD)
    await service.authenticate("bob", "a brand new password")


# --- API tokens ----------------------------------------------------------------------------------


async def test_api_token_acts_within_its_scopes_and_is_stored_as_a_hash(
    accounts: Accounts,
) -> None:
    service, policy = accounts.service, AccessPolicy()
    acme = (await accounts.tenancy.list_tenants())[0]
    bob = await accounts.user("bob", "technician", "Acme")
    issued = await service.create_api_token(
        bob.id, "psa sync", [DEVICES_READ], actor=bob.actor, ttl=timedelta(days=30)
    )
    async with accounts.sessions() as session:
        row = await session.scalar(select(ApiTokenRow))
    assert row is not None and row.token_hash == hash_secret(issued.secret)
    principal = await service.authenticate_api_token(issued.secret)
    assert principal.scopes == frozenset({DEVICES_READ})
    assert principal.actor.reference == f"api-token:{issued.token_id}"
    assert policy.can(principal, DEVICES_READ, acme.id)
    assert not policy.can(principal, DEVICES_WRITE, acme.id)  # the role could; the token not
    [info] = await service.list_api_tokens(bob.id)
    assert info.last_used_at == accounts.clock.now

    accounts.clock.advance(timedelta(days=30))
    with pytest.raises(Unauthenticated):
        await service.authenticate_api_token(issued.secret)


async def test_api_token_scopes_limited_to_the_role_and_revocable(accounts: Accounts) -> None:
    service = accounts.service
    viewer = await accounts.user("viewer", "read-only")
    with pytest.raises(InvalidArgument):
        await service.create_api_token(viewer.id, "t", [DEVICES_WRITE], actor=CLI_ACTOR)
    with pytest.raises(InvalidArgument):
        await service.create_api_token(viewer.id, "t", ["devices:explode"], actor=CLI_ACTOR)
    with pytest.raises(InvalidArgument):
        await service.create_api_token(viewer.id, "t", [], actor=CLI_ACTOR)
    issued = await service.create_api_token(viewer.id, "t", [DEVICES_READ], actor=CLI_ACTOR)
    await service.revoke_api_token(issued.token_id, actor=CLI_ACTOR)
    with pytest.raises(Unauthenticated):
        await service.authenticate_api_token(issued.secret)
    with pytest.raises(Unauthenticated):
        await service.authenticate_api_token("parc_api_guess")
    with pytest.raises(NotFound):
        await service.revoke_api_token(999, actor=CLI_ACTOR)


# --- grants and the access policy -------------------------------------------------------------


async def test_technician_of_tenant_a_cannot_see_tenant_b(accounts: Accounts) -> None:
    service, policy = accounts.service, AccessPolicy()
    acme, globex = sorted(await accounts.tenancy.list_tenants(), key=lambda t: t.name)
    await accounts.user("tech", "technician", "Acme")
    await accounts.user("viewer", "read-only", "Globex")
    await accounts.user("root", "admin")
    tech = await service.validate_session((await service.sign_in("tech", PASSWORD)).token)
    viewer = await service.validate_session((await service.sign_in("viewer", PASSWORD)).token)
    root_user = await service.get_user("root")
    root = Principal(user=root_user, via="session", credential_id="x")

    assert policy.can(tech, DEVICES_READ, acme.id)
    assert policy.can(tech, DEVICES_WRITE, acme.id)
    assert not policy.can(tech, DEVICES_READ, globex.id)
    with pytest.raises(PermissionDenied) as denied:
        policy.require(tech, DEVICES_READ, globex.id)
    assert "Globex" not in str(denied.value) and str(globex.id) not in str(denied.value)
    assert not policy.can(tech, USERS_WRITE)
    assert not policy.can(tech, TENANTS_WRITE)
    assert policy.visible_tenants(tech) == frozenset({acme.id})

    assert policy.can(viewer, DEVICES_READ, globex.id)
    assert not policy.can(viewer, DEVICES_WRITE, globex.id)
    assert not policy.can(viewer, AUDIT_READ)

    assert policy.can(root, DEVICES_WRITE, globex.id)
    assert policy.can(root, USERS_WRITE)
    assert policy.visible_tenants(root) is None
    with pytest.raises(ValueError, match="unknown action"):
        policy.can(root, "devices:delete-everything")

    # A grant takes effect for the next request; revoking it, likewise.
    await service.grant("tech", "Globex", actor=CLI_ACTOR)
    await service.grant("tech", "Globex", actor=CLI_ACTOR)  # again: changes nothing
    tech = await service.validate_session((await service.sign_in("tech", PASSWORD)).token)
    assert policy.can(tech, DEVICES_READ, globex.id)
    await service.revoke_grant("tech", "Acme", actor=CLI_ACTOR)
    assert (await service.get_user("tech")).tenant_ids == frozenset({globex.id})
    with pytest.raises(NotFound):
        await service.grant("tech", "Initech", actor=CLI_ACTOR)


# --- audit ---------------------------------------------------------------------------------------


async def test_every_account_change_is_audited(accounts: Accounts) -> None:
    service = accounts.service
    bob = await accounts.user("bob", "technician", "Acme")
    await service.grant("bob", "Globex", actor=CLI_ACTOR, address="192.0.2.9")
    issued = await service.sign_in("bob", PASSWORD, address="192.0.2.10")
    await service.logout(issued.token)
    token = await service.create_api_token(bob.id, "t", [DEVICES_READ], actor=bob.actor)
    await service.revoke_api_token(token.token_id, actor=bob.actor)
    await service.reset_totp("bob", actor=CLI_ACTOR)
    await service.disable_user("bob", actor=CLI_ACTOR)
    assert await accounts.actions() == [
        "user.create",
        "user.grant",
        "user.authenticate",
        "session.create",
        "session.logout",
        "api_token.create",
        "api_token.revoke",
        "user.reset_totp",
        "user.disable",
    ]
    [grant] = await accounts.audit.list(AuditFilter(action="user.grant"))
    globex = next(t for t in await accounts.tenancy.list_tenants() if t.name == "Globex")
    assert (grant.actor, grant.target_id, grant.tenant_id) == ("cli", str(bob.id), globex.id)
    assert grant.address == "192.0.2.9"
    mine = await accounts.audit.list(AuditFilter(actor=f"user:{bob.id}"))
    assert {e.action for e in mine} == {
        "user.authenticate",
        "session.create",
        "session.logout",
        "api_token.create",
        "api_token.revoke",
    }
    everything = repr(await accounts.audit.list())
    assert token.secret not in everything and issued.token not in everything
    assert PASSWORD not in everything


async def test_audit_list_filters_and_pages(accounts: Accounts) -> None:
    audit, clock = accounts.audit, accounts.clock
    start = clock.now
    for number in range(5):
        await audit.record(CLI_ACTOR, "thing.do", "thing", number, tenant_id=number % 2)
        clock.advance(timedelta(minutes=1))
    newest_first = await audit.list()
    assert [e.target_id for e in newest_first] == ["4", "3", "2", "1", "0"]
    page = await audit.list(AuditFilter(limit=2, before_id=newest_first[1].id))
    assert [e.target_id for e in page] == ["2", "1"]
    tenant_one = await audit.list(AuditFilter(tenant_ids=frozenset({1})))
    assert [e.target_id for e in tenant_one] == ["3", "1"]
    window = AuditFilter(since=start + timedelta(minutes=1), until=start + timedelta(minutes=3))
    assert [e.target_id for e in await audit.list(window)] == ["2", "1"]
    with pytest.raises(InvalidArgument):
        await audit.list(AuditFilter(limit=0))
