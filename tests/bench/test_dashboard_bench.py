"""The dashboard benchmark's scripts on a tiny store: the fill writes what the pages read,
and the HTTP bench signs in to a real collector and measures every page."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bench import dashboard_fill, dashboard_http

pytestmark = pytest.mark.e2e

DEVICES = 40
LINKS = 30
TITLES = 400


def test_the_fill_and_the_http_bench_work_end_to_end(tmp_path: Path) -> None:
    data_dir = tmp_path / "store"
    assert (
        dashboard_fill.main(
            [
                "--data-dir", str(data_dir),
                "--devices", str(DEVICES),
                "--links-per-device", str(LINKS),
                "--titles", str(TITLES),
            ]
        )
        == 0
    )  # fmt: skip
    with sqlite3.connect(data_dir / "parc.db") as db:
        assert db.execute("SELECT count(*) FROM devices").fetchone() == (DEVICES,)
        links = db.execute("SELECT count(DISTINCT device_id) FROM device_software").fetchone()
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert links == (DEVICES,)
    assert "ix_device_software_title_id_device_id" in indexes  # rebuilt after the load
    with pytest.raises(SystemExit):
        dashboard_fill.main(["--data-dir", str(data_dir)])  # refuses an existing store

    results = asyncio.run(dashboard_http.bench_one(data_dir, requests=2, csv_requests=1))
    by_name = {r.name: r for r in results}
    device_page = by_name.pop("device page /devices/{id}")
    assert device_page.status in (200, 404)
    for result in by_name.values():
        assert result.status == 200, result
        assert result.requests == 2 or result.name.startswith("CSV")
        assert result.server_median_ms is not None and result.server_median_ms >= 0
    csv_export = by_name["CSV export, all devices"]
    assert csv_export.body_bytes > DEVICES * 50
    assert csv_export.judged_on == "client"
    named = [f.name for f in dashboard_http.figures(csv_export)]
    assert named == [
        "sqlite: CSV export, all devices, median",
        "sqlite: CSV export, all devices, p95",
    ]
    assert dashboard_http.figures(device_page) == [] or device_page.status == 200
