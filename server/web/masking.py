"""Showing configuration without its secrets: a database URL with any password masked."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

MASK = "***"
# Query parameters that carry a secret in libpq / driver URLs.
SECRET_PARAMETERS = ("password", "passwd", "pwd", "secret", "sslpassword", "token", "key")


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_PARAMETERS)


def mask_database_url(url: URL | str) -> str:
    """``url`` with its password, and any secret-bearing query parameter, replaced by ``***``.

    A URL that cannot be read is not shown at all (it might be a password pasted whole)."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "(hidden: not a readable URL)"
    placeholder = "PARCMASKED"
    masked_query = {
        key: (placeholder if _is_secret(key) else value) for key, value in parsed.query.items()
    }
    text = parsed.set(query=masked_query).render_as_string(hide_password=True)
    return text.replace(placeholder, MASK)
