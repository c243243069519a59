"""One device: identity, hardware, health and charts, software, licences, events, revoke, tags.

Charts are drawn by static/device.js from ``/api/v1/devices/{id}/series`` (the page names the
URL in a data attribute: no inline script). Users who may not change the device see it
without any action form, and their posts are refused (403). A device of a tenant the user
may not see answers 404, like a missing one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from server.services import access, device_series
from server.services.devices import SOFTWARE_PER_PAGE
from server.services.errors import FailedPrecondition, InvalidArgument, ParcError
from server.services.records import Principal
from server.web.auth import Context, Csrf, PagePrincipal, client_address
from server.web.context import WebContext
from server.web.device_access import visible_device
from server.web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = {
    "tagged": "Tag added.",
    "untagged": "Tag removed.",
    "inventory-requested": "Inventory requested: the device sends it when it next connects.",
    "revoked": "Device revoked: its certificate no longer works.",
}
EVENTS_SHOWN = 30
FormText = Annotated[str, Form(max_length=1000)]
QueryText = Annotated[str, Query(max_length=1000)]


def _page_number(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 10_000:
        raise InvalidArgument("page must be a whole number from 1 to 10000")
    return int(text)


async def _device_page(
    request: Request,
    ctx: WebContext,
    principal: Principal,
    device_id: str,
    *,
    q: str = "",
    page: str = "1",
    notice: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    status = await visible_device(ctx, principal, device_id)
    details = await ctx.devices.details(device_id, with_software=False)
    software = await ctx.devices.software_page(device_id, q, _page_number(page), SOFTWARE_PER_PAGE)
    values: dict[str, Any] = {
        "device": status,
        "summary": details.summary,
        "inventory": details.inventory,
        "health": details.health,
        "licences": details.licences,
        "software": software,
        "events": await ctx.devices.events(device_id, EVENTS_SHOWN),
        "tags": await ctx.tags.tags_of(device_id),
        "can_write": not status.revoked
        and ctx.access.can(principal, access.DEVICES_WRITE, status.tenant_id),
        "charts": [
            (m, device_series.TITLES[m], device_series.UNITS[m]) for m in device_series.METRICS
        ],
        "ranges": tuple(device_series.RANGES),
        "notice": NOTICES.get(notice, ""),
        "error": error,
    }
    return render(request, "device.html", values, status_code=status_code)


@router.get("/devices/{device_id:device_id}")
async def device_page(
    request: Request,
    ctx: Context,
    principal: PagePrincipal,
    device_id: str,
    q: QueryText = "",
    page: Annotated[str, Query(max_length=10)] = "1",
    notice: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    return await _device_page(request, ctx, principal, device_id, q=q, page=page, notice=notice)


async def _refused(
    request: Request, ctx: WebContext, principal: Principal, device_id: str, exc: ParcError
) -> Response:
    """The device page again, with why the change was refused (nothing was changed)."""
    status = 409 if isinstance(exc, FailedPrecondition) else 400
    return await _device_page(
        request, ctx, principal, device_id, error=str(exc), status_code=status
    )


def _back(device_id: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/devices/{device_id}?notice={notice}", status_code=303)


@router.post("/devices/{device_id:device_id}/tags", dependencies=[Csrf])
async def add_tag(
    request: Request, ctx: Context, principal: PagePrincipal, device_id: str, tag: FormText = ""
) -> Response:
    device = await visible_device(ctx, principal, device_id, access.DEVICES_WRITE)
    try:
        await ctx.tags.add(
            device.device_id, tag, actor=principal.actor, address=client_address(request)
        )
    except (InvalidArgument, FailedPrecondition) as exc:
        return await _refused(request, ctx, principal, device_id, exc)
    return _back(device.device_id, "tagged")


@router.post("/devices/{device_id:device_id}/tags/{tag}/remove", dependencies=[Csrf])
async def remove_tag(
    request: Request, ctx: Context, principal: PagePrincipal, device_id: str, tag: str
) -> Response:
    device = await visible_device(ctx, principal, device_id, access.DEVICES_WRITE)
    try:
        await ctx.tags.remove(
            device.device_id, tag, actor=principal.actor, address=client_address(request)
        )
    except (InvalidArgument, FailedPrecondition) as exc:
        return await _refused(request, ctx, principal, device_id, exc)
    return _back(device.device_id, "untagged")


@router.post("/devices/{device_id:device_id}/inventory-request", dependencies=[Csrf])
async def request_inventory(
    request: Request, ctx: Context, principal: PagePrincipal, device_id: str
) -> Response:
    device = await visible_device(ctx, principal, device_id, access.DEVICES_WRITE)
    await ctx.commands.queue(
        device.device_id,
        "send_inventory",
        actor=principal.actor,
        address=client_address(request),
    )
    return _back(device.device_id, "inventory-requested")


@router.get("/devices/{device_id:device_id}/revoke")
async def revoke_confirm(
    request: Request, ctx: Context, principal: PagePrincipal, device_id: str
) -> Response:
    device = await visible_device(ctx, principal, device_id, access.DEVICES_WRITE)
    if device.revoked:  # nothing left to confirm
        return RedirectResponse(f"/devices/{device.device_id}", status_code=303)
    return render(request, "device_revoke.html", {"device": device})


@router.post("/devices/{device_id:device_id}/revoke", dependencies=[Csrf])
async def revoke(
    request: Request, ctx: Context, principal: PagePrincipal, device_id: str
) -> Response:
    device = await visible_device(ctx, principal, device_id, access.DEVICES_WRITE)
    await ctx.devices.revoke(
        device.device_id, actor=principal.actor, address=client_address(request)
    )
    return _back(device.device_id, "revoked")
