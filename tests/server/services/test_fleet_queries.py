"""Fleet reads: overview, filters, search, sort, pages, tenant isolation, CSV, presence.

Run on SQLite and PostgreSQL (the ``sessions`` fixture). The fleet is written straight into
the store so each test knows exactly what every device is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import NamedTuple

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services import fleet_queries
from server.services.errors import InvalidArgument
from server.services.fleet_queries import (
    CSV_HEADER,
    DeviceQuery,
    FleetQueries,
    csv_cell,
    parse_device_query,
)
from server.store.models import (
    DeviceInventoryRow,
    DeviceRow,
    DeviceSoftwareRow,
    DeviceTagRow,
    SiteRow,
    SoftwareTitleRow,
    TenantRow,
)
from tests.conftest import FakeClock

A, B = 1, 2


class Spec(NamedTuple):
    tenant: int
    site: int
    online: bool
    state: int
    minutes: int | None  # since last seen
    os_name: str | None  # None: no inventory
    form: str = ""
    serial: str = ""
    mac: str = ""
    address: str = ""
    titles: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()


FLEET: dict[str, Spec] = {
    "alpha-01": Spec(A, 1, True, 0, 1, "Debian 12", "laptop", "SN-A1", "aa:bb:cc:00:00:01",
                     "10.1.0.1", (1, 2), ("kiosk",)),
    "alpha-02": Spec(A, 2, True, 1, 2, "Windows 11 Pro", "desktop", "=cmd|' /C calc'!A0",
                     "aa:bb:cc:00:00:02", "10.1.0.2", (2,)),
    "beta-03": Spec(A, 1, True, 2, 30, "Windows 11 Pro", "desktop", "SN-A3",
                    "aa:bb:cc:00:00:03", "10.1.0.3", (), ("finance",)),
    "gamma-04": Spec(A, 1, False, 0, 60 * 24 * 10, None),
    "alpha-b1": Spec(B, 3, True, 2, 5, "Ubuntu 24.04", "server", "SN-B1", "aa:bb:cc:00:00:b1",
                     "10.2.0.1", (1,), ("kiosk", "vip-b")),
}  # fmt: skip
REVOKED = "revoked-05"
TITLES = {1: "7-Zip", 2: "Mozilla Firefox", 3: "7-Zip Helper"}


def device_id(hostname: str) -> str:
    return hashlib.md5(hostname.encode()).hexdigest()[:32]  # noqa: S324 (an id, not a secret)


async def seed_fleet(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    """Tenants Acme (1: sites 1, 2) and Bravo (2: site 3), ``FLEET`` and one revoked device."""
    async with sessions.begin() as session:
        session.add_all([TenantRow(id=A, name="Acme", created_at=now)])
        session.add_all([TenantRow(id=B, name="Bravo", created_at=now)])
        await session.flush()
        session.add_all(
            [
                SiteRow(id=1, tenant_id=A, name="HQ", created_at=now),
                SiteRow(id=2, tenant_id=A, name="Branch", created_at=now),
                SiteRow(id=3, tenant_id=B, name="HQ", created_at=now),
            ]
        )
        session.add_all(
            [SoftwareTitleRow(id=i, title_key=f"k{i}", name=n, publisher="", source="msi")
             for i, n in TITLES.items()]
        )  # fmt: skip
        await session.flush()
        rows: list[object] = []
        devices: list[object] = []
        for n, (hostname, spec) in enumerate(FLEET.items()):
            did = device_id(hostname)
            devices.append(
                DeviceRow(
                    id=did,
                    tenant_id=spec.tenant,
                    site_id=spec.site,
                    hostname=hostname,
                    os_family="linux",
                    agent_version="0.1.0",
                    enrolled_at=now - timedelta(days=30),
                    last_seen_at=None
                    if spec.minutes is None
                    else now - timedelta(minutes=spec.minutes),
                    current_serial=f"{n:040x}",
                    health_state=spec.state,
                    health_summary="memory high" if spec.state == 1 else "",
                    online=spec.online,
                )
            )
            if spec.os_name is not None:
                rows.append(_inventory(did, hostname, spec, now))
            rows.extend(
                DeviceSoftwareRow(
                    device_id=did, title_id=title, version="1", architecture="", identifier=""
                )
                for title in spec.titles
            )
            rows.extend(DeviceTagRow(device_id=did, tag=tag, created_at=now) for tag in spec.tags)
        devices.append(
            DeviceRow(
                id=device_id(REVOKED),
                tenant_id=A,
                site_id=1,
                hostname=REVOKED,
                os_family="linux",
                agent_version="0.1.0",
                enrolled_at=now,
                last_seen_at=now,
                revoked_at=now,
                current_serial="f" * 40,
                health_state=2,
                online=True,
            )
        )
        rows.append(DeviceSoftwareRow(device_id=device_id(REVOKED), title_id=1, version="1",
                                      architecture="", identifier=""))  # fmt: skip
        session.add_all(devices)
        await session.flush()
        session.add_all(rows)


@pytest.fixture
async def fleet(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> FleetQueries:
    await seed_fleet(sessions, clock())
    return FleetQueries(sessions, clock)


def _inventory(did: str, hostname: str, spec: Spec, now: datetime) -> DeviceInventoryRow:
    return DeviceInventoryRow(
        device_id=did,
        report_id="r",
        collect_time=now,
        received_at=now,
        os_family="linux",
        os_name=spec.os_name or "",
        os_version="1",
        kernel="",
        hostname=hostname,
        vendor="",
        model="",
        serial_number=spec.serial,
        cpu_model="",
        cpu_cores=1,
        cpu_threads=1,
        memory_total_bytes=1,
        disks=[],
        interfaces=[{"name": "eth0", "mac_address": spec.mac, "addresses": [spec.address]}],
        form_factor=spec.form,
    )


async def names(
    fleet: FleetQueries, visible: Collection[int] | None = None, **params: str
) -> list[str]:
    """The hostnames listed for ``params`` (query-string values) within ``visible``."""
    page = await fleet.list_page(parse_device_query(params), visible)
    return [device.hostname for device in page.devices]


ALL = ["alpha-01", "alpha-02", "alpha-b1", "beta-03", "gamma-04"]


async def test_the_default_list_is_every_device_but_revoked_ones_by_hostname(
    fleet: FleetQueries,
) -> None:
    page = await fleet.list_page(DeviceQuery(), None)
    assert [d.hostname for d in page.devices] == ALL
    assert (page.total, page.total_capped, page.has_next) == (5, False, False)
    first = page.devices[0]
    assert (first.tenant, first.site, first.state, first.os_name, first.form_factor) == (
        "Acme", "HQ", "ok", "Debian 12", "laptop"
    )  # fmt: skip
    assert first.tags == ("kiosk",)
    assert page.devices[-1].state == "offline"
    assert page.devices[-1].os_name == "linux"  # no inventory: the enrolment's OS family


async def test_a_technician_sees_only_granted_tenants_devices_even_when_asking_for_others(
    fleet: FleetQueries,
) -> None:
    assert await names(fleet, {A}) == ["alpha-01", "alpha-02", "beta-03", "gamma-04"]
    page = await fleet.list_page(parse_device_query({"tenant": str(B)}), {A})
    assert (page.devices, page.total) == ([], 0)
    assert await names(fleet, {A}, site="3") == []
    assert await names(fleet, {A}, q="alpha-b1") == []
    assert await names(fleet, {A}, software="7-Zip") == ["alpha-01"]
    assert await names(fleet, set()) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("alpha", ["alpha-01", "alpha-02", "alpha-b1"]),
        ("ALPHA-0", ["alpha-01", "alpha-02"]),
        ("sn-a1", ["alpha-01"]),
        ("aa:bb:cc:00:00:03", ["beta-03"]),
        ("10.2.0.1", ["alpha-b1"]),
        ("%", []),
        ("_", []),
        ("nothing-like-this", []),
    ],
)
async def test_text_search_matches_hostname_serial_mac_and_address_case_insensitively(
    fleet: FleetQueries, query: str, expected: list[str]
) -> None:
    assert await names(fleet, q=query) == expected


async def test_text_search_finds_a_device_by_its_id(fleet: FleetQueries) -> None:
    assert await names(fleet, q=device_id("beta-03")) == ["beta-03"]


@pytest.mark.parametrize(
    ("software", "expected", "visible"),
    [
        ("7-zip", ["alpha-01", "alpha-b1"], None),  # exact title (any case): not the Helper
        ("firefox", ["alpha-01", "alpha-02"], None),  # else titles containing it
        ("7-Zip", ["alpha-01"], {A}),
        ("no such program", [], None),
    ],
)
async def test_software_search_finds_devices_holding_a_matching_title(
    fleet: FleetQueries, software: str, expected: list[str], visible: set[int] | None
) -> None:
    assert await names(fleet, visible, software=software) == expected


async def test_too_many_matching_titles_are_cut_and_the_page_says_so(
    fleet: FleetQueries, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fleet_queries, "MAX_TITLES", 1)
    page = await fleet.list_page(parse_device_query({"software": "i"}), None)
    assert page.titles_truncated
    assert not (
        await fleet.list_page(parse_device_query({"software": "7-zip"}), None)
    ).titles_truncated


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "ok"}, ["alpha-01"]),
        ({"state": "warning"}, ["alpha-02"]),
        ({"state": "critical"}, ["alpha-b1", "beta-03"]),
        ({"state": "offline"}, ["gamma-04"]),
        ({"tenant": "1", "state": "critical"}, ["beta-03"]),
        ({"site": "2"}, ["alpha-02"]),
        ({"os": "Windows 11 Pro"}, ["alpha-02", "beta-03"]),
        ({"form_factor": "laptop"}, ["alpha-01"]),
        ({"tag": "kiosk"}, ["alpha-01", "alpha-b1"]),
        ({"tag": "KIOSK", "tenant": "2"}, ["alpha-b1"]),
        ({"seen_within": "10m"}, ["alpha-01", "alpha-02", "alpha-b1"]),
        ({"seen_older": "1d"}, ["gamma-04"]),
        ({"seen_within": "1h", "seen_older": "10m"}, ["beta-03"]),
    ],
)
async def test_filters(fleet: FleetQueries, params: dict[str, str], expected: list[str]) -> None:
    assert await names(fleet, None, **params) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-hostname", list(reversed(ALL))),
        ("-last_seen", ["alpha-01", "alpha-02", "alpha-b1", "beta-03", "gamma-04"]),
        ("last_seen", ["gamma-04", "beta-03", "alpha-b1", "alpha-02", "alpha-01"]),
        ("health", ["alpha-b1", "beta-03", "alpha-02", "gamma-04", "alpha-01"]),
        ("tenant", ["alpha-01", "alpha-02", "beta-03", "gamma-04", "alpha-b1"]),
        # descending by tenant; within a tenant still by hostname
        ("-tenant", ["alpha-b1", "alpha-01", "alpha-02", "beta-03", "gamma-04"]),
    ],
)
async def test_sorts(fleet: FleetQueries, sort: str, expected: list[str]) -> None:
    assert await names(fleet, sort=sort) == expected


async def test_pages_cover_the_whole_list_once_in_order(fleet: FleetQueries) -> None:
    seen: list[str] = []
    for number in (1, 2, 3):
        page = await fleet.list_page(
            parse_device_query({"page": str(number), "per_page": "2"}), None
        )
        seen.extend(d.hostname for d in page.devices)
        assert page.total == 5
        assert page.has_next == (number < 3)
        assert page.has_previous == (number > 1)
    assert seen == ALL


async def test_the_total_is_capped(fleet: FleetQueries, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fleet_queries, "COUNT_CAP", 3)
    page = await fleet.list_page(parse_device_query({"per_page": "2"}), None)
    assert (page.total, page.total_capped) == (3, True)


@pytest.mark.parametrize(
    "params",
    [
        {"state": "sleepy"},
        {"sort": "colour"},
        {"page": "0"},
        {"page": "-1"},
        {"page": "100000"},
        {"per_page": "501"},
        {"tenant": "acme"},
        {"tenant": "2147483648"},
        {"site": "999999999999"},
        {"site": "1.5"},
        {"seen_within": "soon"},
        {"seen_older": "999999d"},
        {"q": "x" * 201},
        {"q": "a\x00b"},
        {"software": "\x00"},
        {"tag": "\x00"},
    ],
)
def test_malformed_parameters_are_refused_with_a_message(params: dict[str, str]) -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_device_query(params)
    assert str(raised.value)


async def test_the_overview_counts_per_tenant_and_lists_the_worst_first(
    fleet: FleetQueries,
) -> None:
    overview = await fleet.overview(None)
    acme, bravo = sorted(overview.tenants, key=lambda t: t.tenant_id)
    assert (acme.ok, acme.warning, acme.critical, acme.offline) == (1, 1, 1, 1)
    assert (acme.online, acme.total, acme.worst) == (3, 4, "critical")
    assert (bravo.critical, bravo.total) == (1, 1)
    assert [d.hostname for d in overview.problems] == [
        "alpha-b1",
        "beta-03",
        "alpha-02",
        "gamma-04",
    ]
    assert overview.problem_count == 4
    assert overview.totals.total == 5


async def test_the_overview_of_a_technician_holds_only_their_tenants(fleet: FleetQueries) -> None:
    overview = await fleet.overview({A})
    assert [t.tenant for t in overview.tenants] == ["Acme"]
    assert "alpha-b1" not in [d.hostname for d in overview.problems]
    assert overview.totals.total == 4
    empty = await fleet.overview(set())
    assert (empty.tenants, empty.problems) == ([], [])


async def test_presence_answers_only_for_visible_unrevoked_devices(fleet: FleetQueries) -> None:
    wanted = [device_id(h) for h in ("alpha-01", "alpha-b1", "gamma-04")] + [
        device_id(REVOKED),
        "unknown",
    ]
    found = {p.device_id: (p.online, p.state) for p in await fleet.presence(wanted, {A})}
    assert found == {
        device_id("alpha-01"): (True, "ok"),
        device_id("gamma-04"): (False, "offline"),
    }
    with pytest.raises(InvalidArgument):
        await fleet.presence([str(n) for n in range(501)], None)
    with pytest.raises(InvalidArgument):
        await fleet.presence(["a\x00"], None)


async def test_facets_hold_only_what_the_visible_tenants_have(fleet: FleetQueries) -> None:
    facets = await fleet.facets({A})
    assert facets.tenants == [(A, "Acme")]
    assert [name for _, _, name in facets.sites] == ["Acme / Branch", "Acme / HQ"]
    assert facets.os_names == ["Debian 12", "Windows 11 Pro"]
    assert facets.form_factors == ["desktop", "laptop"]
    assert facets.tags == ["finance", "kiosk"]
    everything = await fleet.facets(None)
    assert "vip-b" in everything.tags and "Ubuntu 24.04" in everything.os_names


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+33 1 23", "'+33 1 23"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_defused(text: str, cell: str) -> None:
    assert csv_cell(text) == cell


async def test_the_export_holds_every_matching_device_in_order_across_batches(
    fleet: FleetQueries, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fleet_queries, "EXPORT_BATCH", 2)
    query = parse_device_query({"per_page": "1"})
    batches = [batch async for batch in fleet.export_csv(query, {A})]
    assert [len(b) for b in batches] == [2, 2]
    rows = [row for batch in batches for row in batch]
    assert [row[1] for row in rows] == ["alpha-01", "alpha-02", "beta-03", "gamma-04"]
    assert len(rows[0]) == len(CSV_HEADER)
    assert rows[0][:11] == [
        device_id("alpha-01"), "alpha-01", "Acme", "HQ", "ok", "", "Debian 12", "1", "laptop",
        "SN-A1", "0.1.0",
    ]  # fmt: skip
    assert rows[0][CSV_HEADER.index("last_seen_at")].startswith("2026-03-01T09:29:00")
    assert rows[0][CSV_HEADER.index("tags")] == "kiosk"
    assert rows[1][CSV_HEADER.index("serial_number")] == "'=cmd|' /C calc'!A0"
    assert rows[1][CSV_HEADER.index("health_summary")] == "memory high"
    assert rows[3][4:10] == ["offline", "", "linux", "", "", ""]  # no inventory yet
    assert json.dumps(rows)  # plain strings only


@pytest.mark.parametrize("sort", ["hostname", "-last_seen", "health", "-tenant"])
async def test_the_export_is_in_the_same_order_as_the_pages(fleet: FleetQueries, sort: str) -> None:
    query = parse_device_query({"sort": sort})
    exported = [row[1] async for batch in fleet.export_csv(query, None) for row in batch]
    assert exported == await names(fleet, None, sort=sort)


async def test_facets_are_cached_briefly(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await seed_fleet(sessions, clock())
    now = [1000.0]
    fleet = FleetQueries(sessions, clock, monotonic=lambda: now[0])
    first = await fleet.facets(None)
    async with sessions.begin() as session:
        session.add(
            DeviceTagRow(device_id=device_id("alpha-01"), tag="new-tag", created_at=clock())
        )
    assert await fleet.facets(None) is first
    assert "new-tag" not in first.tags
    now[0] += fleet_queries.FACETS_TTL_S + 1
    assert "new-tag" in (await fleet.facets(None)).tags
