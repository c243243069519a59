"""/api/v1: Administration: users and roles, API tokens, the audit log, settings."""

from __future__ import annotations

from fastapi import APIRouter

from server.web.api.v1 import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
