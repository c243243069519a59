"""Fleet-wide reads for the dashboard and the API: the overview, the device list, CSV rows.

Built to stay fast at ten thousand devices and millions of software links:

- A list is read in two steps: first a page of device *ids* from the ``devices`` table alone
  (filters, sort and ``LIMIT`` there, served by indexes from migration 0005), then the
  details (tenant, site, inventory, tags) joined for those ids only.
- The software filter resolves the matching titles first (the title table is small) and then
  asks ``device_software`` for devices holding one of those title ids through its
  ``(title_id, device_id)`` index; it never scans the links of every device.
- Totals are counted up to ``COUNT_CAP`` ("10,000+" past it); the filter choices (facets)
  are cached per process for ``FACETS_TTL_S`` seconds.

A device's *state* is one of ``ok``, ``warning``, ``critical``, ``offline``: offline when the
presence sweep last found it not ``online``, else its stored health state. Revoked devices are
left out. Every read is scoped to ``visible`` tenants (None: every tenant, for admins); the
callers take that set from the access policy.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    false,
    func,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services.clock import Clock, utc_now
from server.services.errors import InvalidArgument
from server.services.health_state import HealthState
from server.services.tokens import parse_duration
from server.services.validation import MAX_INT32
from server.store.models import (
    DeviceInventoryRow,
    DeviceRow,
    DeviceSoftwareRow,
    DeviceTagRow,
    SiteRow,
    SoftwareTitleRow,
    TenantRow,
)

OK, WARNING, CRITICAL, OFFLINE = "ok", "warning", "critical", "offline"
STATES = (OK, WARNING, CRITICAL, OFFLINE)
# Worst first, as the overview lists problems: critical, warning, offline, then ok.
STATE_RANK = {CRITICAL: 0, WARNING: 1, OFFLINE: 2, OK: 3}

SORT_HOSTNAME, SORT_LAST_SEEN, SORT_HEALTH, SORT_TENANT = (
    "hostname",
    "last_seen",
    "health",
    "tenant",
)
SORTS = (SORT_HOSTNAME, SORT_LAST_SEEN, SORT_HEALTH, SORT_TENANT)

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500
MAX_OFFSET = 100_000  # offset paging: deeper than this, narrow the filter instead
COUNT_CAP = 10_000
MAX_TITLES = 200  # a software search matching more titles than this is cut (and says so)
MAX_TEXT = 200
MAX_PRESENCE_IDS = 500
MAX_ID = MAX_INT32  # tenant and site ids are 32-bit integers
MAX_SEEN = timedelta(days=3650)  # "last seen within/older than" goes back ten years at most
EXPORT_BATCH = 500
PROBLEMS_LIMIT = 50
FACETS_TTL_S = 5.0
_FACETS_CACHE_SIZE = 64

# Looks like part of an IP or MAC address: only then are interface addresses searched.
_ADDRESS_LIKE = re.compile(r"[0-9a-fA-F:.]{2,}")
_CSV_FORMULA_STARTS = frozenset("=+-@\t\r")


@dataclass(frozen=True)
class DeviceQuery:
    """What a device list shows. Empty strings and None mean "any"."""

    text: str = ""
    software: str = ""
    tenant_id: int | None = None
    site_id: int | None = None
    os: str = ""
    form_factor: str = ""
    state: str = ""
    tag: str = ""
    seen_within: timedelta | None = None
    seen_older: timedelta | None = None
    sort: str = SORT_HOSTNAME
    descending: bool = False
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def __post_init__(self) -> None:
        if len(self.text) > MAX_TEXT or len(self.software) > MAX_TEXT:
            raise InvalidArgument(f"a search is at most {MAX_TEXT} characters")
        texts = (self.text, self.software, self.os, self.form_factor, self.tag)
        if any("\x00" in text for text in texts):
            raise InvalidArgument("a filter may not contain NUL characters")
        if self.state and self.state not in STATES:
            raise InvalidArgument(f"state must be one of {', '.join(STATES)}")
        if self.sort not in SORTS:
            raise InvalidArgument(f"sort must be one of {', '.join(SORTS)}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidArgument(f"a page holds 1 to {MAX_PER_PAGE} devices")
        if self.page < 1 or (self.page - 1) * self.per_page > MAX_OFFSET:
            raise InvalidArgument(
                f"page out of range (at most {MAX_OFFSET:,} devices deep): narrow the filter"
            )

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def _text(value: str | None) -> str:
    return (value or "").strip()


def _int(name: str, value: str | None) -> int | None:
    text = _text(value)
    if not text:
        return None
    if not text.isdigit() or len(text) > 10 or int(text) > MAX_ID:
        raise InvalidArgument(f"{name} must be a whole number up to {MAX_ID}")
    return int(text)


def _duration(name: str, value: str | None) -> timedelta | None:
    text = _text(value)
    if not text:
        return None
    try:
        duration = parse_duration(text)
    except InvalidArgument as exc:
        raise InvalidArgument(f"{name}: {exc}") from exc
    if duration > MAX_SEEN:
        raise InvalidArgument(f"{name}: at most {MAX_SEEN.days} days")
    return duration


def parse_device_query(params: Mapping[str, str | None]) -> DeviceQuery:
    """A ``DeviceQuery`` from query-string values (``q``, ``software``, ``tenant``, ``site``,
    ``os``, ``form_factor``, ``state``, ``tag``, ``seen_within``, ``seen_older`` as 24h/7d,
    ``sort`` with a leading ``-`` for descending, ``page``, ``per_page``); InvalidArgument
    with a clear message when one is malformed."""
    sort = _text(params.get("sort")) or SORT_HOSTNAME
    descending = sort.startswith("-")
    page = _int("page", params.get("page"))
    per_page = _int("per_page", params.get("per_page"))
    return DeviceQuery(
        text=_text(params.get("q")),
        software=_text(params.get("software")),
        tenant_id=_int("tenant", params.get("tenant")),
        site_id=_int("site", params.get("site")),
        os=_text(params.get("os")),
        form_factor=_text(params.get("form_factor")),
        state=_text(params.get("state")).lower(),
        tag=_text(params.get("tag")).lower(),
        seen_within=_duration("seen_within", params.get("seen_within")),
        seen_older=_duration("seen_older", params.get("seen_older")),
        sort=sort.removeprefix("-"),
        descending=descending,
        page=1 if page is None else page,
        per_page=DEFAULT_PER_PAGE if per_page is None else per_page,
    )


@dataclass(frozen=True)
class FleetDevice:
    """One device as the fleet pages list it."""

    device_id: str
    hostname: str
    tenant_id: int
    tenant: str
    site_id: int
    site: str
    state: str
    health_summary: str
    online: bool
    last_seen_at: datetime | None
    os_name: str
    os_version: str
    form_factor: str
    serial_number: str
    agent_version: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class DevicePage:
    """A page of devices. ``total`` is exact unless ``total_capped`` (then "at least")."""

    devices: list[FleetDevice]
    page: int
    per_page: int
    total: int
    total_capped: bool
    titles_truncated: bool = False

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total and self.page * self.per_page <= MAX_OFFSET

    @property
    def has_previous(self) -> bool:
        return self.page > 1


@dataclass(frozen=True)
class TenantHealth:
    """How many devices of a tenant are in each state."""

    tenant_id: int
    tenant: str
    ok: int = 0
    warning: int = 0
    critical: int = 0
    offline: int = 0

    @property
    def online(self) -> int:
        return self.ok + self.warning + self.critical

    @property
    def total(self) -> int:
        return self.online + self.offline

    @property
    def worst(self) -> str:
        for state in (CRITICAL, WARNING, OFFLINE):
            if getattr(self, state):
                return state
        return OK


@dataclass(frozen=True)
class FleetOverview:
    """Per tenant counts (worst tenants first), and the worst devices."""

    tenants: list[TenantHealth]
    problems: list[FleetDevice]
    problem_count: int

    @property
    def totals(self) -> TenantHealth:
        return TenantHealth(
            0,
            "All tenants",
            ok=sum(t.ok for t in self.tenants),
            warning=sum(t.warning for t in self.tenants),
            critical=sum(t.critical for t in self.tenants),
            offline=sum(t.offline for t in self.tenants),
        )


@dataclass(frozen=True)
class Presence:
    """A device's live state, for the list's badges."""

    device_id: str
    online: bool
    state: str
    last_seen_at: datetime | None


@dataclass(frozen=True)
class Facets:
    """The choices the list's filters offer, within the visible tenants."""

    tenants: list[tuple[int, str]]
    sites: list[tuple[int, int, str]]  # (site id, tenant id, "tenant / site")
    os_names: list[str]
    form_factors: list[str]
    tags: list[str]


