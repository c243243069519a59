"""Inventory sections and their content hashes: an unchanged section is sent as its hash alone.

An inventory has three sections: ``hardware`` (the OS and hardware messages), ``software`` and
``licences``. Each carries the SHA-256 of its deterministic protobuf encoding. The agent
remembers the hashes of the sections it last spooled in full (a small JSON file in the state
directory) and, in the next inventory, leaves out every section whose hash is unchanged: the
spool delivers in order, so the collector always holds the full section before it sees the
hash alone. When the collector does not hold a section after all (a restored database, a
dropped spool entry), it answers ``full_inventory_requested``; the agent then forgets the
hashes and the next inventory carries every section in full. A section the agent could not
collect this time has no hash and no message: the collector keeps what it had.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Final

from google.protobuf.message import Message

from parc.v1 import agent_service_pb2 as pb

log = logging.getLogger(__name__)

SECTIONS: Final = ("hardware", "software", "licences")


def _digest(*parts: Message) -> bytes:
    sha = hashlib.sha256()
    for part in parts:
        data = part.SerializeToString(deterministic=True)
        sha.update(len(data).to_bytes(8, "big"))
        sha.update(data)
    return sha.digest()


def section_hashes(report: pb.InventoryReport) -> dict[str, bytes]:
    """The SHA-256 of every section present in ``report`` (sections it lacks are left out)."""
    hashes: dict[str, bytes] = {}
    if report.HasField("os") or report.HasField("hardware"):
        hashes["hardware"] = _digest(report.os, report.hardware)
    if report.HasField("software"):
        hashes["software"] = _digest(report.software)
    if report.HasField("licences"):
        hashes["licences"] = _digest(report.licences)
    return hashes


def _clear(report: pb.InventoryReport, section: str) -> None:
    if section == "hardware":
        report.ClearField("os")
        report.ClearField("hardware")
    else:
        report.ClearField(section)


class SectionMemory:
    """The hashes of the sections last spooled in full, kept across restarts."""

    def __init__(self, path: Path | None) -> None:
        """``path`` None keeps the memory in this process only (``parc-agent inventory``)."""
        self._path = path
        self._sent = self._load()

    def _load(self) -> dict[str, str]:
        if self._path is None:
            return {}
        try:
            raw = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s (%s): next inventory goes in full", self._path, exc)
            return {}
        if not isinstance(raw, dict):
            return {}
        return {k: v for k, v in raw.items() if k in SECTIONS and isinstance(v, str)}

    def _save(self) -> None:
        if self._path is None:
            return
        tmp = self._path.with_name(f".{self._path.name}.tmp")
        tmp.write_text(json.dumps(self._sent, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self._path)

    @property
    def remembered(self) -> dict[str, str]:
        """Hex digests by section."""
        return dict(self._sent)

    def prepare(self, report: pb.InventoryReport, *, full: bool = False) -> pb.InventoryReport:
        """Set every section's hash on ``report`` and, unless ``full``, drop unchanged sections.

        Remembers the hashes of what goes in full; returns ``report`` (changed in place).
        """
        hashes = section_hashes(report)
        hex_digests = {section: digest.hex() for section, digest in hashes.items()}
        for section, digest in hashes.items():
            setattr(report, f"{section}_sha256", digest)
            if not full and self._sent.get(section) == hex_digests[section]:
                _clear(report, section)
        if any(self._sent.get(s) != d for s, d in hex_digests.items()):
            self._sent.update(hex_digests)
            self._save()
        return report

    def forget(self) -> None:
        """Forget every hash: the next inventory goes in full."""
        if self._sent:
            self._sent = {}
            self._save()
