"""People's accounts: users, sign-in with lockout, TOTP, sessions, API tokens and grants.

Sign-in refusals all read the same (``SIGN_IN_FAILED``): they never say whether the username
exists, the account is locked or disabled, or which of password and code was wrong; the
audit log, which only admins read, records why. After ``LOCKOUT_THRESHOLD`` failures in a row
an account is locked for ``LOCKOUT_BASE``, doubling with each further failure up to
``LOCKOUT_MAX``; a success clears the count.

Session and API token secrets are shown once: only their SHA-256 is stored. A session slides:
each use (at most one write a minute) pushes its expiry to ``SESSION_IDLE`` from now, never
past ``SESSION_MAX`` from sign-in. An admin without TOTP gets a *pending* session that may
only enrol TOTP; confirming the code completes the sign-in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services import totp
from server.services.access import ADMIN, ROLE_ACTIONS, ROLES, SCOPES
from server.services.audit import record_in
from server.services.clock import Clock, utc_now
from server.services.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    TotpRequired,
    Unauthenticated,
)
from server.services.passwords import check_policy, hash_password, verify_password
from server.services.records import (
    ANONYMOUS,
    Actor,
    ApiTokenInfo,
    Authentication,
    IssuedApiToken,
    IssuedSession,
    NewUser,
    Principal,
    TotpEnrolment,
    UserInfo,
)
from server.services.secrets import SecretBox
from server.services.tenancy import validate_name
from server.store.database import begin_write
from server.store.models import (
    NAME_LENGTH,
    ApiTokenRow,
    TenantRow,
    UserRow,
    UserSessionRow,
    UserTenantRow,
)

SIGN_IN_FAILED = "sign-in failed: wrong username, password or code, or too many attempts"
SESSION_INVALID = "not signed in, or the session has expired"
LOCKOUT_THRESHOLD = 5
LOCKOUT_BASE = timedelta(minutes=1)
LOCKOUT_MAX = timedelta(hours=1)
SESSION_IDLE = timedelta(hours=1)
SESSION_MAX = timedelta(hours=12)
TOTP_PENDING_MAX = timedelta(minutes=10)
TOUCH_EVERY = timedelta(minutes=1)
API_TOKEN_PREFIX = "parc_api_"  # noqa: S105 - a public prefix, not a secret
MAX_API_TOKEN_TTL = timedelta(days=3650)
GENERATED_PASSWORD_BYTES = 18  # 24 URL-safe characters
USER_AGENT_LENGTH = 512

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive: stored and compared lowercased."""
    name = username.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise InvalidArgument(
            "a username is 1-64 characters: letters, digits and . _ @ - (starting with a letter "
            "or digit)"
        )
    return name


