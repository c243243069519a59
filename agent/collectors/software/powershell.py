"""Running a PowerShell pipeline that ends in ``ConvertTo-Json`` and reading its objects.

ConvertTo-Json prints a single object rather than a one-element array, and nothing at all
for an empty pipeline; :func:`powershell_objects` always returns a list of dicts.
"""

from __future__ import annotations

import json
from typing import Any

from agent.platform.runner import CommandError, CommandRunner

POWERSHELL = "powershell.exe"
POWERSHELL_TIMEOUT_S = 60.0
# Console output is in the OEM code page unless told otherwise; names are often not ASCII.
_UTF8 = "[Console]::OutputEncoding = [System.Text.Encoding]::UTF8; "


class PowerShellError(Exception):
    """PowerShell could not be run, failed, or printed something that is not JSON objects."""


def powershell_command(script: str) -> tuple[str, ...]:
    """The command line that runs ``script`` (no profile, no prompts, UTF-8 output)."""
    return (POWERSHELL, "-NoLogo", "-NoProfile", "-NonInteractive", "-Command", _UTF8 + script)


def parse_json_objects(text: str) -> list[dict[str, Any]]:
    """ConvertTo-Json output as a list of objects (one object, an array, or nothing)."""
    text = text.strip().lstrip("\ufeff")
    if not text:
        return []
    try:
        parsed: object = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise PowerShellError(f"output is not JSON: {exc}") from exc
    if isinstance(parsed, dict):
        return [parsed]
    if isinstance(parsed, list):
        return [item for item in parsed if isinstance(item, dict)]
    raise PowerShellError("output is neither an object nor an array")


def powershell_objects(
    runner: CommandRunner, script: str, *, timeout: float = POWERSHELL_TIMEOUT_S
) -> list[dict[str, Any]]:
    """Run ``script`` and return the objects it printed as JSON."""
    try:
        result = runner.run(powershell_command(script), timeout=timeout)
    except CommandError as exc:
        raise PowerShellError(str(exc)) from exc
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", errors="replace").strip()[:200]
        raise PowerShellError(f"PowerShell exited with {result.returncode}: {detail}")
    return parse_json_objects(result.text)
