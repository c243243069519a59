"""The devices list: search, filter, sort, pages, CSV export, live presence.

Every filter is a GET query parameter (``server.services.fleet_queries.parse_device_query``
names them), so a list's URL can be shared; ``/devices.csv`` takes the same parameters and
streams every matching device, not just one page. Everything is limited to the tenants the
access policy lets the principal see.

Export is allowed to whoever may read devices, read-only users included: the file holds
what they can already page through on screen. Each export is audited (``devices.export``,
with its filter) before the first byte is sent.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from server.services import access
from server.services.errors import InvalidArgument
from server.services.fleet_queries import (
    COUNT_CAP,
    CSV_HEADER,
    MAX_PER_PAGE,
    SORTS,
    STATES,
    DeviceQuery,
    FleetQueries,
    parse_device_query,
)
from server.services.records import Principal
from server.web.auth import Context, PagePrincipal, client_address
from server.web.context import WebContext
from server.web.pages.fleet import Fleet
from server.web.templating import render

router = APIRouter(include_in_schema=False)

PARAMS = (
    "q",
    "software",
    "tenant",
    "site",
    "os",
    "form_factor",
    "state",
    "tag",
    "seen_within",
    "seen_older",
    "sort",
    "per_page",
)
SEEN_CHOICES = ("1h", "24h", "7d", "30d", "90d")
PER_PAGE_CHOICES = (25, 50, 100, 200)
EXPORT_ACTION = "devices.export"


def query_values(request: Request) -> dict[str, str]:
    """The list's parameters present in the request (all but ``page``), as given."""
    params = request.query_params
    return {name: params[name] for name in PARAMS if params.get(name, "").strip()}


def list_url(path: str, values: Mapping[str, str], **changes: str | int | None) -> str:
    """``path`` with ``values`` changed by ``changes`` (None or "" removes one)."""
    merged: dict[str, str] = dict(values)
    for name, value in changes.items():
        if value is None or value == "":
            merged.pop(name, None)
        else:
            merged[name] = str(value)
    query = urlencode(sorted(merged.items()))
    return f"{path}?{query}" if query else path


def sort_url(values: Mapping[str, str], key: str) -> str:
    """The URL sorting by ``key``; ascending first, descending when already ascending."""
    current = values.get("sort", "hostname")
    target = f"-{key}" if current == key else key
    return list_url("/devices", values, sort=target, page=None)


def parse(request: Request, *, page: bool = True) -> DeviceQuery:
    params: dict[str, str | None] = dict(query_values(request))
    if page:
        params["page"] = request.query_params.get("page")
    return parse_device_query(params)


def audit_details(values: Mapping[str, str]) -> dict[str, Any]:
    return {"filter": dict(sorted(values.items()))}


@router.get("/devices")
async def devices(
    request: Request, ctx: Context, fleet: Fleet, principal: PagePrincipal
) -> Response:
    ctx.access.require(principal, access.DEVICES_READ)
    visible = ctx.access.visible_tenants(principal)
    values = query_values(request)
    error = ""
    status = 200
    try:
        query = parse(request)
        result = await fleet.list_page(query, visible)
    except InvalidArgument as exc:
        error, status, query, result = str(exc), 400, DeviceQuery(), None
    page: dict[str, Any] = {
        "result": result,
        "query": query,
        "values": values,
        "error": error,
        "facets": await fleet.facets(visible),
        "states": STATES,
        "sorts": SORTS,
        "seen_choices": SEEN_CHOICES,
        "per_page_choices": PER_PAGE_CHOICES,
        "count_cap": COUNT_CAP,
        "list_url": list_url,
        "sort_url": sort_url,
        "csv_url": list_url("/devices.csv", values),
    }
    return render(request, "devices.html", page, status_code=status)


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


async def csv_lines(
    fleet: FleetQueries, query: DeviceQuery, visible: frozenset[int] | None
) -> AsyncIterator[str]:
    """The CSV export: a header, then every matching device, batch by batch."""
    yield _csv_text([list(CSV_HEADER)])
    async for batch in fleet.export_csv(query, visible):
        yield _csv_text(batch)


async def export_response(
    request: Request, ctx: WebContext, fleet: FleetQueries, principal: Principal
) -> StreamingResponse:
    """Check, audit, then stream the CSV of the request's filter (shared with the API)."""
    ctx.access.require(principal, access.DEVICES_READ)
    visible = ctx.access.visible_tenants(principal)
    query = parse(request, page=False)
    values = query_values(request)
    await ctx.audit.record(
        principal.actor,
        EXPORT_ACTION,
        "devices",
        tenant_id=query.tenant_id,
        details=audit_details(values),
        address=client_address(request),
    )
    stamp = ctx.clock().strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        csv_lines(fleet, query, visible),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="parc-devices-{stamp}.csv"'},
    )


@router.get("/devices.csv")
async def devices_csv(
    request: Request, ctx: Context, fleet: Fleet, principal: PagePrincipal
) -> Response:
    return await export_response(request, ctx, fleet, principal)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@router.get("/devices/presence")
async def presence(
    request: Request, ctx: Context, fleet: Fleet, principal: PagePrincipal, ids: str = ""
) -> Response:
    """``{"devices": [{"id", "online", "state", "last_seen_at"}]}`` for the ids asked for
    (comma separated) that the principal may see; the list page polls it."""
    ctx.access.require(principal, access.DEVICES_READ)
    wanted = [part.strip() for part in ids.split(",") if part.strip()]
    found = await fleet.presence(wanted, ctx.access.visible_tenants(principal))
    return JSONResponse(
        {
            "devices": [
                {
                    "id": item.device_id,
                    "online": item.online,
                    "state": item.state,
                    "last_seen_at": _iso(item.last_seen_at),
                }
                for item in found
            ]
        }
    )


__all__ = ["MAX_PER_PAGE", "export_response", "router"]
