"""Integer ids taken from paths, query strings, forms and bodies, bounded to the store's columns.

Tenants, sites, enrolment tokens and API tokens have 32-bit integer ids (PostgreSQL
``integer``); an id outside 1..2**31-1 names nothing. Declaring the bound on the parameter
refuses it before any query (422 on the API, 400 on pages, as the OpenAPI document says),
instead of letting the database driver overflow (SQLite cannot bind beyond 64 bits).
The same annotation works for a path parameter and for a field of a request model.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from server.services.validation import MAX_INT32

MAX_ID = MAX_INT32

RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
"""The id of a tenant, site, enrolment token or API token."""


def parse_row_id(text: str) -> int | None:
    """A form field's id, or None when it is not a whole number in 1..MAX_ID."""
    text = text.strip()
    if not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


__all__ = ["MAX_ID", "RowId", "parse_row_id"]
