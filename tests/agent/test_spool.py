"""The spool: order, bounded eviction (health first), persistence, acknowledged deletes."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.spool import ReportKind, Spool, read_depth


def fill(spool: Spool, kinds: str, prefix: str = "") -> list[str]:
    """Spools one report per letter (h = health, i = inventory); returns their ids."""
    ids = []
    for n, letter in enumerate(kinds):
        kind: ReportKind = "health" if letter == "h" else "inventory"
        report_id = f"{prefix}{kind}-{n}"
        spool.put(kind, report_id, report_id.encode())
        ids.append(report_id)
    return ids


def test_batches_are_oldest_first_and_of_one_kind(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.db") as spool:
        ids = fill(spool, "hhhihh")
        batch = spool.next_batch()
        assert [b.report_id for b in batch] == ids[:3]
        assert {b.kind for b in batch} == {"health"}
        assert batch[0].payload == b"health-0"
        spool.delete(ids[:3])
        assert [b.report_id for b in spool.next_batch()] == [ids[3]]
        spool.delete([ids[3]])
        assert [b.report_id for b in spool.next_batch()] == ids[4:]


def test_batch_size_limit(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.db") as spool:
        ids = fill(spool, "h" * 250)
        assert [b.report_id for b in spool.next_batch(100)] == ids[:100]


def test_only_acknowledged_ids_are_deleted(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.db") as spool:
        ids = fill(spool, "hhhh")
        assert spool.delete([ids[1], "unknown-id"]) == 1
        assert [b.report_id for b in spool.next_batch()] == [ids[0], ids[2], ids[3]]


def test_eviction_drops_oldest_health_first(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.db", max_reports=4) as spool:
        ids = fill(spool, "ihih")
        dropped = spool.put("health", "new-health", b"x")
        assert dropped == 1
        remaining = [b.report_id for b in spool.next_batch()]
        assert len(spool) == 4
        assert spool.depth() == {"health": 2, "inventory": 2}
        # The oldest health (ids[1]) went; both inventories stayed.
        assert ids[1] not in remaining
        spool.put("health", "newer-health", b"x")
        assert spool.depth() == {"health": 2, "inventory": 2}


def test_eviction_drops_inventory_only_when_no_health_left(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.db", max_reports=2) as spool:
        ids = fill(spool, "ii")
        assert spool.put("inventory", "inv-new", b"x") == 1
        all_ids = []
        while batch := spool.next_batch():
            all_ids += [b.report_id for b in batch]
            spool.delete([b.report_id for b in batch])
        assert all_ids == [ids[1], "inv-new"]


def test_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    with Spool(path) as spool:
        ids = fill(spool, "hih")
    assert read_depth(path) == {"health": 2, "inventory": 1}
    with Spool(path) as spool:
        assert [b.report_id for b in spool.next_batch()] == [ids[0]]
        fill(spool, "h", prefix="later-")
        assert len(spool) == 4


def test_duplicate_report_id_is_stored_once(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.db") as spool:
        spool.put("health", "same", b"1")
        spool.put("health", "same", b"2")
        assert len(spool) == 1


def test_rejects_unknown_kind_and_bad_bound(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.db") as spool, pytest.raises(ValueError):
        spool.put("software", "x", b"")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Spool(tmp_path / "other.db", max_reports=0)


def test_read_depth_without_spool(tmp_path: Path) -> None:
    assert read_depth(tmp_path / "absent.db") is None
