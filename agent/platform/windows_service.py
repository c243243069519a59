"""The agent as a Windows service (pywin32), registered by the Windows bundle's install.ps1.

The service control manager starts ``python.exe -m agent.platform.windows_service --config
FILE``; with no console attached this hands the process to the service dispatcher. The service
enrols on its first start (``installer.enrolment``, token removed from the config afterwards),
then runs the agent in-process until the manager asks it to stop. pywin32 exists only on
Windows: elsewhere this module imports (so tests and type checks can read it) but cannot run.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SERVICE_NAME = "ParcAgent"
DISPLAY_NAME = "Parc Agent"


def _pywin32(name: str) -> Any:
    """A pywin32 module (imported by name: they exist, with no type stubs, only on Windows)."""
    return importlib.import_module(name)


try:  # pragma: no cover - Windows only
    _ServiceBase: Any = _pywin32("win32serviceutil").ServiceFramework
    HAVE_PYWIN32 = True
except ImportError:
    _ServiceBase = object
    HAVE_PYWIN32 = False


def parse_args(argv: Sequence[str]) -> Path:
    """The config file named on the service's command line."""
    parser = argparse.ArgumentParser(prog="python -m agent.platform.windows_service")
    parser.add_argument("--config", type=Path, required=True)
    args, _unknown = parser.parse_known_args(list(argv))
    config: Path = args.config
    return config


class AgentRunner:
    """Enrols if needed, then runs the agent until ``stop()`` is called from another thread."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()

    def run(self) -> None:
        from agent.app import build_agent
        from agent.config import load_config
        from agent.state import StatePaths
        from installer import enrolment, settings

        current = settings.load(self.config)
        state_dir = Path(current.state_dir)
        enrolment.enrol(current, state_dir, Path(current.ca_cert))
        current = enrolment.forget_token(self.config, current)
        paths = StatePaths(state_dir)
        agent_config = load_config(
            paths.root, {"server": current.server, "log_level": current.log_level}
        )

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._ready.set()
            await build_agent(agent_config, paths).run(self._stop)

        asyncio.run(main())

    def stop(self) -> None:
        self._ready.wait(timeout=30)
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)


class ParcAgentService(_ServiceBase):  # type: ignore[misc]
    """The pywin32 service class: SvcDoRun runs the agent, SvcStop asks it to stop."""

    _svc_name_ = SERVICE_NAME
    _svc_display_name_ = DISPLAY_NAME
    _svc_description_ = "Reports this machine to the Parc collector"

    def __init__(self, args: Sequence[str]) -> None:
        super().__init__(args)
        self.runner = AgentRunner(parse_args(sys.argv[1:]))

    def SvcStop(self) -> None:  # pywin32's method name
        self.ReportServiceStatus(_pywin32("win32service").SERVICE_STOP_PENDING)
        self.runner.stop()

    def SvcDoRun(self) -> None:  # pywin32's method name
        servicemanager = _pywin32("servicemanager")
        servicemanager.LogInfoMsg(f"{SERVICE_NAME} starting")
        try:
            self.runner.run()
        except Exception as exc:
            servicemanager.LogErrorMsg(f"{SERVICE_NAME} failed: {exc}")
            raise


def main() -> int:
    if not HAVE_PYWIN32:
        print("the Windows service needs Windows and pywin32", file=sys.stderr)
        return 1
    servicemanager = _pywin32("servicemanager")  # pragma: no cover - Windows only
    servicemanager.Initialize()
    servicemanager.PrepareToHostSingle(ParcAgentService)
    servicemanager.StartServiceCtrlDispatcher()
    return 0


if __name__ == "__main__":
    sys.exit(main())
