"""Administration: users and roles, API tokens, the audit log, settings.

One module per page area; this router gathers them (registered in ``server.web.pages``).
"""

from __future__ import annotations

from fastapi import APIRouter

from server.web.pages import admin_audit, admin_settings, admin_tokens, admin_users

router = APIRouter(include_in_schema=False)
for _area in (admin_users, admin_tokens, admin_audit, admin_settings):
    router.include_router(_area.router)
