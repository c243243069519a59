"""``/api/v1/devices`` and ``/api/v1/fleet/overview``: the fleet pages' reads, as JSON.

The same filters as the /devices page (query parameters, same names), ``page`` and ``limit``
(at most 500) for paging; the same role, scope (``devices:read``) and tenant checks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from server.services import access
from server.services.fleet_queries import (
    COUNT_CAP,
    MAX_ID,
    MAX_PER_PAGE,
    MAX_TEXT,
    parse_device_query,
)
from server.web.api.v1 import ERROR_RESPONSES
from server.web.auth import ApiPrincipal, Context
from server.web.pages.fleet import Fleet

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)

BAD_REQUEST: dict[int | str, dict[str, object]] = {400: {"description": "a malformed filter"}}

Text = Annotated[str, Query(max_length=MAX_TEXT)]
Short = Annotated[str, Query(max_length=32)]


class DeviceOut(BaseModel):
    """A device as listed. ``state``: ok, warning, critical or offline."""

    model_config = ConfigDict(from_attributes=True)  # read from a FleetDevice

    id: str = Field(validation_alias="device_id")
    hostname: str
    tenant_id: int
    tenant: str
    site_id: int
    site: str
    state: str
    health_summary: str
    online: bool
    last_seen_at: datetime | None
    os_name: str
    os_version: str
    form_factor: str
    serial_number: str
    agent_version: str
    tags: list[str]


class DeviceListOut(BaseModel):
    """A page of devices. ``total`` is exact unless ``total_capped`` (then it is at least
    that many); ``next_page`` is null on the last page."""

    devices: list[DeviceOut]
    page: int
    limit: int
    total: int
    total_capped: bool
    next_page: int | None
    software_titles_truncated: bool


class TenantHealthOut(BaseModel):
    """How many devices of a tenant are in each state."""

    model_config = ConfigDict(from_attributes=True)  # read from a TenantHealth

    tenant_id: int
    tenant: str
    total: int
    online: int
    offline: int
    ok: int
    warning: int
    critical: int
    worst: str


class FleetOverviewOut(BaseModel):
    """Per tenant counts (worst tenants first), totals, and the worst devices (critical,
    then warning, then offline; at most 50)."""

    tenants: list[TenantHealthOut]
    totals: TenantHealthOut
    problems: list[DeviceOut]
    problem_count: int


@router.get("/devices", tags=["devices"], responses=BAD_REQUEST)
async def list_devices(
    ctx: Context,
    fleet: Fleet,
    principal: ApiPrincipal,
    q: Text = "",
    software: Text = "",
    tenant: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    site: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    os: Text = "",
    form_factor: Short = "",
    state: Short = "",
    tag: Annotated[str, Query(max_length=64)] = "",
    seen_within: Short = "",
    seen_older: Short = "",
    sort: Short = "hostname",
    page: Annotated[int, Query(ge=1, le=COUNT_CAP)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
) -> DeviceListOut:
    """Devices of the tenants the caller may see: search ``q`` (hostname, serial, IP, MAC),
    ``software`` (an installed title), filters, ``sort`` (hostname, last_seen, health,
    tenant; ``-`` in front for descending), ``page`` and ``limit``."""
    ctx.access.require(principal, access.DEVICES_READ)
    query = parse_device_query(
        {
            "q": q,
            "software": software,
            "tenant": str(tenant) if tenant is not None else "",
            "site": str(site) if site is not None else "",
            "os": os,
            "form_factor": form_factor,
            "state": state,
            "tag": tag,
            "seen_within": seen_within,
            "seen_older": seen_older,
            "sort": sort,
            "page": str(page),
            "per_page": str(limit),
        }
    )
    result = await fleet.list_page(query, ctx.access.visible_tenants(principal))
    return DeviceListOut(
        devices=[DeviceOut.model_validate(device) for device in result.devices],
        page=result.page,
        limit=result.per_page,
        total=result.total,
        total_capped=result.total_capped,
        next_page=result.page + 1 if result.has_next else None,
        software_titles_truncated=result.titles_truncated,
    )


@router.get("/fleet/overview", tags=["devices"])
async def fleet_overview(ctx: Context, fleet: Fleet, principal: ApiPrincipal) -> FleetOverviewOut:
    """Devices online, offline, ok, warning and critical per tenant the caller may see."""
    ctx.access.require(principal, access.DEVICES_READ)
    overview = await fleet.overview(ctx.access.visible_tenants(principal))
    return FleetOverviewOut(
        tenants=[TenantHealthOut.model_validate(item) for item in overview.tenants],
        totals=TenantHealthOut.model_validate(overview.totals),
        problems=[DeviceOut.model_validate(device) for device in overview.problems],
        problem_count=overview.problem_count,
    )
