"""Progress for long build steps: a rich status line on a terminal, plain lines otherwise.

rich is the ``installer`` extra; on a target machine (which installs from the agent wheel only)
plain lines are used.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Reporter(Protocol):
    def __call__(self, message: str) -> None: ...


def _has_rich() -> bool:
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def progress(title: str, quiet: bool = False) -> Iterator[Reporter]:
    """Yields a function that reports the current step of ``title``."""
    if quiet:
        yield lambda _message: None
        return
    if not _has_rich() or not sys.stderr.isatty():

        def plain(message: str) -> None:
            print(f"{title}: {message}", file=sys.stderr, flush=True)

        yield plain
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status(f"[bold]{title}[/bold]") as status:

        def rich_step(message: str) -> None:
            console.print(f"[dim]-[/dim] {message}", highlight=False)
            status.update(f"[bold]{title}[/bold]: {message}")

        yield rich_step
