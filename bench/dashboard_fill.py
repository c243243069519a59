"""Fill a collector's store with a large generated fleet, for the dashboard benchmark.

10,000 devices across several tenants and sites (by default), each with an inventory, a
health state, presence, tags, and ~700 software links drawn from a shared pool of titles
(7 million links in all). Fast: bulk inserts through the database driver (SQLite
``executemany`` in one transaction, PostgreSQL ``COPY``), with the software links' secondary
indexes dropped during the load and rebuilt after it.

SQLite (a new data folder, made with ``parc-server init``)::

    .venv/bin/python -m bench.dashboard_fill --data-dir /tmp/parc-bench/sqlite

PostgreSQL (a database of its own, created if missing; the data folder keeps the keys and
names the database in its ``server.toml``)::

    .venv/bin/python -m bench.dashboard_fill --data-dir /tmp/parc-bench/pg \\
        --database-url postgresql://postgres@127.0.0.1:5432/parc_bench

Online devices are stamped as last seen a few hours *ahead* of now, so the collector's
presence sweep leaves the generated states alone while a benchmark runs against them.
The data is deterministic for a given ``--seed``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TENANTS = (
    "Acme Logistics",
    "Boulangerie Martin",
    "Cabinet Dupont",
    "Delta Freight",
    "Etude Leroy",
    "Fromagerie Bernard",
    "Garage Moreau",
    "Hotel du Lac",
)
SITES = ("HQ", "Warehouse", "Branch")
OS_CHOICES = (
    ("windows", "Windows 11 Pro", "23H2", "laptop"),
    ("windows", "Windows 10 Pro", "22H2", "desktop"),
    ("windows", "Windows Server 2022", "21H2", "server"),
    ("linux", "Ubuntu 22.04.4 LTS", "22.04", "server"),
    ("linux", "Debian GNU/Linux 12", "12", "virtual_machine"),
    ("darwin", "macOS 14 Sonoma", "14.5", "laptop"),
)
TAGS = ("kiosk", "finance", "loaner-pool", "vip", "lab", "reception")
COMMON_TITLES = (
    "Microsoft Edge",
    "Google Chrome",
    "Mozilla Firefox",
    "7-Zip",
    "Adobe Acrobat Reader",
    "Microsoft 365 Apps for business",
    "Zoom Workplace",
    "VLC media player",
    "Notepad++",
    "Microsoft Teams",
)
SOURCES = ("msi", "registry", "deb", "rpm", "app_bundle")
PUBLISHERS = ("Contoso", "Fabrikam", "Northwind", "Litware", "Tailspin", "Wingtip")
BATCH = 50_000


@dataclass(frozen=True)
class FillConfig:
    devices: int = 10_000
    links_per_device: int = 700
    titles: int = 4_000
    seed: int = 7


def _server_cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "server.cli", *args], check=True)


def ensure_postgres_database(url: str) -> None:
    """Create the database ``url`` names when it does not exist yet."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(
        admin.render_as_string(hide_password=False), autocommit=True
    ) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if found is None:
            connection.execute(f'CREATE DATABASE "{name}"')


def _rng_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _iso(when: datetime) -> str:
    return when.isoformat()


