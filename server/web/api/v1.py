"""``/api/v1``: the same services and the same role and tenant checks as the pages."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from server.web.auth import ApiPrincipal

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"description": "not signed in, or a bad API token"},
    403: {"description": "not allowed (role, scope or CSRF)"},
}

# The Cache-Control of an answer that carries a secret once (a new token or password).
NO_STORE = "no-store"

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)


class Me(BaseModel):
    """The caller."""

    username: str
    role: str
    tenant_ids: list[int]
    via: str
    scopes: list[str] | None


@router.get("/me", tags=["account"])
async def me(principal: ApiPrincipal) -> Me:
    """Who the API token or session belongs to."""
    return Me(
        username=principal.user.username,
        role=principal.user.role,
        tenant_ids=sorted(principal.user.tenant_ids),
        via=principal.via,
        scopes=sorted(principal.scopes) if principal.scopes is not None else None,
    )
