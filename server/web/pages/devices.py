"""The devices list: search, filter, sort, pages, CSV export, live presence."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
