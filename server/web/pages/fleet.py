"""The fleet overview (the home page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.web.auth import PagePrincipal
from server.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def overview(request: Request, principal: PagePrincipal) -> Response:
    return render(request, "fleet.html")
