"""The inventory, collected in a short-lived child process.

The resident agent never loads the software, licence and hardware readers nor holds what they
parse (thousands of package records, copyright caches): every ``inventory_interval`` it starts
``python -m agent.inventory_worker REPORT_ID``, which collects the three sections, writes the
serialized InventoryReport to stdout and exits, handing all that memory back to the OS. The
agent's resident memory stays that of its fast jobs (heartbeats, health samples, delivery).

Exit status: 0 with the report on stdout; 3 when no section could be collected; 2 on usage.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from agent.platform.runner import CommandError, CommandRunner, SubprocessRunner
from parc.v1 import agent_service_pb2 as pb

log = logging.getLogger(__name__)

WORKER_TIMEOUT_S = 600.0
NOTHING_COLLECTED = 3


class InventoryWorker:
    """Runs the worker process and reads its report (same interface as MachineInventory)."""

    def __init__(
        self,
        runner: CommandRunner | None = None,
        *,
        python: str = sys.executable,
        timeout: float = WORKER_TIMEOUT_S,
    ) -> None:
        self._runner = runner if runner is not None else SubprocessRunner()
        self._python = python
        self._timeout = timeout

    def collect(self, report_id: str) -> pb.InventoryReport | None:
        """The report the worker collected; None (logged) when it failed or found nothing."""
        try:
            done = self._runner.run(
                [self._python, "-m", "agent.inventory_worker", report_id], timeout=self._timeout
            )
        except CommandError as exc:
            log.warning("inventory worker could not run: %s", exc)
            return None
        if done.returncode == NOTHING_COLLECTED:
            log.warning("inventory worker collected nothing on this machine")
            return None
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            log.warning("inventory worker failed (exit %d): %s", done.returncode, detail)
            return None
        try:
            report = pb.InventoryReport.FromString(done.stdout)
        except Exception as exc:  # DecodeError and friends: the worker printed something else
            log.warning("inventory worker output is not an InventoryReport: %s", exc)
            return None
        if report.report_id != report_id:
            log.warning("inventory worker answered for another report id; ignored")
            return None
        return report


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or not args[0]:
        print("usage: python -m agent.inventory_worker REPORT_ID", file=sys.stderr)
        return 2
    # Collector failures are logged to stderr (the agent keeps the last lines); stdout is data.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from agent.collectors.system import PsutilProbe
    from agent.inventory import MachineInventory
    from agent.platform import current_platform
    from agent.platform.machine import machine_collectors

    collectors = machine_collectors(current_platform(), PsutilProbe())
    report = MachineInventory.of(collectors).collect(args[0])
    if report is None:
        return NOTHING_COLLECTED
    sys.stdout.buffer.write(report.SerializeToString())
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
