"""``/audit``: the audit log, newest first, filtered and paged by id (admins, and technicians
for the records of their tenants). Details are the services' own and hold no secrets."""

from __future__ import annotations

import dataclasses
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from server.services.errors import InvalidArgument
from server.services.records import AuditEvent
from server.web.admin_rules import AUDIT_PAGE, audit_filter, parse_time
from server.web.auth import Context, PagePrincipal
from server.web.pages.admin_users import tenant_names
from server.web.templating import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Query(max_length=100)]


@router.get("/audit")
async def audit(
    request: Request,
    ctx: Context,
    principal: PagePrincipal,
    actor: Text = "",
    action: Text = "",
    target_type: Text = "",
    target_id: Text = "",
    since: Text = "",
    until: Text = "",
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    form = {
        "actor": actor,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "since": since,
        "until": until,
    }
    error = ""
    events: list[AuditEvent] = []
    more = False
    try:
        where = audit_filter(
            ctx,
            principal,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            since=parse_time("from", since),
            until=parse_time("until", until),
            before_id=before,
        )
    except InvalidArgument as exc:
        error = str(exc)
    else:
        # One more than a page says whether there is an older page.
        found = await ctx.audit.list(dataclasses.replace(where, limit=AUDIT_PAGE + 1))
        events, more = found[:AUDIT_PAGE], len(found) > AUDIT_PAGE
    kept = {key: value for key, value in form.items() if value}
    older = "/audit?" + urlencode({**kept, "before": events[-1].id}) if more and events else ""
    return render(
        request,
        "audit.html",
        {
            "events": events,
            "form": form,
            "error": error,
            "older": older,
            "newest": "/audit?" + urlencode(kept) if before is not None else "",
            "actions": await ctx.audit.actions(),
            "tenant_names": await tenant_names(ctx),
        },
        status_code=400 if error else 200,
    )