@dataclass
class _Cached:
    expires: float
    facets: Facets


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ tab or CR gets a
    leading apostrophe (OWASP's advice on CSV injection)."""
    text = "" if value is None else str(value)
    if text and text[0] in _CSV_FORMULA_STARTS:
        return "'" + text
    return text


CSV_HEADER = (
    "device_id",
    "hostname",
    "tenant",
    "site",
    "state",
    "health_summary",
    "os",
    "os_version",
    "form_factor",
    "serial_number",
    "agent_version",
    "last_seen_at",
    "tags",
)


def _csv_cells(row: Any, tags: Mapping[str, tuple[str, ...]]) -> list[str]:
    """One ``_details_query`` row as escaped CSV cells, in ``CSV_HEADER`` order."""
    last_seen: datetime | None = row[9]
    return [
        row[0],  # a device id: hex and dashes
        csv_cell(row[1]),
        csv_cell(row[3]),
        csv_cell(row[5]),
        _state_of(bool(row[6]), int(row[7])),
        csv_cell(row[8]),
        csv_cell(row[12] or row[10]),
        csv_cell(row[13]),
        csv_cell(row[14]),
        csv_cell(row[15]),
        csv_cell(row[11]),
        last_seen.isoformat() if last_seen else "",
        csv_cell(" ".join(tags.get(row[0], ()))),
    ]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _state_of(online: bool, health_state: int) -> str:
    if not online:
        return OFFLINE
    if health_state >= HealthState.CRITICAL:
        return CRITICAL
    if health_state == HealthState.WARNING:
        return WARNING
    return OK


def _rank() -> ColumnElement[int]:
    return case(
        (DeviceRow.online.is_(False), STATE_RANK[OFFLINE]),
        (DeviceRow.health_state >= int(HealthState.CRITICAL), STATE_RANK[CRITICAL]),
        (DeviceRow.health_state == int(HealthState.WARNING), STATE_RANK[WARNING]),
        else_=STATE_RANK[OK],
    )


def _state_condition(state: str) -> ColumnElement[bool]:
    if state == OFFLINE:
        return DeviceRow.online.is_(False)
    online = DeviceRow.online.is_(True)
    if state == CRITICAL:
        return and_(online, DeviceRow.health_state >= int(HealthState.CRITICAL))
    if state == WARNING:
        return and_(online, DeviceRow.health_state == int(HealthState.WARNING))
    return and_(online, DeviceRow.health_state == int(HealthState.OK))


def _scope(visible: Collection[int] | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [DeviceRow.revoked_at.is_(None)]
    if visible is not None:
        conditions.append(DeviceRow.tenant_id.in_(sorted(visible)) if visible else false())
    return conditions


class FleetQueries:
    """Reads across the fleet; one instance per process (it holds the facet cache)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._monotonic = monotonic  # for the facet cache's expiry
        self._facets: dict[frozenset[int] | None, _Cached] = {}
        self._facets_lock = asyncio.Lock()

    # --- the overview -------------------------------------------------------------------------

    async def overview(self, visible: Collection[int] | None) -> FleetOverview:
        """Counts per tenant (worst first) and the worst ``PROBLEMS_LIMIT`` devices."""
        tenants_query = select(TenantRow.id, TenantRow.name).order_by(TenantRow.name)
        if visible is not None:
            tenants_query = tenants_query.where(TenantRow.id.in_(sorted(visible)))
        counts_query = (
            select(DeviceRow.tenant_id, DeviceRow.online, DeviceRow.health_state, func.count())
            .where(*_scope(visible))
            .group_by(DeviceRow.tenant_id, DeviceRow.online, DeviceRow.health_state)
        )
        rank = _rank()
        problems_query = (
            select(DeviceRow.id)
            .where(*_scope(visible), rank < STATE_RANK[OK])
            .order_by(rank, DeviceRow.hostname, DeviceRow.id)
            .limit(PROBLEMS_LIMIT)
        )
        async with self._sessions() as session:
            names = (await session.execute(tenants_query)).all()
            counts = (await session.execute(counts_query)).all()
            problem_ids = list(await session.scalars(problems_query))
            problems = await _details(session, problem_ids)
        by_tenant: dict[int, dict[str, int]] = {tenant_id: {} for tenant_id, _ in names}
        for tenant_id, online, health_state, count in counts:
            states = by_tenant.setdefault(tenant_id, {})
            state = _state_of(bool(online), int(health_state))
            states[state] = states.get(state, 0) + int(count)
        tenants = [
            TenantHealth(tenant_id, name, **by_tenant.get(tenant_id, {}))
            for tenant_id, name in names
        ]
        tenants.sort(key=lambda t: (STATE_RANK[t.worst], -t.critical, -t.warning, -t.offline))
        problem_count = sum(t.critical + t.warning + t.offline for t in tenants)
        return FleetOverview(tenants, problems, problem_count)

    # --- the device list ----------------------------------------------------------------------

    async def list_page(self, query: DeviceQuery, visible: Collection[int] | None) -> DevicePage:
        """One page of devices matching ``query`` within ``visible`` tenants."""
        async with self._sessions() as session:
            conditions, truncated = await self._conditions(session, query, visible)
            ids_query = self._ordered_ids(query, conditions)
            ids = list(await session.scalars(ids_query.limit(query.per_page).offset(query.offset)))
            devices = await _details(session, ids)
            total, capped = await self._count(session, query, conditions, len(ids))
        return DevicePage(devices, query.page, query.per_page, total, capped, truncated)

    async def export_csv(
        self, query: DeviceQuery, visible: Collection[int] | None
    ) -> AsyncIterator[list[list[str]]]:
        """Every matching device (all pages, in the query's order) as escaped CSV cells
        (``CSV_HEADER``), in batches.

        One joined query read through a server-side cursor, and one for the tags: the pages'
        ids-first plan would cost a round trip per batch here, for no gain; rows go straight
        to cells, without the ``FleetDevice`` step."""
        async with self._sessions() as session:
            conditions, _ = await self._conditions(session, query, visible)
            tags = await _tags(session, select(DeviceRow.id).where(*conditions))
            statement = _details_query().where(*conditions).order_by(*self._order_keys(query))
            result = await session.stream(statement.execution_options(yield_per=EXPORT_BATCH))
            async for rows in result.partitions(EXPORT_BATCH):
                yield [_csv_cells(row, tags) for row in rows]

    async def presence(
        self, device_ids: Sequence[str], visible: Collection[int] | None
    ) -> list[Presence]:
        """The live state of the listed devices that exist and are visible (others are left
        out, as if they did not exist)."""
        wanted = sorted(set(device_ids))
        if len(wanted) > MAX_PRESENCE_IDS:
            raise InvalidArgument(f"ask for at most {MAX_PRESENCE_IDS} devices at a time")
        if any("\x00" in device_id for device_id in wanted):
            raise InvalidArgument("a device id may not contain NUL characters")
        if not wanted:
            return []
        query = select(
            DeviceRow.id, DeviceRow.online, DeviceRow.health_state, DeviceRow.last_seen_at
        ).where(*_scope(visible), DeviceRow.id.in_(wanted))
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [
            Presence(row.id, bool(row.online), _state_of(row.online, row.health_state), row[3])
            for row in rows
        ]

    async def facets(self, visible: Collection[int] | None) -> Facets:
        """The filter choices for ``visible`` tenants, cached for ``FACETS_TTL_S`` seconds."""
        key = None if visible is None else frozenset(visible)
        now = self._monotonic()
        cached = self._facets.get(key)
        if cached is not None and cached.expires > now:
            return cached.facets
        async with self._facets_lock:
            cached = self._facets.get(key)
            if cached is not None and cached.expires > now:
                return cached.facets
            facets = await self._load_facets(visible)
            if len(self._facets) >= _FACETS_CACHE_SIZE:
                self._facets.clear()
            self._facets[key] = _Cached(self._monotonic() + FACETS_TTL_S, facets)
            return facets

    # --- building blocks ----------------------------------------------------------------------

    async def _load_facets(self, visible: Collection[int] | None) -> Facets:
        scope = _scope(visible)
        in_scope = select(DeviceRow.id).where(*scope)
        tenants = select(TenantRow.id, TenantRow.name).order_by(TenantRow.name)
        sites = (
            select(SiteRow.id, SiteRow.tenant_id, TenantRow.name, SiteRow.name)
            .join(TenantRow, TenantRow.id == SiteRow.tenant_id)
            .order_by(TenantRow.name, SiteRow.name)
        )
        if visible is not None:
            tenants = tenants.where(TenantRow.id.in_(sorted(visible)))
            sites = sites.where(SiteRow.tenant_id.in_(sorted(visible)))
        inventory = DeviceInventoryRow
        os_names = (
            select(inventory.os_name)
            .where(inventory.device_id.in_(in_scope), inventory.os_name != "")
            .distinct()
            .order_by(inventory.os_name)
        )
        form_factors = (
            select(inventory.form_factor)
            .where(inventory.device_id.in_(in_scope), inventory.form_factor != "")
            .distinct()
            .order_by(inventory.form_factor)
        )
        tags = (
            select(DeviceTagRow.tag)
            .where(DeviceTagRow.device_id.in_(in_scope))
            .distinct()
            .order_by(DeviceTagRow.tag)
        )
        async with self._sessions() as session:
            return Facets(
                tenants=[(row[0], row[1]) for row in await session.execute(tenants)],
                sites=[
                    (row[0], row[1], f"{row[2]} / {row[3]}") for row in await session.execute(sites)
                ],
                os_names=list(await session.scalars(os_names)),
                form_factors=list(await session.scalars(form_factors)),
                tags=list(await session.scalars(tags)),
            )

    async def _conditions(
        self, session: AsyncSession, query: DeviceQuery, visible: Collection[int] | None
    ) -> tuple[list[ColumnElement[bool]], bool]:
        """The WHERE conditions on ``devices`` for ``query``; whether titles were cut."""
        conditions = _scope(visible)
        truncated = False
        if query.tenant_id is not None:
            conditions.append(DeviceRow.tenant_id == query.tenant_id)
        if query.site_id is not None:
            conditions.append(DeviceRow.site_id == query.site_id)
        if query.state:
            conditions.append(_state_condition(query.state))
        if query.tag:
            conditions.append(
                DeviceRow.id.in_(
                    select(DeviceTagRow.device_id).where(DeviceTagRow.tag == query.tag)
                )
            )
        inventory: list[ColumnElement[bool]] = []
        if query.os:
            inventory.append(DeviceInventoryRow.os_name == query.os)
        if query.form_factor:
            inventory.append(DeviceInventoryRow.form_factor == query.form_factor)
        if inventory:
            conditions.append(
                DeviceRow.id.in_(select(DeviceInventoryRow.device_id).where(*inventory))
            )
        now = self._clock()
        if query.seen_within is not None:
            conditions.append(DeviceRow.last_seen_at >= now - query.seen_within)
        if query.seen_older is not None:
            conditions.append(
                or_(
                    DeviceRow.last_seen_at.is_(None),
                    DeviceRow.last_seen_at < now - query.seen_older,
                )
            )
        if query.text:
            conditions.append(_text_condition(query.text))
        if query.software:
            title_ids, truncated = await _matching_titles(session, query.software)
            if not title_ids:
                conditions.append(false())
            else:
                conditions.append(
                    DeviceRow.id.in_(
                        select(DeviceSoftwareRow.device_id).where(
                            DeviceSoftwareRow.title_id.in_(title_ids)
                        )
                    )
                )
        return conditions, truncated

    def _ordered_ids(
        self, query: DeviceQuery, conditions: Sequence[ColumnElement[bool]]
    ) -> Select[Any]:
        return select(DeviceRow.id).where(*conditions).order_by(*self._order_keys(query))

    def _order_keys(self, query: DeviceQuery) -> list[Any]:
        keys: list[Any]
        if query.sort == SORT_LAST_SEEN:
            # Most recent first reads naturally as "descending"; never-seen devices go last.
            seen = DeviceRow.last_seen_at
            keys = [seen.desc().nulls_last() if query.descending else seen.asc().nulls_first()]
        elif query.sort == SORT_HEALTH:
            rank = _rank()
            keys = [rank.desc() if query.descending else rank.asc(), DeviceRow.hostname]
        elif query.sort == SORT_TENANT:
            tenant = (
                select(TenantRow.name)
                .where(TenantRow.id == DeviceRow.tenant_id)
                .correlate(DeviceRow)
                .scalar_subquery()
            )
            keys = [tenant.desc() if query.descending else tenant.asc(), DeviceRow.hostname]
        else:
            name = DeviceRow.hostname
            keys = [name.desc() if query.descending else name.asc()]
        id_key = DeviceRow.id.desc() if query.descending else DeviceRow.id.asc()
        return [*keys, id_key]

    async def _count(
        self,
        session: AsyncSession,
        query: DeviceQuery,
        conditions: Sequence[ColumnElement[bool]],
        on_page: int,
    ) -> tuple[int, bool]:
        if query.page == 1 and on_page < query.per_page:
            return on_page, False  # the whole result is on this first page
        limited = select(DeviceRow.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
        total = int(await session.scalar(select(func.count()).select_from(limited)) or 0)
        if total > COUNT_CAP:
            return COUNT_CAP, True
        return total, False


def _text_condition(text: str) -> ColumnElement[bool]:
    pattern = _like(text)
    inventory = DeviceInventoryRow
    matches = [
        inventory.serial_number.ilike(pattern, escape="\\"),
        inventory.hostname.ilike(pattern, escape="\\"),
    ]
    if _ADDRESS_LIKE.fullmatch(text):
        matches.append(sql_cast(inventory.interfaces, String).ilike(pattern, escape="\\"))
    return or_(
        DeviceRow.hostname.ilike(pattern, escape="\\"),
        DeviceRow.id == text.lower(),
        DeviceRow.id.in_(select(inventory.device_id).where(or_(*matches))),
    )


async def _matching_titles(session: AsyncSession, text: str) -> tuple[list[int], bool]:
    """Title ids whose name is ``text`` (any case), else contains it; whether cut short."""
    exact = list(
        await session.scalars(
            select(SoftwareTitleRow.id)
            .where(func.lower(SoftwareTitleRow.name) == text.lower())
            .limit(MAX_TITLES + 1)
        )
    )
    ids = exact or list(
        await session.scalars(
            select(SoftwareTitleRow.id)
            .where(SoftwareTitleRow.name.ilike(_like(text), escape="\\"))
            .order_by(SoftwareTitleRow.id)
            .limit(MAX_TITLES + 1)
        )
    )
    return ids[:MAX_TITLES], len(ids) > MAX_TITLES


def _details_query() -> Select[Any]:
    inventory = DeviceInventoryRow
    query = (
        select(
            DeviceRow.id,
            DeviceRow.hostname,
            DeviceRow.tenant_id,
            TenantRow.name,
            DeviceRow.site_id,
            SiteRow.name,
            DeviceRow.online,
            DeviceRow.health_state,
            DeviceRow.health_summary,
            DeviceRow.last_seen_at,
            DeviceRow.os_family,
            DeviceRow.agent_version,
            inventory.os_name,
            inventory.os_version,
            inventory.form_factor,
            inventory.serial_number,
        )
        .join(TenantRow, TenantRow.id == DeviceRow.tenant_id)
        .join(SiteRow, SiteRow.id == DeviceRow.site_id)
        .outerjoin(inventory, inventory.device_id == DeviceRow.id)
    )
    return cast("Select[Any]", query)


async def _tags(
    session: AsyncSession, devices: Sequence[str] | Select[Any]
) -> dict[str, tuple[str, ...]]:
    """The tags of ``devices`` (a list of ids, or a query selecting them)."""
    found: dict[str, list[str]] = {}
    for device_id, tag in await session.execute(
        select(DeviceTagRow.device_id, DeviceTagRow.tag)
        .where(DeviceTagRow.device_id.in_(devices))
        .order_by(DeviceTagRow.device_id, DeviceTagRow.tag)
    ):
        found.setdefault(device_id, []).append(tag)
    return {device_id: tuple(tags) for device_id, tags in found.items()}


def _device(row: Any, tags: Mapping[str, tuple[str, ...]]) -> FleetDevice:
    return FleetDevice(
        device_id=row[0],
        hostname=row[1],
        tenant_id=row[2],
        tenant=row[3],
        site_id=row[4],
        site=row[5],
        state=_state_of(bool(row[6]), int(row[7])),
        health_summary=row[8],
        online=bool(row[6]),
        last_seen_at=row[9],
        os_name=row[12] or row[10],
        os_version=row[13] or "",
        form_factor=row[14] or "",
        serial_number=row[15] or "",
        agent_version=row[11],
        tags=tags.get(row[0], ()),
    )


async def _details(session: AsyncSession, ids: Sequence[str]) -> list[FleetDevice]:
    """The listed devices with their tenant, site, inventory and tags, in ``ids`` order."""
    if not ids:
        return []
    rows = (await session.execute(_details_query().where(DeviceRow.id.in_(ids)))).all()
    tags = await _tags(session, ids)
    found = {row[0]: _device(row, tags) for row in rows}
    return [found[device_id] for device_id in ids if device_id in found]


__all__ = [
    "COUNT_CAP",
    "CSV_HEADER",
    "MAX_ID",
    "MAX_PER_PAGE",
    "SORTS",
    "STATES",
    "DevicePage",
    "DeviceQuery",
    "Facets",
    "FleetDevice",
    "FleetOverview",
    "FleetQueries",
    "Presence",
    "TenantHealth",
    "csv_cell",
    "parse_device_query",
]
