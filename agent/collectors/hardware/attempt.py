"""Running one reader so that its failure costs only its own facts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def attempt(what: str, read: Callable[[], T], default: T) -> T:
    """``read()``, or ``default`` when it raises: logged, and the rest of the inventory goes on."""
    try:
        return read()
    except Exception as exc:
        log.warning("could not read %s: %s", what, exc, exc_info=log.isEnabledFor(logging.DEBUG))
        return default
