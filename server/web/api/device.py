"""/api/v1 for one device: hardware, health series, software, licences, events, revoke, tags.

Reads need ``devices:read``, changes ``devices:write`` on the device's tenant; a device of a
tenant the caller may not see is 404, like a missing one. Every change is audited with the
caller and its address. Malformed parameters are 422.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict

from server.services import access
from server.services.device_series import DeviceSeries
from server.services.devices import MAX_SOFTWARE_PAGE, MAX_SOFTWARE_SEARCH
from server.services.records import (
    HealthSample,
    InventorySnapshot,
    PackageLicence,
    ProductActivation,
    SoftwarePackage,
)
from server.web.api.v1 import ERROR_RESPONSES
from server.web.auth import ApiPrincipal, Context, client_address
from server.web.device_access import visible_device

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)

DEVICE = "/devices/{device_id:device_id}"
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"description": "no such device, or one of a tenant the caller may not see"}
}
CHANGE: dict[int | str, dict[str, object]] = {
    **NOT_FOUND,
    409: {"description": "the device has been revoked"},
}
TAGGING: dict[int | str, dict[str, object]] = {
    **CHANGE,
    400: {"description": "the device has as many tags as it may have"},
}
TAG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

Metric = Literal["cpu", "memory", "disk", "temperature", "battery_wear"]
Range = Literal["24h", "7d", "30d"]
Tag = Annotated[str, Path(pattern=TAG_PATTERN, max_length=64, description="a device tag")]


class DeviceDetailOut(BaseModel):
    """One device: who it belongs to, its state, its hardware and its newest health sample.

    ``state``: ok, warning, critical, offline or revoked. ``inventory`` and ``health`` are
    null until the device has sent them."""

    id: str
    hostname: str
    tenant_id: int
    tenant: str
    site_id: int
    site: str
    state: str
    health_summary: str
    health_changed_at: datetime | None
    online: bool
    revoked_at: datetime | None
    enrolled_at: datetime
    last_seen_at: datetime | None
    agent_version: str
    os_name: str
    tags: list[str]
    inventory: InventorySnapshot | None
    health: HealthSample | None


class SoftwareOut(BaseModel):
    """A page of installed software, by name."""

    total: int
    page: int
    limit: int
    search: str
    has_next: bool
    items: list[SoftwarePackage]


class LicencesOut(BaseModel):
    """Windows and Office activation (never more than the key's last five characters) and
    package licences with their SPDX identifier where known."""

    model_config = ConfigDict(from_attributes=True)  # read from LicenceFacts

    activations: list[ProductActivation]
    packages: list[PackageLicence]


class EventOut(BaseModel):
    """Something that happened to the device (not who did it: that is the audit log)."""

    model_config = ConfigDict(from_attributes=True)  # read from a DeviceEvent

    id: int
    time: datetime
    kind: str
    message: str
    details: dict[str, Any]


class SeriesLineOut(BaseModel):
    label: str
    values: list[float | None]


class SeriesOut(BaseModel):
    """Chart data: ``times`` are bucket starts in Unix seconds, one value per line each."""

    metric: str
    range: str
    unit: str
    start: datetime
    end: datetime
    bucket_seconds: int
    times: list[int]
    lines: list[SeriesLineOut]


class TagsOut(BaseModel):
    """The device's tags after the change; ``changed`` is false when nothing was to do."""

    tags: list[str]
    changed: bool


class CommandOut(BaseModel):
    """A queued command: the device receives it when it next connects."""

    command_id: str
    kind: str
    created_at: datetime


class RevokedOut(BaseModel):
    """``changed`` is false when the device was already revoked."""

    id: str
    revoked_at: datetime | None
    changed: bool


@router.get(DEVICE, tags=["device"], responses=NOT_FOUND)
async def get_device(ctx: Context, principal: ApiPrincipal, device_id: str) -> DeviceDetailOut:
    """The device's identity, state, hardware and newest health sample."""
    status = await visible_device(ctx, principal, device_id)
    details = await ctx.devices.details(device_id, with_software=False)
    s = details.summary
    return DeviceDetailOut(
        id=status.device_id,
        hostname=status.hostname,
        tenant_id=status.tenant_id,
        tenant=s.tenant,
        site_id=status.site_id,
        site=s.site,
        state=status.state,
        health_summary=status.health_summary,
        health_changed_at=status.health_changed_at,
        online=status.state not in ("offline", "revoked"),
        revoked_at=status.revoked_at,
        enrolled_at=s.enrolled_at,
        last_seen_at=s.last_seen_at,
        agent_version=status.agent_version,
        os_name=s.os_name,
        tags=await ctx.tags.tags_of(device_id),
        inventory=details.inventory,
        health=details.health,
    )


@router.get(f"{DEVICE}/software", tags=["device"], responses=NOT_FOUND)
async def get_software(
    ctx: Context,
    principal: ApiPrincipal,
    device_id: str,
    q: Annotated[str, Query(max_length=MAX_SOFTWARE_SEARCH, pattern=r"^[^\x00]*$")] = "",
    page: Annotated[int, Query(ge=1, le=MAX_SOFTWARE_PAGE)] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> SoftwareOut:
    """Installed software by name; ``q`` matches name or publisher (case-insensitive)."""
    await visible_device(ctx, principal, device_id)
    found = await ctx.devices.software_page(device_id, q, page, limit)
    return SoftwareOut(
        total=found.total,
        page=found.page,
        limit=found.per_page,
        search=found.search,
        has_next=found.has_next,
        items=list(found.packages),
    )


@router.get(f"{DEVICE}/licences", tags=["device"], responses=NOT_FOUND)
async def get_licences(ctx: Context, principal: ApiPrincipal, device_id: str) -> LicencesOut:
    """Activation states and package licences."""
    await visible_device(ctx, principal, device_id)
    return LicencesOut.model_validate(await ctx.devices.licences(device_id))


@router.get(f"{DEVICE}/events", tags=["device"], responses=NOT_FOUND)
async def get_events(
    ctx: Context,
    principal: ApiPrincipal,
    device_id: str,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[EventOut]:
    """The newest events, newest first."""
    await visible_device(ctx, principal, device_id)
    return [EventOut.model_validate(event) for event in await ctx.devices.events(device_id, limit)]


@router.get(f"{DEVICE}/series", tags=["device"], responses=NOT_FOUND)
async def get_series(
    ctx: Context,
    principal: ApiPrincipal,
    device_id: str,
    metric: Metric,
    range_name: Annotated[Range, Query(alias="range")] = "24h",
) -> SeriesOut:
    """A health figure over 24 h, 7 d or 30 d, in at most 300 buckets."""
    await visible_device(ctx, principal, device_id)
    series = await DeviceSeries(ctx.sessions, ctx.clock).series(device_id, metric, range_name)
    return SeriesOut(
        metric=series.metric,
        range=series.range,
        unit=series.unit,
        start=series.start,
        end=series.end,
        bucket_seconds=series.bucket_seconds,
        times=series.times,
        lines=[SeriesLineOut(label=line.label, values=line.values) for line in series.lines],
    )


@router.put(f"{DEVICE}/tags/{{tag}}", tags=["device"], responses=TAGGING)
async def put_tag(
    request: Request, ctx: Context, principal: ApiPrincipal, device_id: str, tag: Tag
) -> TagsOut:
    """Tag the device (audited); tagging again changes nothing. A revoked device's tags do
    not change (409)."""
    await visible_device(ctx, principal, device_id, access.DEVICES_WRITE)
    changed = await ctx.tags.add(
        device_id, tag, actor=principal.actor, address=client_address(request)
    )
    return TagsOut(tags=await ctx.tags.tags_of(device_id), changed=changed)


@router.delete(f"{DEVICE}/tags/{{tag}}", tags=["device"], responses=CHANGE)
async def delete_tag(
    request: Request, ctx: Context, principal: ApiPrincipal, device_id: str, tag: Tag
) -> TagsOut:
    """Take a tag off the device (audited). A revoked device's tags do not change (409)."""
    await visible_device(ctx, principal, device_id, access.DEVICES_WRITE)
    changed = await ctx.tags.remove(
        device_id, tag, actor=principal.actor, address=client_address(request)
    )
    return TagsOut(tags=await ctx.tags.tags_of(device_id), changed=changed)


@router.post(f"{DEVICE}/inventory-request", tags=["device"], status_code=202, responses=CHANGE)
async def post_inventory_request(
    request: Request, ctx: Context, principal: ApiPrincipal, device_id: str
) -> CommandOut:
    """Ask the device for a full inventory (queued and audited)."""
    await visible_device(ctx, principal, device_id, access.DEVICES_WRITE)
    command = await ctx.commands.queue(
        device_id, "send_inventory", actor=principal.actor, address=client_address(request)
    )
    return CommandOut(
        command_id=command.command_id, kind=command.kind, created_at=command.created_at
    )


@router.post(f"{DEVICE}/revoke", tags=["device"], responses=NOT_FOUND)
async def post_revoke(
    request: Request, ctx: Context, principal: ApiPrincipal, device_id: str
) -> RevokedOut:
    """Revoke the device: its certificate stops working (audited). Cannot be undone."""
    await visible_device(ctx, principal, device_id, access.DEVICES_WRITE)
    changed = await ctx.devices.revoke(
        device_id, actor=principal.actor, address=client_address(request)
    )
    status = await ctx.devices.status(device_id)
    return RevokedOut(id=device_id, revoked_at=status.revoked_at, changed=changed)
