"""One device: identity, hardware, health and charts, software, licences, events, revoke, tags."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
