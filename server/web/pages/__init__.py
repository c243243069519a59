"""The dashboard's pages: one module per area, each with its ``router``."""

from __future__ import annotations

from fastapi import APIRouter

from server.web.pages import admin, device, devices, fleet, session, tenancy

# Order matters: fixed paths (/devices/add, /devices.csv, /devices/presence) come before
# /devices/{device_id}.
ROUTERS: tuple[APIRouter, ...] = (
    session.router,
    fleet.router,
    tenancy.router,
    admin.router,
    devices.router,
    device.router,
)
