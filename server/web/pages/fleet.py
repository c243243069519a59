"""The fleet overview (the home page): per tenant, devices in each state; worst first.

``fleet_queries`` is the dependency that gives routes the process's ``FleetQueries`` (made
on first use and kept on the app, so its facet cache lives as long as the process).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from server.services import access
from server.services.fleet_queries import FleetQueries
from server.web.auth import Context, PagePrincipal
from server.web.context import WebContext
from server.web.templating import render

router = APIRouter(include_in_schema=False)


def fleet_queries(request: Request) -> FleetQueries:
    """FastAPI dependency: the app's ``FleetQueries`` (one per app)."""
    state = request.app.state
    queries: FleetQueries | None = getattr(state, "fleet_queries", None)
    if queries is None:
        ctx: WebContext = state.parc
        queries = FleetQueries(ctx.sessions, ctx.clock)
        state.fleet_queries = queries
    return queries


Fleet = Annotated[FleetQueries, Depends(fleet_queries)]


@router.get("/")
async def overview(
    request: Request, ctx: Context, fleet: Fleet, principal: PagePrincipal
) -> Response:
    if not ctx.access.can(principal, access.DEVICES_READ):
        return render(request, "fleet.html", {"overview": None})
    summary = await fleet.overview(ctx.access.visible_tenants(principal))
    return render(request, "fleet.html", {"overview": summary})