class Generator:
    """Deterministic rows for every table the fleet pages read."""

    def __init__(self, config: FillConfig, now: datetime) -> None:
        self.config = config
        self.now = now
        self.rng = random.Random(config.seed)
        self.device_ids = [_rng_uuid(self.rng) for _ in range(config.devices)]

    def tenants(self) -> list[tuple[Any, ...]]:
        return [(i + 1, name, self.now) for i, name in enumerate(TENANTS)]

    def sites(self) -> list[tuple[Any, ...]]:
        rows = []
        for t in range(len(TENANTS)):
            for s, name in enumerate(SITES):
                rows.append((t * len(SITES) + s + 1, t + 1, name, self.now))
        return rows

    def devices(self) -> Iterator[tuple[Any, ...]]:
        rng = random.Random(self.config.seed + 1)
        for n, device_id in enumerate(self.device_ids):
            tenant = n % len(TENANTS) + 1
            site = (tenant - 1) * len(SITES) + rng.randrange(len(SITES)) + 1
            os_family, *_ = OS_CHOICES[n % len(OS_CHOICES)]
            online = rng.random() < 0.85
            if online:
                # ahead of now: the presence sweep keeps them online during the benchmark
                last_seen = self.now + timedelta(hours=6, seconds=rng.randrange(3600))
            elif rng.random() < 0.05:
                last_seen = None
            else:
                last_seen = self.now - timedelta(minutes=rng.randrange(5, 60 * 24 * 60))
            roll = rng.random()
            state, summary = (0, "")
            if roll < 0.05:
                state, summary = (2, "/ is 99 % full")
            elif roll < 0.20:
                state, summary = (1, "memory over 90 % for 15 minutes")
            prefix = TENANTS[tenant - 1].split()[0].lower()[:5]
            yield (
                device_id,
                tenant,
                site,
                f"{prefix}-{os_family[:3]}-{n:05d}",
                os_family,
                "0.4.2",
                self.now - timedelta(days=rng.randrange(1, 400)),
                last_seen,
                None,
                f"{n + 1:040x}",
                state,
                summary,
                None,
                online,
            )

    def inventories(self) -> Iterator[tuple[Any, ...]]:
        rng = random.Random(self.config.seed + 2)
        for n, device_id in enumerate(self.device_ids):
            os_family, os_name, os_version, form_factor = OS_CHOICES[n % len(OS_CHOICES)]
            mac = ":".join(f"{rng.randrange(256):02x}" for _ in range(6))
            address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
            interfaces = json.dumps(
                [{"name": "eth0", "mac_address": mac, "addresses": [address], "speed_mbps": 1000}]
            )
            prefix = TENANTS[n % len(TENANTS)].split()[0].lower()[:5]
            yield (
                device_id,
                f"inv-{n}",
                self.now,
                self.now,
                os_family,
                os_name,
                os_version,
                "6.1.0",
                f"{prefix}-{os_family[:3]}-{n:05d}",
                "Dell Inc.",
                "Latitude 5440",
                f"SN{n:07d}X",
                "Intel(R) Core(TM) i5-1345U",
                10,
                12,
                16 * 2**30,
                "[]",
                interfaces,
                form_factor,
                "[]",
            )

    def titles(self) -> list[tuple[Any, ...]]:
        rows = []
        for i in range(self.config.titles):
            if i < len(COMMON_TITLES):
                name, publisher = COMMON_TITLES[i], "Vendor"
            else:
                name = f"Package {i:05d} {('Suite', 'Tools', 'Runtime', 'Agent')[i % 4]}"
                publisher = PUBLISHERS[i % len(PUBLISHERS)]
            source = SOURCES[i % len(SOURCES)]
            key = hashlib.sha256(f"{name}\0{publisher}\0{source}".encode()).hexdigest()
            rows.append((i + 1, key, name, publisher, source))
        return rows

    def links(self) -> Iterator[tuple[Any, ...]]:
        """~``links_per_device`` per device: the common titles on most devices, 200 "usual"
        ones shared widely, and the rest drawn from the long tail."""
        rng = random.Random(self.config.seed + 3)
        titles = self.config.titles
        usual = range(len(COMMON_TITLES) + 1, min(titles, 300) + 1)
        tail = list(range(301, titles + 1))
        link_id = 0
        installed = self.now - timedelta(days=30)
        for device_id in self.device_ids:
            chosen = {t for t in range(1, len(COMMON_TITLES) + 1) if rng.random() < 0.9}
            chosen.update(t for t in usual if rng.random() < 0.7)
            want = max(0, self.config.links_per_device - len(chosen))
            chosen.update(rng.sample(tail, min(want, len(tail))))
            for title_id in sorted(chosen):
                link_id += 1
                yield (
                    link_id,
                    device_id,
                    title_id,
                    f"{title_id % 17}.{title_id % 5}.{link_id % 3}",
                    "x64",
                    f"pkg-{title_id}",
                    installed,
                )

    def tags(self) -> Iterator[tuple[Any, ...]]:
        rng = random.Random(self.config.seed + 4)
        for device_id in self.device_ids:
            if rng.random() < 0.3:
                for tag in rng.sample(TAGS, rng.randrange(1, 3)):
                    yield (device_id, tag, self.now)


DEVICE_COLUMNS = (
    "id, tenant_id, site_id, hostname, os_family, agent_version, enrolled_at, last_seen_at,"
    " revoked_at, current_serial, health_state, health_summary, health_changed_at, online"
)
INVENTORY_COLUMNS = (
    "device_id, report_id, collect_time, received_at, os_family, os_name, os_version, kernel,"
    " hostname, vendor, model, serial_number, cpu_model, cpu_cores, cpu_threads,"
    " memory_total_bytes, disks, interfaces, form_factor, memory_modules"
)
LINK_COLUMNS = "id, device_id, title_id, version, architecture, identifier, install_time"