def hash_secret(secret: str) -> str:
    """The stored form of a session or API token secret: SHA-256, lowercase hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def lockout_for(failures: int) -> timedelta | None:
    """How long an account is locked after ``failures`` failures in a row (None: not)."""
    if failures < LOCKOUT_THRESHOLD:
        return None
    doublings = min(failures - LOCKOUT_THRESHOLD, 16)
    return min(LOCKOUT_BASE * (1 << doublings), LOCKOUT_MAX)


@cache
def _decoy_hash() -> str:
    """A hash to verify against when there is no user, so timing does not tell."""
    return hash_password(secrets.token_urlsafe(16))


def _totp_context(user_id: int) -> str:
    return f"users:{user_id}:totp_secret"


class AccountService:
    """Users, sign-in, TOTP, sessions, API tokens and tenant grants; audits every change."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        secret_box: SecretBox,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._box = secret_box
        self._clock = clock

    # --- users ----------------------------------------------------------------------------------

    async def create_user(
        self,
        username: str,
        role: str,
        *,
        actor: Actor,
        password: str | None = None,
        tenants: Sequence[str] = (),
        address: str = "",
    ) -> NewUser:
        """Create a user; without ``password``, generate a one-time one (returned once)."""
        name = normalise_username(username)
        if role not in ROLES:
            raise InvalidArgument(f"role must be one of {', '.join(ROLES)}")
        generated = password is None
        if password is None:
            password = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
        check_policy(password)
        stored = hash_password(password)
        now = self._clock()
        async with self._sessions.begin() as session:
            await begin_write(session)
            if await session.scalar(select(UserRow.id).where(UserRow.username == name)):
                raise AlreadyExists(f"user {name!r} already exists")
            row = UserRow(
                username=name,
                password_hash=stored,
                must_change_password=generated,
                role=role,
                totp_secret=None,
                totp_enabled=False,
                totp_last_counter=None,
                failed_logins=0,
                locked_until=None,
                password_changed_at=now,
                created_at=now,
                disabled_at=None,
            )
            session.add(row)
            try:
                await session.flush()
            except IntegrityError as error:  # a concurrent create of the same name won
                raise AlreadyExists(f"user {name!r} already exists") from error
            tenant_ids = [await _tenant_id(session, tenant) for tenant in dict.fromkeys(tenants)]
            for tenant_id in tenant_ids:
                session.add(UserTenantRow(user_id=row.id, tenant_id=tenant_id, created_at=now))
            await record_in(
                session,
                now,
                actor,
                "user.create",
                "user",
                row.id,
                details={"username": name, "role": role, "tenant_ids": tenant_ids},
                address=address,
            )
            info = _info(row, tenant_ids)
        return NewUser(user=info, password=password if generated else None)

    async def list_users(self) -> list[UserInfo]:
        """Every user, by username."""
        async with self._sessions() as session:
            rows = (await session.scalars(select(UserRow).order_by(UserRow.username))).all()
            grants = (
                await session.execute(select(UserTenantRow.user_id, UserTenantRow.tenant_id))
            ).all()
        by_user: dict[int, list[int]] = {}
        for user_id, tenant_id in grants:
            by_user.setdefault(user_id, []).append(tenant_id)
        return [_info(row, by_user.get(row.id, ())) for row in rows]

    async def get_user(self, username: str) -> UserInfo:
        async with self._sessions() as session:
            row = await _user_by_name(session, username)
            return _info(row, await _grants(session, row.id))

    async def grant(
        self, username: str, tenant: str, *, actor: Actor, address: str = ""
    ) -> UserInfo:
        """Let the user see ``tenant`` (granting it again changes nothing)."""
        now = self._clock()
        async with self._sessions.begin() as session:
            await begin_write(session)
            row = await _user_by_name(session, username, for_update=True)
            tenant_id = await _tenant_id(session, tenant)
            granted = await _grants(session, row.id)
            if tenant_id not in granted:
                session.add(UserTenantRow(user_id=row.id, tenant_id=tenant_id, created_at=now))
                granted = [*granted, tenant_id]
                await record_in(
                    session,
                    now,
                    actor,
                    "user.grant",
                    "user",
                    row.id,
                    tenant_id=tenant_id,
                    details={"username": row.username},
                    address=address,
                )
            return _info(row, granted)

    async def revoke_grant(
        self, username: str, tenant: str, *, actor: Actor, address: str = ""
    ) -> UserInfo:
        """Stop the user seeing ``tenant``."""
        now = self._clock()
        async with self._sessions.begin() as session:
            await begin_write(session)
            row = await _user_by_name(session, username, for_update=True)
            tenant_id = await _tenant_id(session, tenant)
            grant = await session.get(UserTenantRow, (row.id, tenant_id))
            if grant is not None:
                await session.delete(grant)
                await record_in(
                    session,
                    now,
                    actor,
                    "user.revoke_grant",
                    "user",
                    row.id,
                    tenant_id=tenant_id,
                    details={"username": row.username},
                    address=address,
                )
            await session.flush()
            return _info(row, await _grants(session, row.id))

    async def disable_user(self, username: str, *, actor: Actor, address: str = "") -> UserInfo:
        """Disable a user: they cannot sign in, and their sessions and API tokens stop working.

        The last enabled admin cannot be disabled (FailedPrecondition)."""
        return await self.update_user(username, actor=actor, enabled=False, address=address)

    async def enable_user(self, username: str, *, actor: Actor, address: str = "") -> UserInfo:
        """Let a disabled user sign in again (API tokens revoked when disabled stay revoked)."""
        return await self.update_user(username, actor=actor, enabled=True, address=address)

    async def set_role(
        self, username: str, role: str, *, actor: Actor, address: str = ""
    ) -> UserInfo:
        """Change a user's role; the last enabled admin cannot be demoted."""
        return await self.update_user(username, actor=actor, role=role, address=address)

    async def update_user(
        self,
        username: str,
        *,
        actor: Actor,
        role: str | None = None,
        enabled: bool | None = None,
        tenants: Sequence[str] | None = None,
        address: str = "",
    ) -> UserInfo:
        """Change a user's role, enabled state and granted tenants (each None: unchanged), in
        one transaction: a bad value changes nothing. Each change is audited on its own.

        ``tenants`` replaces the user's grants. At least one enabled admin always remains:
        demoting or disabling the last one is refused (FailedPrecondition). A role change
        revokes the user's API tokens that hold scopes the new role does not allow."""
        if role is not None and role not in ROLES:
            raise InvalidArgument(f"role must be one of {', '.join(ROLES)}")
        now = self._clock()
        async with self._sessions.begin() as session:
            await begin_write(session)
            demoting = role is not None and role != ADMIN
            disabling = enabled is False
            # Lock the enabled admins (in id order) before the user, so two admins demoting
            # each other at once queue instead of deadlocking, and one always remains.
            admins: list[int] = []
            if demoting or disabling:
                admins = list(
                    await session.scalars(
                        select(UserRow.id)
                        .where(UserRow.role == ADMIN, UserRow.disabled_at.is_(None))
                        .order_by(UserRow.id)
                        .with_for_update()
                    )
                )
            row = await _user_by_name(session, username, for_update=True)
            wanted_tenants = (
                None
                if tenants is None
                else [await _tenant_id(session, tenant) for tenant in dict.fromkeys(tenants)]
            )
            if admins == [row.id]:
                raise FailedPrecondition(
                    f"{row.username} is the last enabled admin: make another admin first"
                )
            if role is not None and role != row.role:
                await self._change_role(session, row, role, now, actor, address)
            if enabled is False and row.disabled_at is None:
                await self._disable(session, row, now, actor, address)
            if enabled is True and row.disabled_at is not None:
                row.disabled_at = None
                await record_in(
                    session,
                    now,
                    actor,
                    "user.enable",
                    "user",
                    row.id,
                    details={"username": row.username},
                    address=address,
                )
            granted = await _grants(session, row.id)
            if wanted_tenants is not None:
                for tenant_id in wanted_tenants:
                    if tenant_id not in granted:
                        session.add(
                            UserTenantRow(user_id=row.id, tenant_id=tenant_id, created_at=now)
                        )
                        await _record_grant(
                            session, now, actor, "user.grant", row, tenant_id, address
                        )
                for tenant_id in granted:
                    if tenant_id not in wanted_tenants:
                        grant = await session.get(UserTenantRow, (row.id, tenant_id))
                        if grant is not None:
                            await session.delete(grant)
                        await _record_grant(
                            session, now, actor, "user.revoke_grant", row, tenant_id, address
                        )
                await session.flush()
                granted = await _grants(session, row.id)
            return _info(row, granted)

    async def _change_role(
        self,
        session: AsyncSession,
        row: UserRow,
        role: str,
        now: datetime,
        actor: Actor,
        address: str,
    ) -> None:
        previous, row.role = row.role, role
        allowed = ROLE_ACTIONS[role]
        tokens = await session.scalars(
            select(ApiTokenRow).where(
                ApiTokenRow.user_id == row.id, ApiTokenRow.revoked_at.is_(None)
            )
        )
        revoked = []
        for token in tokens:
            if not set(token.scopes) <= allowed:
                token.revoked_at = now
                revoked.append(token.id)
        await record_in(
            session,
            now,
            actor,
            "user.set_role",
            "user",
            row.id,
            details={
                "username": row.username,
                "from": previous,
                "to": role,
                "revoked_api_tokens": revoked,
            },
            address=address,
        )

    async def _disable(
        self, session: AsyncSession, row: UserRow, now: datetime, actor: Actor, address: str
    ) -> None:
        row.disabled_at = now
        await _revoke_sessions(session, row.id, now)
        await session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.user_id == row.id, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await record_in(
            session,
            now,
            actor,
            "user.disable",
            "user",
            row.id,
            details={"username": row.username},
            address=address,
        )

    async def last_sign_ins(self) -> dict[int, datetime]:
        """When each user last signed in (opened a session), by user id."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(UserSessionRow.user_id, func.max(UserSessionRow.created_at)).group_by(
                        UserSessionRow.user_id
                    )
                )
            ).all()
        return {user_id: when for user_id, when in rows if when is not None}

    async def reset_totp(self, username: str, *, actor: Actor, address: str = "") -> UserInfo:
        """Forget the user's TOTP (a lost phone): they enrol again at their next sign-in."""
        now = self._clock()
        async with self._sessions.begin() as session:
            await begin_write(session)
            row = await _user_by_name(session, username, for_update=True)
            row.totp_secret = None
            row.totp_enabled = False
            row.totp_last_counter = None
            await _revoke_sessions(session, row.id, now)
            await record_in(
                session,
                now,
                actor,
                "user.reset_totp",
                "user",
                row.id,
                details={"username": row.username},
                address=address,
            )
            return _info(row, await _grants(session, row.id))

    async def change_password(
        self,
        user_id: int,
        current: str,
        new: str,
        *,
        keep_session: str | None = None,
        address: str = "",
    ) -> None:
        """Change a password, knowing the current one; signs out every other session."""
        check_policy(new)
        stored = hash_password(new)
        now = self._clock()
        async with self._sessions() as session:
            row = await session.get(UserRow, user_id)
        if row is None or not verify_password(current, row.password_hash):
            raise Unauthenticated("the current password is wrong")
        async with self._sessions.begin() as session:
            await begin_write(session)
            row = await _user_by_id(session, user_id)
            row.password_hash = stored
            row.must_change_password = False
            row.password_changed_at = now
            keep = hash_secret(keep_session) if keep_session else None
            await _revoke_sessions(session, user_id, now, keep=keep)
            await record_in(
                session,
                now,
                row_actor(row),
                "user.change_password",
                "user",
                user_id,
                address=address,
            )

    # --- signing in -------------------------------------------------------------------------------

    async def authenticate(
        self, username: str, password: str, totp_code: str | None = None, *, address: str = ""
    ) -> Authentication:
        """Check a password (and TOTP code); count failures and lock out after repeated ones.

        Raises ``Unauthenticated`` (always ``SIGN_IN_FAILED``) on any failure, and
        ``TotpRequired`` when the password was right but the user's TOTP code is missing.
        """
        now = self._clock()
        try:
            name = normalise_username(username)
        except InvalidArgument:
            name = ""
        async with self._sessions() as session:
            found = await session.scalar(select(UserRow).where(UserRow.username == name))
        # Always run scrypt once, so a missing user takes as long as a wrong password.
        password_ok = verify_password(password, found.password_hash if found else _decoy_hash())
        if found is None:
            await self._audit_refusal(ANONYMOUS, None, "unknown user", address)
            raise Unauthenticated(SIGN_IN_FAILED)

        refusal: str | None = None
        needs_code = False
        async with self._sessions.begin() as session:
            await begin_write(session)
            row = await _user_by_id(session, found.id, for_update=True)
            if row.disabled_at is not None:
                refusal = "disabled"
            elif row.locked_until is not None and now < row.locked_until:
                refusal = "locked"
            elif not password_ok or row.password_hash != found.password_hash:
                refusal = "wrong password"
            elif row.totp_enabled and not (totp_code or "").strip():
                needs_code = True
            elif row.totp_enabled:
                counter = self._verify_totp(row, totp_code or "", now)
                if counter is None:
                    refusal = "wrong or reused TOTP code"
                else:
                    row.totp_last_counter = counter
            if refusal in ("wrong password", "wrong or reused TOTP code"):
                row.failed_logins += 1
                lock = lockout_for(row.failed_logins)
                row.locked_until = now + lock if lock is not None else row.locked_until
            details: dict[str, object] = {"username": row.username}
            if refusal is not None:
                details.update(reason=refusal, failed_logins=row.failed_logins)
                if row.locked_until is not None and now < row.locked_until:
                    details["locked_until"] = row.locked_until.isoformat()
                await record_in(
                    session,
                    now,
                    ANONYMOUS,
                    "user.sign_in_failed",
                    "user",
                    row.id,
                    details=details,
                    address=address,
                )
            elif not needs_code:
                row.failed_logins = 0
                row.locked_until = None
                await record_in(
                    session,
                    now,
                    row_actor(row),
                    "user.authenticate",
                    "user",
                    row.id,
                    details=details,
                    address=address,
                )
            info = _info(row, await _grants(session, row.id))
        if refusal is not None:
            raise Unauthenticated(SIGN_IN_FAILED)
        if needs_code:
            raise TotpRequired("enter the code from your authenticator app")
        return Authentication(
            user=info,
            totp_enrolment_required=info.role == ADMIN and not info.totp_enabled,
            must_change_password=info.must_change_password,
        )

    async def sign_in(
        self,
        username: str,
        password: str,
        totp_code: str | None = None,
        *,
        user_agent: str = "",
        address: str = "",
    ) -> IssuedSession:
        """``authenticate``, then open a session (pending if an admin must enrol TOTP first)."""
        authentication = await self.authenticate(username, password, totp_code, address=address)
        return await self._open_session(
            authentication.user,
            totp_pending=authentication.totp_enrolment_required,
            user_agent=user_agent,
            address=address,
        )

    async def _audit_refusal(
        self, actor: Actor, user_id: int | None, reason: str, address: str
    ) -> None:
        async with self._sessions.begin() as session:
            await begin_write(session)
            await record_in(
                session,
                self._clock(),
                actor,
                "user.sign_in_failed",
                "user",
                "" if user_id is None else user_id,
                details={"reason": reason},
                address=address,
            )

    def _verify_totp(self, row: UserRow, code: str, now: datetime) -> int | None:
        if row.totp_secret is None:
            return None
        secret = self._box.open(row.totp_secret, _totp_context(row.id)).decode("ascii")
        return totp.verify(secret, code, now, row.totp_last_counter)

    # --- TOTP enrolment ---------------------------------------------------------------------------

    async def begin_totp_enrolment(self, user_id: int, *, address: str = "") -> TotpEnrolment:
        """Make a new TOTP secret for the user (replacing one not yet confirmed)."""
        secret = totp.new_secret()
        now = self._clock()
        async with self._sessions.begin() as session:
            await begin_write(session)
            row = await _user_by_id(session, user_id, for_update=True)
            if row.totp_enabled:
                raise FailedPrecondition("TOTP is already set up; an admin can reset it")
            row.totp_secret = self._box.seal(secret.encode("ascii"), _totp_context(row.id))
            row.totp_last_counter = None
            await record_in(
                session, now, row_actor(row), "user.totp_begin", "user", row.id, address=address
            )
            username = row.username
        return TotpEnrolment(secret=secret, uri=totp.provisioning_uri(secret, username))

    async def confirm_totp_enrolment(
        self, user_id: int, code: str, *, session_token: str | None = None, address: str = ""
    ) -> UserInfo:
        """Turn TOTP on once the user shows a valid code; completes a pending session."""
        now = self._clock()
        async with self._sessions.begin() as session:
            await begin_write(session)
            row = await _user_by_id(session, user_id, for_update=True)
            if row.totp_enabled or row.totp_secret is None:
                raise FailedPrecondition("start TOTP enrolment first")
            counter = self._verify_totp(row, code, now)
            if counter is None:
                raise InvalidArgument("that code is not right; check your device's clock")
            row.totp_enabled = True
            row.totp_last_counter = counter
            if session_token is not None:
                await session.execute(
                    update(UserSessionRow)
                    .where(
                        UserSessionRow.id == hash_secret(session_token),
                        UserSessionRow.user_id == user_id,
                    )
                    .values(totp_pending=False, expires_at=now + SESSION_IDLE)
                )
            await record_in(
                session, now, row_actor(row), "user.totp_enable", "user", row.id, address=address
            )
            return _info(row, await _grants(session, row.id))

    # --- sessions ---------------------------------------------------------------------------------

    async def _open_session(
        self, user: UserInfo, *, totp_pending: bool, user_agent: str, address: str
    ) -> IssuedSession:
        token = secrets.token_urlsafe(32)
        session_id = hash_secret(token)
        now = self._clock()
        expires_at = now + (TOTP_PENDING_MAX if totp_pending else SESSION_IDLE)
        async with self._sessions.begin() as session:
            await begin_write(session)
            session.add(
                UserSessionRow(
                    id=session_id,
                    user_id=user.id,
                    totp_pending=totp_pending,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=expires_at,
                    revoked_at=None,
                    user_agent=user_agent[:USER_AGENT_LENGTH],
                    address=address[:64],
                )
            )
            await record_in(
                session,
                now,
                user.actor,
                "session.create",
                "session",
                session_id[:16],
                details={"totp_pending": totp_pending},
                address=address,
            )
        return IssuedSession(
            token=token,
            session_id=session_id,
            user=user,
            totp_pending=totp_pending,
            expires_at=expires_at,
        )

    async def validate_session(self, token: str, *, allow_totp_pending: bool = False) -> Principal:
        """The principal of a session cookie; slides its expiry. Unauthenticated if not valid."""
        session_id = hash_secret(token)
        now = self._clock()
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(UserSessionRow, UserRow)
                    .join(UserRow, UserRow.id == UserSessionRow.user_id)
                    .where(UserSessionRow.id == session_id)
                )
            ).first()
            if found is None:
                raise Unauthenticated(SESSION_INVALID)
            row, user = found
            if (
                row.revoked_at is not None
                or now >= row.expires_at
                or user.disabled_at is not None
                or (row.totp_pending and not allow_totp_pending)
            ):
                raise Unauthenticated(SESSION_INVALID)
            grants = await _grants(session, user.id)
        if now - row.last_seen_at >= TOUCH_EVERY and not row.totp_pending:
            async with self._sessions.begin() as session:
                await begin_write(session)
                await session.execute(
                    update(UserSessionRow)
                    .where(UserSessionRow.id == session_id)
                    .values(
                        last_seen_at=now,
                        expires_at=min(now + SESSION_IDLE, row.created_at + SESSION_MAX),
                    )
                )
        return Principal(user=_info(user, grants), via="session", credential_id=session_id)

    async def logout(self, token: str, *, address: str = "") -> None:
        """End one session (a session already ended, or unknown, changes nothing)."""
        session_id = hash_secret(token)
        now = self._clock()
        async with self._sessions.begin() as session:
            await begin_write(session)
            row = await session.get(UserSessionRow, session_id)
            if row is None or row.revoked_at is not None:
                return
            row.revoked_at = now
            user = await _user_by_id(session, row.user_id)
            await record_in(
                session,
                now,
                row_actor(user),
                "session.logout",
                "session",
                session_id[:16],
                address=address,
            )

    async def logout_everywhere(self, user_id: int, *, actor: Actor, address: str = "") -> int:
        """End every session of the user; returns how many were open."""
        now = self._clock()
        async with self._sessions.begin() as session:
            await begin_write(session)
            await _user_by_id(session, user_id)
            count = await _revoke_sessions(session, user_id, now)
            await record_in(
                session,
                now,
                actor,
                "session.logout_everywhere",
                "user",
                user_id,
                details={"sessions": count},
                address=address,
            )
        return count

    # --- API tokens -------------------------------------------------------------------------------

    async def create_api_token(
        self,
        user_id: int,
        name: str,
        scopes: Iterable[str],
        *,
        actor: Actor,
        ttl: timedelta | None = None,
        address: str = "",
    ) -> IssuedApiToken:
        """A token acting as the user within ``scopes`` (each must be one the role allows)."""
        validate_name("API token", name)
        wanted = tuple(sorted(set(scopes)))
        if not wanted:
            raise InvalidArgument("an API token needs at least one scope")
        unknown = [scope for scope in wanted if scope not in SCOPES]
        if unknown:
            raise InvalidArgument(f"unknown scope(s): {', '.join(unknown)}")
        if ttl is not None and not timedelta(0) < ttl <= MAX_API_TOKEN_TTL:
            raise InvalidArgument("token lifetime must be positive and at most 10 years")
        secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._clock()
        expires_at = now + ttl if ttl is not None else None
        async with self._sessions.begin() as session:
            await begin_write(session)
            user = await _user_by_id(session, user_id)
            if user.disabled_at is not None:
                raise FailedPrecondition("the user is disabled")
            beyond = [scope for scope in wanted if scope not in ROLE_ACTIONS[user.role]]
            if beyond:
                raise InvalidArgument(f"a {user.role} cannot hold scope(s): {', '.join(beyond)}")
            row = ApiTokenRow(
                token_hash=hash_secret(secret),
                name=name,
                user_id=user_id,
                scopes=list(wanted),
                created_at=now,
                expires_at=expires_at,
                revoked_at=None,
                last_used_at=None,
            )
            session.add(row)
            await session.flush()
            await record_in(
                session,
                now,
                actor,
                "api_token.create",
                "api_token",
                row.id,
                details={"name": name, "user_id": user_id, "scopes": list(wanted)},
                address=address,
            )
            token_id = row.id
        return IssuedApiToken(
            token_id=token_id, secret=secret, name=name, scopes=wanted, expires_at=expires_at
        )

    async def authenticate_api_token(self, secret: str) -> Principal:
        """The principal of an API token; Unauthenticated if unknown, revoked or expired."""
        now = self._clock()
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(ApiTokenRow, UserRow)
                    .join(UserRow, UserRow.id == ApiTokenRow.user_id)
                    .where(ApiTokenRow.token_hash == hash_secret(secret))
                )
            ).first()
            if found is None:
                raise Unauthenticated("unknown, revoked or expired API token")
            token, user = found
            if (
                token.revoked_at is not None
                or (token.expires_at is not None and now >= token.expires_at)
                or user.disabled_at is not None
            ):
                raise Unauthenticated("unknown, revoked or expired API token")
            grants = await _grants(session, user.id)
        if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
            async with self._sessions.begin() as session:
                await begin_write(session)
                await session.execute(
                    update(ApiTokenRow).where(ApiTokenRow.id == token.id).values(last_used_at=now)
                )
        return Principal(
            user=_info(user, grants),
            via="api-token",
            credential_id=str(token.id),
            scopes=frozenset(token.scopes),
        )

    async def revoke_api_token(self, token_id: int, *, actor: Actor, address: str = "") -> None:
        """Revoke an API token; revoking it again changes nothing."""
        now = self._clock()
        async with self._sessions.begin() as session:
            await begin_write(session)
            row = await session.get(ApiTokenRow, token_id)
            if row is None:
                raise NotFound(f"API token {token_id} does not exist")
            if row.revoked_at is None:
                row.revoked_at = now
                await record_in(
                    session,
                    now,
                    actor,
                    "api_token.revoke",
                    "api_token",
                    token_id,
                    details={"name": row.name},
                    address=address,
                )

    async def get_api_token(self, token_id: int) -> ApiTokenInfo:
        """One API token (never its secret); NotFound if there is none."""
        async with self._sessions() as session:
            row = await session.get(ApiTokenRow, token_id)
        if row is None:
            raise NotFound(f"API token {token_id} does not exist")
        return _token_info(row)

    async def list_api_tokens(self, user_id: int | None = None) -> list[ApiTokenInfo]:
        """API tokens (of one user, or all), oldest first; never their secrets."""
        query = select(ApiTokenRow).order_by(ApiTokenRow.id)
        if user_id is not None:
            query = query.where(ApiTokenRow.user_id == user_id)
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [_token_info(row) for row in rows]


