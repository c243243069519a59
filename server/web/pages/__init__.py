"""The dashboard's pages: one module per area, each with its ``router``."""

from __future__ import annotations

from fastapi import APIRouter

from server.web.pages import fleet, session, tenancy

ROUTERS: tuple[APIRouter, ...] = (session.router, fleet.router, tenancy.router)
