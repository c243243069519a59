"""Running OS commands with a timeout, behind a protocol so tests feed recorded output.

Collectors that need a command (``smartctl --json``, ``rpm -qa``, PowerShell CIM queries,
``system_profiler -json``) take a :class:`CommandRunner`; the agent passes a
:class:`SubprocessRunner`, tests pass a runner that answers from fixture files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

DEFAULT_TIMEOUT_S = 30.0
MAX_OUTPUT_BYTES = 32 * 1024 * 1024


class CommandError(Exception):
    """A command could not be run at all (absent, timed out, output too large)."""


class CommandNotFound(CommandError):
    """The program is not installed (not on PATH)."""


class CommandTimeout(CommandError):
    """The program ran longer than its timeout and was killed."""


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a finished command returned. A non-zero exit is not an error by itself:
    smartctl, for one, encodes findings in its exit status."""

    args: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")


class CommandRunner(Protocol):
    """Runs a program and returns its output."""

    def which(self, program: str) -> str | None:
        """The program's path, or None when it is not installed."""
        ...

    def run(self, args: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT_S) -> CommandResult:
        """Run ``args`` (no shell); raise CommandNotFound / CommandTimeout / CommandError."""
        ...


class SubprocessRunner:
    """Runs real programs: no shell, C locale, stdin closed, bounded time and output."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        base = dict(os.environ if env is None else env)
        base.update({"LC_ALL": "C", "LANG": "C"})
        self._env = base

    def which(self, program: str) -> str | None:
        return shutil.which(program, path=self._env.get("PATH"))

    def run(self, args: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT_S) -> CommandResult:
        if not args:
            raise CommandError("no command given")
        if self.which(args[0]) is None:
            raise CommandNotFound(f"{args[0]} is not installed")
        try:
            done = subprocess.run(
                list(args),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                env=self._env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise CommandTimeout(f"{args[0]} did not finish within {timeout:g} s") from exc
        except OSError as exc:
            raise CommandError(f"{args[0]} could not be started: {exc.strerror}") from exc
        if len(done.stdout) > MAX_OUTPUT_BYTES:
            raise CommandError(f"{args[0]} printed more than {MAX_OUTPUT_BYTES} bytes")
        return CommandResult(tuple(args), done.returncode, done.stdout, done.stderr)
