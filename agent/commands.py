"""Commands from the collector: what each kind does, and the acknowledgement it earns."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from parc.v1 import agent_service_pb2 as pb

log = logging.getLogger(__name__)

RECENT_COMMANDS = 256


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """How a command ended."""

    status: pb.CommandStatus
    detail: str = ""


SUCCEEDED = pb.COMMAND_STATUS_SUCCEEDED
FAILED = pb.COMMAND_STATUS_FAILED
REJECTED = pb.COMMAND_STATUS_REJECTED


class CommandHandler:
    """Carries out commands; a command id seen again is answered without running it twice."""

    def __init__(self, *, send_inventory: Callable[[], Awaitable[bool]]) -> None:
        self._send_inventory = send_inventory
        self._recent: OrderedDict[str, CommandOutcome] = OrderedDict()

    async def handle(self, command: pb.Command) -> CommandOutcome:
        if command.command_id in self._recent:
            return self._recent[command.command_id]
        outcome = await self._run(command)
        if command.command_id:
            self._recent[command.command_id] = outcome
            while len(self._recent) > RECENT_COMMANDS:
                self._recent.popitem(last=False)
        log.info(
            "command %s (%s): %s%s",
            command.command_id,
            pb.CommandKind.Name(command.kind)
            if command.kind in pb.CommandKind.values()
            else command.kind,
            pb.CommandStatus.Name(outcome.status),
            f": {outcome.detail}" if outcome.detail else "",
        )
        return outcome

    async def _run(self, command: pb.Command) -> CommandOutcome:
        if command.kind == pb.COMMAND_KIND_SEND_INVENTORY:
            try:
                sent = await self._send_inventory()
            except Exception as exc:
                log.exception("SEND_INVENTORY failed")
                return CommandOutcome(FAILED, f"inventory failed: {exc}")
            if not sent:
                return CommandOutcome(FAILED, "the inventory collector is failing or unsupported")
            return CommandOutcome(SUCCEEDED)
        if command.kind == pb.COMMAND_KIND_UNSPECIFIED:
            return CommandOutcome(REJECTED, "command kind not set")
        return CommandOutcome(REJECTED, f"unknown command kind {command.kind}")
