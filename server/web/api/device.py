"""/api/v1 for one device: hardware, health series, software, licences, events, revoke, tags."""

from __future__ import annotations

from fastapi import APIRouter

from server.web.api.v1 import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
