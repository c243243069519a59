"""Administering users: role changes, enabling, grants replaced at once, the last admin kept,
last sign-ins, one API token, and the audit log's actor-name filter and action list."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services.access import DEVICES_READ, DEVICES_WRITE
from server.services.accounts import AccountService
from server.services.audit import AuditFilter, AuditLog
from server.services.errors import FailedPrecondition, InvalidArgument, NotFound, Unauthenticated
from server.services.records import CLI_ACTOR, UserInfo
from server.services.secrets import SecretBox
from server.services.tenancy import TenancyService
from server.store.models import TenantRow
from tests.conftest import FakeClock

PASSWORD = "correct horse battery staple"


class Admin:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, tmp_path: Path
    ) -> None:
        self.clock = clock
        self.service = AccountService(sessions, SecretBox.for_data_dir(tmp_path / "d"), clock)
        self.audit = AuditLog(sessions, clock)
        self.tenancy = TenancyService(sessions, clock)

    async def user(self, name: str, role: str, *tenants: str) -> UserInfo:
        created = await self.service.create_user(
            name, role, actor=CLI_ACTOR, password=PASSWORD, tenants=tenants
        )
        return created.user

    async def tenant_ids(self, *names: str) -> frozenset[int]:
        return frozenset(t.id for t in await self.tenancy.list_tenants() if t.name in names)


@pytest.fixture
async def admin(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, tmp_path: Path
) -> Admin:
    async with sessions.begin() as session:
        session.add_all(
            TenantRow(name=name, created_at=clock.now) for name in ("Acme", "Globex", "Initech")
        )
    return Admin(sessions, clock, tmp_path)


async def test_the_last_enabled_admin_can_be_neither_disabled_nor_demoted(admin: Admin) -> None:
    root = await admin.user("root", "admin")
    with pytest.raises(FailedPrecondition, match="last enabled admin"):
        await admin.service.disable_user("root", actor=root.actor)
    with pytest.raises(FailedPrecondition, match="last enabled admin"):
        await admin.service.set_role("root", "technician", actor=root.actor)
    unchanged = await admin.service.get_user("root")
    assert (unchanged.role, unchanged.disabled_at) == ("admin", None)
    # A disabled admin does not count: it cannot sign in.
    await admin.user("second", "admin")
    await admin.service.disable_user("second", actor=root.actor)
    with pytest.raises(FailedPrecondition):
        await admin.service.disable_user("root", actor=root.actor)
    await admin.service.enable_user("second", actor=root.actor)
    demoted = await admin.service.set_role("root", "technician", actor=root.actor)
    assert demoted.role == "technician"
    actions = [e.action for e in await admin.audit.list()]
    assert actions[:3] == ["user.set_role", "user.enable", "user.disable"]


async def test_enable_lets_a_disabled_user_sign_in_again(admin: Admin) -> None:
    await admin.user("bob", "technician", "Acme")
    await admin.service.disable_user("bob", actor=CLI_ACTOR)
    with pytest.raises(Unauthenticated):
        await admin.service.sign_in("bob", PASSWORD)
    enabled = await admin.service.enable_user("bob", actor=CLI_ACTOR, address="192.0.2.1")
    assert enabled.disabled_at is None
    assert (await admin.service.sign_in("bob", PASSWORD)).user.username == "bob"
    [event] = await admin.audit.list(AuditFilter(action="user.enable"))
    assert (event.address, event.details["username"]) == ("192.0.2.1", "bob")


async def test_update_user_replaces_grants_and_audits_each(admin: Admin) -> None:
    await admin.user("bob", "technician", "Acme", "Globex")
    updated = await admin.service.update_user("bob", actor=CLI_ACTOR, tenants=["Globex", "Initech"])
    assert updated.tenant_ids == await admin.tenant_ids("Globex", "Initech")
    grants = await admin.audit.list(AuditFilter(action="user.grant"))
    revokes = await admin.audit.list(AuditFilter(action="user.revoke_grant"))
    assert [e.tenant_id for e in grants] == sorted(await admin.tenant_ids("Initech"))
    assert [e.tenant_id for e in revokes] == sorted(await admin.tenant_ids("Acme"))


async def test_update_user_with_one_bad_value_changes_nothing(admin: Admin) -> None:
    await admin.user("bob", "technician", "Acme")
    before = len(await admin.audit.list())
    with pytest.raises(NotFound):
        await admin.service.update_user(
            "bob", actor=CLI_ACTOR, role="read-only", tenants=["Acme", "Nowhere"]
        )
    with pytest.raises(InvalidArgument):
        await admin.service.update_user("bob", actor=CLI_ACTOR, role="superuser")
    with pytest.raises(NotFound):
        await admin.service.update_user("nobody", actor=CLI_ACTOR, enabled=False)
    bob = await admin.service.get_user("bob")
    assert (bob.role, bob.tenant_ids) == ("technician", await admin.tenant_ids("Acme"))
    assert len(await admin.audit.list()) == before


async def test_demotion_revokes_api_tokens_beyond_the_new_role(admin: Admin) -> None:
    bob = await admin.user("bob", "technician", "Acme")
    reader = await admin.service.create_api_token(bob.id, "r", [DEVICES_READ], actor=bob.actor)
    writer = await admin.service.create_api_token(bob.id, "w", [DEVICES_WRITE], actor=bob.actor)
    await admin.service.set_role("bob", "read-only", actor=CLI_ACTOR)
    assert (await admin.service.authenticate_api_token(reader.secret)).user.role == "read-only"
    with pytest.raises(Unauthenticated):
        await admin.service.authenticate_api_token(writer.secret)
    [event] = await admin.audit.list(AuditFilter(action="user.set_role"))
    assert event.details == {
        "username": "bob",
        "from": "technician",
        "to": "read-only",
        "revoked_api_tokens": [writer.token_id],
    }


async def test_last_sign_ins_and_get_api_token(admin: Admin) -> None:
    bob = await admin.user("bob", "technician")
    carol = await admin.user("carol", "read-only")
    first = admin.clock.now
    await admin.service.sign_in("bob", PASSWORD)
    admin.clock.advance(timedelta(hours=1))
    await admin.service.sign_in("bob", PASSWORD)
    seen = await admin.service.last_sign_ins()
    assert seen == {bob.id: admin.clock.now}
    assert carol.id not in seen and seen[bob.id] > first
    issued = await admin.service.create_api_token(bob.id, "t", [DEVICES_READ], actor=bob.actor)
    token = await admin.service.get_api_token(issued.token_id)
    assert (token.name, token.user_id, token.scopes) == ("t", bob.id, (DEVICES_READ,))
    with pytest.raises(NotFound):
        await admin.service.get_api_token(issued.token_id + 1)


async def test_audit_filters_by_actor_name_and_lists_actions(admin: Admin) -> None:
    bob = await admin.user("bob", "technician")
    await admin.service.create_api_token(bob.id, "t", [DEVICES_READ], actor=bob.actor)
    mine = await admin.audit.list(AuditFilter(actor_name="bob"))
    assert [e.action for e in mine] == ["api_token.create"]
    assert await admin.audit.actions() == ["api_token.create", "user.create"]


async def test_two_admins_disabling_each_other_at_once_leave_one(admin: Admin) -> None:
    alice = await admin.user("alice", "admin")
    bob = await admin.user("bob", "admin")
    results = await asyncio.gather(
        admin.service.disable_user("bob", actor=alice.actor),
        admin.service.disable_user("alice", actor=bob.actor),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, FailedPrecondition)]
    assert len(refused) == 1, results
    users = await admin.service.list_users()
    assert [u.username for u in users if u.disabled_at is None] in (["alice"], ["bob"])
