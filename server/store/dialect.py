"""Statements whose spelling depends on the database (SQLite or PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


def upsert_insert(
    session: AsyncSession, model: type[DeclarativeBase] | Table
) -> postgresql.Insert | sqlite.Insert:
    """An INSERT supporting ``ON CONFLICT`` for the session's database."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"unsupported database {name!r}: use SQLite or PostgreSQL")