def _chunks(rows: Iterator[tuple[Any, ...]], size: int = BATCH) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _sqlite_value(value: Any) -> Any:
    # The store's UTCDateTime keeps ISO text on SQLite, as SQLAlchemy's DateTime does.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _sqlite_rows(rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [tuple(_sqlite_value(v) for v in row) for row in rows]


def fill_sqlite(path: Path, gen: Generator, log: Any) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-500000")
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='device_software'"
            " AND sql IS NOT NULL"
        ).fetchall()
        connection.execute("BEGIN")
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')

        def insert(table: str, columns: str, rows: Iterator[tuple[Any, ...]]) -> int:
            marks = ", ".join("?" for _ in columns.split(","))
            count = 0
            for chunk in _chunks(rows):
                connection.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 (constants)
                    _sqlite_rows(chunk),
                )
                count += len(chunk)
            log(f"  {table}: {count:,} rows")
            return count

        insert("tenants", "id, name, created_at", iter(gen.tenants()))
        insert("sites", "id, tenant_id, name, created_at", iter(gen.sites()))
        insert("devices", DEVICE_COLUMNS, gen.devices())
        insert("device_inventory", INVENTORY_COLUMNS, gen.inventories())
        insert("software_titles", "id, title_key, name, publisher, source", iter(gen.titles()))
        insert("device_software", LINK_COLUMNS, gen.links())
        insert("device_tags", "device_id, tag, created_at", gen.tags())
        connection.execute("COMMIT")
        for name, sql in indexes:
            started = time.perf_counter()
            connection.execute(sql)
            log(f"  index {name}: {time.perf_counter() - started:.1f} s")
        connection.execute("ANALYZE")
    finally:
        connection.close()


def fill_postgres(url: str, gen: Generator, log: Any) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url).set(drivername="postgresql")
    with psycopg.connect(parsed.render_as_string(hide_password=False)) as connection:
        indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'device_software'"
            " AND indexname <> 'pk_device_software' AND schemaname = current_schema()"
        ).fetchall()
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')

        def copy(table: str, columns: str, rows: Iterator[tuple[Any, ...]]) -> None:
            count = 0
            with (
                connection.cursor() as cursor,
                cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as stream,
            ):
                for row in rows:
                    stream.write_row(row)
                    count += 1
            log(f"  {table}: {count:,} rows")

        copy("tenants", "id, name, created_at", iter(gen.tenants()))
        copy("sites", "id, tenant_id, name, created_at", iter(gen.sites()))
        copy("devices", DEVICE_COLUMNS, gen.devices())
        copy("device_inventory", INVENTORY_COLUMNS, gen.inventories())
        copy("software_titles", "id, title_key, name, publisher, source", iter(gen.titles()))
        copy("device_software", LINK_COLUMNS, gen.links())
        copy("device_tags", "device_id, tag, created_at", gen.tags())
        for table in ("tenants", "sites", "software_titles", "device_software"):
            connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608 (constants)
                f" (SELECT max(id) FROM {table}))"
            )
        connection.commit()
        connection.execute("SET maintenance_work_mem = '512MB'")
        for name, sql in indexes:
            started = time.perf_counter()
            connection.execute(sql)
            log(f"  index {name}: {time.perf_counter() - started:.1f} s")
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a new collector folder")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in the folder)")
    parser.add_argument("--devices", type=int, default=FillConfig.devices)
    parser.add_argument("--links-per-device", type=int, default=FillConfig.links_per_device)
    parser.add_argument("--titles", type=int, default=FillConfig.titles)
    parser.add_argument("--seed", type=int, default=FillConfig.seed)
    args = parser.parse_args(argv)
    config = FillConfig(args.devices, args.links_per_device, args.titles, args.seed)

    def log(message: str) -> None:
        print(message, flush=True)

    if (args.data_dir / "server.toml").exists():
        parser.error(f"{args.data_dir} is already a collector folder: give a new one")
    if args.database_url:
        ensure_postgres_database(args.database_url)
        _server_cli("init", "--data-dir", str(args.data_dir), "--database-url", args.database_url)
    else:
        _server_cli("init", "--data-dir", str(args.data_dir))
    started = time.perf_counter()
    gen = Generator(config, datetime.now(UTC).replace(microsecond=0))
    log(f"filling {config.devices:,} devices x ~{config.links_per_device} links")
    if args.database_url:
        fill_postgres(args.database_url, gen, log)
    else:
        fill_sqlite(args.data_dir / "parc.db", gen, log)
    log(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
