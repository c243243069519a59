"""/api/v1: The devices list: search, filter, sort, pages, CSV export, live presence."""

from __future__ import annotations

from fastapi import APIRouter

from server.web.api.v1 import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
