"""What ``DeviceService.authenticate`` remembers, so most calls need no database query.

Per-call authentication reads, for the caller's certificate serial, its device, tenant, site,
expiry and the device's revocation. Of these only the revocation can change after issue
(nothing moves a device to another tenant or site, or deletes a certificate), so the cache
keeps, for each serial of a device not revoked, the facts that cannot change, and the rules
below keep revocation and expiry as strict as a query on every call would:

- expiry: ``not_after`` is compared with the clock on every call, cached or not;
- a revocation by this process (``DeviceService.revoke``) drops the device's entries when it
  commits, and a lookup that began before it does not store what it read (``generation``):
  the next call is refused;
- a revocation by another process sharing the database (the ``parc-server`` CLI, another
  collector) is honoured within 2 s of its commit, twice over: the collector's watcher reads
  new revocations every second (``DeviceService.revoked_since``), which drops those devices'
  entries before their open streams are closed; and, independently of the watcher and of
  clocks, at most every ``REVOCATION_CHECK`` (2 s) of the service clock the next
  authentication first reads the number of revoked devices and the newest revocation time,
  and drops the whole cache when either changed;
- every entry is dropped after ``ENTRY_TTL`` (5 minutes) whatever happens, a backstop for
  changes made to the database by hand;
- at most ``MAX_ENTRIES`` serials are kept, the least recently used going first (about
  0.3 KB each).

Refusals are never cached: an unknown or revoked serial is looked up again on each call.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

REVOCATION_CHECK = timedelta(seconds=2)
ENTRY_TTL = timedelta(minutes=5)
MAX_ENTRIES = 32_768

# How the set of revoked devices looks: (how many, the newest revocation time). Revocation is
# never undone, so any revocation changes it.
RevocationMark = tuple[int, datetime | None]


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    """What a certificate serial stands for, as read from the database at ``read_at``."""

    device_id: str
    tenant_id: int
    site_id: int
    not_after: datetime
    revoked: bool
    read_at: datetime


def _within(start: datetime, now: datetime, span: timedelta) -> bool:
    # A clock that went backwards counts as outside the span, as one that went past it.
    return start <= now < start + span


class CertificateCache:
    """Serial → facts of a device not revoked, bounded, with the rules of the module."""

    def __init__(
        self,
        *,
        max_entries: int = MAX_ENTRIES,
        ttl: timedelta = ENTRY_TTL,
        check_every: timedelta = REVOCATION_CHECK,
    ) -> None:
        if max_entries < 1:
            raise ValueError("the cache needs room for at least one entry")
        self._entries: OrderedDict[int, CertificateFacts] = OrderedDict()
        self._max_entries = max_entries
        self._ttl = ttl
        self._check_every = check_every
        self._generation = 0
        self._mark: RevocationMark | None = None
        self._checked_at: datetime | None = None
        self.check_lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def generation(self) -> int:
        """Changes whenever entries are dropped for a revocation; read it before a lookup."""
        return self._generation

    def get(self, serial: int, now: datetime) -> CertificateFacts | None:
        facts = self._entries.get(serial)
        if facts is None:
            return None
        if not _within(facts.read_at, now, self._ttl):
            del self._entries[serial]
            return None
        self._entries.move_to_end(serial)
        return facts

    def put(self, serial: int, facts: CertificateFacts, generation: int) -> None:
        """Remember ``facts`` read by a lookup that began at ``generation`` (if still current)."""
        if facts.revoked or generation != self._generation:
            return
        self._entries[serial] = facts
        self._entries.move_to_end(serial)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def forget_devices(self, device_ids: Iterable[str]) -> None:
        """The devices were revoked: drop their entries, and what lookups under way will read."""
        gone = set(device_ids)
        if not gone:
            return
        self._generation += 1
        for serial in [s for s, facts in self._entries.items() if facts.device_id in gone]:
            del self._entries[serial]

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()

    def check_due(self, now: datetime) -> bool:
        """Whether the revocations must be read again before an entry is trusted."""
        return self._checked_at is None or not _within(self._checked_at, now, self._check_every)

    def observe(self, mark: RevocationMark, checked_at: datetime) -> None:
        """The revocations as read by a check that began at ``checked_at``.

        Any change since the last check (and the first check, with nothing to compare)
        drops every entry."""
        if mark != self._mark:
            self.clear()
        self._mark = mark
        self._checked_at = checked_at
