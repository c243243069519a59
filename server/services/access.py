"""Who may do what, where: roles, actions, API token scopes and tenant grants.

Every route asks ``AccessPolicy.can(principal, action, tenant_id)`` (or ``require``) before
calling a service. An action is ``area:verb``; a role allows a set of actions; an API token
acts as its user within its scopes (a scope is an action); a technician or read-only user acts
only on the tenants granted to them, an admin on every tenant. ``tenant_id=None`` asks about
an action that is not about one tenant (a list across tenants: the route then narrows it to
``visible_tenants``).
"""

from __future__ import annotations

from server.services.errors import PermissionDenied
from server.services.records import Principal

ADMIN = "admin"
TECHNICIAN = "technician"
READ_ONLY = "read-only"
ROLES = (ADMIN, TECHNICIAN, READ_ONLY)

DEVICES_READ = "devices:read"
DEVICES_WRITE = "devices:write"
TOKENS_READ = "tokens:read"
TOKENS_WRITE = "tokens:write"
TENANTS_READ = "tenants:read"
TENANTS_WRITE = "tenants:write"
USERS_READ = "users:read"
USERS_WRITE = "users:write"
AUDIT_READ = "audit:read"
SETTINGS_WRITE = "settings:write"

ACTIONS = frozenset(
    {
        DEVICES_READ,
        DEVICES_WRITE,
        TOKENS_READ,
        TOKENS_WRITE,
        TENANTS_READ,
        TENANTS_WRITE,
        USERS_READ,
        USERS_WRITE,
        AUDIT_READ,
        SETTINGS_WRITE,
    }
)
SCOPES = ACTIONS

_READS = frozenset({DEVICES_READ, TOKENS_READ, TENANTS_READ})
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    ADMIN: ACTIONS,
    TECHNICIAN: _READS | {DEVICES_WRITE, TOKENS_WRITE, AUDIT_READ},
    READ_ONLY: _READS,
}


class AccessPolicy:
    """The one place access decisions are made."""

    def can(self, principal: Principal, action: str, tenant_id: int | None = None) -> bool:
        """Whether ``principal`` may do ``action`` (on ``tenant_id``, if about one tenant)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")  # a programming error, not input
        user = principal.user
        if user.disabled_at is not None:
            return False
        if action not in ROLE_ACTIONS.get(user.role, frozenset()):
            return False
        if principal.scopes is not None and action not in principal.scopes:
            return False
        visible = self.visible_tenants(principal)
        return tenant_id is None or visible is None or tenant_id in visible

    def require(self, principal: Principal, action: str, tenant_id: int | None = None) -> None:
        """Raise PermissionDenied unless ``can``; the message names no tenant or data."""
        if not self.can(principal, action, tenant_id):
            raise PermissionDenied("you are not allowed to do this")

    def visible_tenants(self, principal: Principal) -> frozenset[int] | None:
        """The tenants ``principal`` may see: None for every tenant (admins)."""
        if principal.user.role == ADMIN:
            return None
        return principal.user.tenant_ids
