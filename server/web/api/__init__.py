"""The REST API: ``/api/v1``, described by its OpenAPI document at /api/v1/openapi.json.

One module per area, each with its ``router`` (prefix ``/api/v1/...``); ``ROUTERS`` lists them.
"""

from __future__ import annotations

from fastapi import APIRouter

from server.web.api import admin, device, devices, tenancy, v1

ROUTERS: tuple[APIRouter, ...] = (
    v1.router,
    tenancy.router,
    admin.router,
    devices.router,
    device.router,
)
