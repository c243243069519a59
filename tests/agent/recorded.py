"""Recorded stand-ins for what cannot exist on this machine: a command runner answering from
fixture files, and a Windows registry built from a JSON export. Both follow the protocols in
``agent.platform.runner`` and ``agent.platform.registry``; the fixtures are written by us from
the documented formats.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent.platform.registry import RegistryValue
from agent.platform.runner import (
    DEFAULT_TIMEOUT_S,
    CommandNotFound,
    CommandResult,
    CommandTimeout,
)

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Recording:
    """One recorded command: its stdout (text or a fixture file) and exit status."""

    stdout: bytes = b""
    returncode: int = 0
    stderr: bytes = b""
    timeout: bool = False

    @classmethod
    def file(cls, path: Path, returncode: int = 0) -> Recording:
        return cls(path.read_bytes(), returncode)


@dataclass
class RecordedRunner:
    """A CommandRunner that answers each known command line from a recording.

    ``installed`` lists the programs that exist; any other program is CommandNotFound, and
    an installed program asked with arguments nobody recorded fails the test loudly.
    """

    recordings: Mapping[tuple[str, ...], Recording]
    installed: frozenset[str] = frozenset()
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def which(self, program: str) -> str | None:
        return f"/usr/bin/{program}" if program in self._programs() else None

    def _programs(self) -> frozenset[str]:
        return self.installed | {args[0] for args in self.recordings}

    def run(self, args: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT_S) -> CommandResult:
        key = tuple(args)
        self.calls.append(key)
        if key[0] not in self._programs():
            raise CommandNotFound(f"{key[0]} is not installed")
        recording = self.recordings.get(key)
        if recording is None:
            raise AssertionError(f"no recording for {key!r}")
        if recording.timeout:
            raise CommandTimeout(f"{key[0]} did not finish within {timeout:g} s")
        return CommandResult(key, recording.returncode, recording.stdout, recording.stderr)


class RecordedRegistry:
    """A RegistryReader over a dict of key path -> {"VALUE NAME": value, ...}.

    Key paths compare case-insensitively, as in the real registry; a key's subkeys are the
    recorded keys below it. Binary values are given in JSON as {"hex": "..."}.
    """

    def __init__(self, keys: Mapping[str, Mapping[str, object]]) -> None:
        self._paths = {path.lower(): path for path in keys}
        self._keys = {path.lower(): dict(values) for path, values in keys.items()}

    @classmethod
    def from_json(cls, path: Path) -> RecordedRegistry:
        keys: dict[str, Mapping[str, object]] = json.loads(path.read_text(encoding="utf-8"))
        return cls(keys)

    def subkeys(self, path: str) -> list[str]:
        prefix = path.lower().rstrip("\\") + "\\"
        names: dict[str, None] = {}
        for lowered, original in self._paths.items():
            if lowered.startswith(prefix):
                names.setdefault(original[len(prefix) :].split("\\", 1)[0])
        return list(names)

    def values(self, path: str) -> dict[str, RegistryValue]:
        values = self._keys.get(path.lower().rstrip("\\"), {})
        return {name: _decode(value) for name, value in values.items()}


def _decode(value: object) -> RegistryValue:
    if isinstance(value, dict) and "hex" in value:
        return bytes.fromhex(str(value["hex"]))
    if value is None or isinstance(value, str | int | bytes):
        return value
    if isinstance(value, list):
        return [str(v) for v in value]
    raise TypeError(f"unsupported registry value in fixture: {value!r}")