def row_actor(row: UserRow) -> Actor:
    return Actor("user", row.id, row.username)


def _token_info(row: ApiTokenRow) -> ApiTokenInfo:
    return ApiTokenInfo(
        token_id=row.id,
        name=row.name,
        user_id=row.user_id,
        scopes=tuple(row.scopes),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def _info(row: UserRow, tenant_ids: Iterable[int]) -> UserInfo:
    return UserInfo(
        id=row.id,
        username=row.username,
        role=row.role,
        totp_enabled=row.totp_enabled,
        must_change_password=row.must_change_password,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
        locked_until=row.locked_until,
        tenant_ids=frozenset(tenant_ids),
    )


async def _user_by_name(
    session: AsyncSession, username: str, *, for_update: bool = False
) -> UserRow:
    name = normalise_username(username)
    query = select(UserRow).where(UserRow.username == name)
    row = await session.scalar(query.with_for_update() if for_update else query)
    if row is None:
        raise NotFound(f"user {name!r} does not exist")
    return row


async def _user_by_id(session: AsyncSession, user_id: int, *, for_update: bool = False) -> UserRow:
    query = select(UserRow).where(UserRow.id == user_id)
    row = await session.scalar(query.with_for_update() if for_update else query)
    if row is None:
        raise NotFound(f"user {user_id} does not exist")
    return row


async def _tenant_id(session: AsyncSession, tenant: str) -> int:
    if len(tenant) > NAME_LENGTH:
        raise InvalidArgument(f"tenant name must be at most {NAME_LENGTH} characters")
    tenant_id = await session.scalar(select(TenantRow.id).where(TenantRow.name == tenant))
    if tenant_id is None:
        raise NotFound(f"tenant {tenant!r} does not exist")
    return tenant_id


async def _record_grant(
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    action: str,
    row: UserRow,
    tenant_id: int,
    address: str,
) -> None:
    await record_in(
        session,
        now,
        actor,
        action,
        "user",
        row.id,
        tenant_id=tenant_id,
        details={"username": row.username},
        address=address,
    )


async def _grants(session: AsyncSession, user_id: int) -> list[int]:
    rows = await session.scalars(
        select(UserTenantRow.tenant_id)
        .where(UserTenantRow.user_id == user_id)
        .order_by(UserTenantRow.tenant_id)
    )
    return list(rows)


async def _revoke_sessions(
    session: AsyncSession, user_id: int, now: datetime, *, keep: str | None = None
) -> int:
    query = update(UserSessionRow).where(
        UserSessionRow.user_id == user_id,
        UserSessionRow.revoked_at.is_(None),
        UserSessionRow.expires_at > now,
    )
    if keep is not None:
        query = query.where(UserSessionRow.id != keep)
    result = await session.execute(query.values(revoked_at=now))
    return int(getattr(result, "rowcount", 0) or 0)
