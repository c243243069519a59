"""The batch writer: many small writes in one transaction, each caller answered after commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services.errors import NotFound
from server.store.batch import (
    LARGE_WRITERS,
    MAX_LARGE_BATCH,
    BatchWriter,
    Job,
    WriterStopped,
    run_grouped,
    run_write,
)
from server.store.database import create_engine, session_factory


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'batch.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)"))
    yield session_factory(engine)
    await engine.dispose()


def insert(key: str, value: int) -> Job[str]:
    async def job(session: AsyncSession) -> str:
        await session.execute(text("INSERT INTO t (k, v) VALUES (:k, :v)"), {"k": key, "v": value})
        return key

    return job


async def stored(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        return {k: v for k, v in (await session.execute(text("SELECT k, v FROM t"))).all()}


async def test_concurrent_jobs_share_transactions_and_each_gets_its_result(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = BatchWriter(sessions, max_batch=50)
    writer.start()
    results = await asyncio.gather(*(writer.submit(insert(f"k{i}", i)) for i in range(120)))
    await writer.stop()
    assert results == [f"k{i}" for i in range(120)]
    assert await stored(sessions) == {f"k{i}": i for i in range(120)}
    assert writer.jobs == 120
    assert 3 <= writer.batches < 120  # at most 50 a batch, and far fewer than one each


async def test_a_failing_job_fails_alone_and_the_others_are_stored_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async def refuse(session: AsyncSession) -> None:
        await session.execute(text("INSERT INTO t (k, v) VALUES ('bad', 0)"))
        raise NotFound("no such thing")

    writer = BatchWriter(sessions)
    writer.start()
    outcome = await asyncio.gather(
        writer.submit(insert("a", 1)),
        writer.submit(refuse),
        writer.submit(insert("b", 2)),
        return_exceptions=True,
    )
    await writer.stop()
    assert outcome[0] == "a" and outcome[2] == "b"
    assert isinstance(outcome[1], NotFound)
    # The batch was rolled back and run again job by job: nothing twice, nothing of "bad".
    assert await stored(sessions) == {"a": 1, "b": 2}


async def test_a_caller_cancelled_once_its_job_started_leaves_it_to_commit(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(session: AsyncSession) -> None:
        await session.execute(text("INSERT INTO t (k, v) VALUES ('kept', 7)"))
        started.set()
        await release.wait()

    writer = BatchWriter(sessions)
    writer.start()
    caller = asyncio.create_task(writer.submit(slow))
    await started.wait()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    release.set()
    await writer.stop()
    assert await stored(sessions) == {"kept": 7}


async def test_stop_writes_what_is_queued_then_refuses_new_jobs(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = BatchWriter(sessions)
    writer.start()
    pending = [asyncio.create_task(writer.submit(insert(f"q{i}", i))) for i in range(10)]
    await asyncio.sleep(0)
    await writer.stop()
    assert [await task for task in pending] == [f"q{i}" for i in range(10)]
    with pytest.raises(WriterStopped):
        await writer.submit(insert("late", 0))
    with pytest.raises(WriterStopped):
        await writer.submit_large(insert("late", 0))
    assert len(await stored(sessions)) == 10


async def test_a_started_large_job_commits_though_its_caller_left_and_stop_waits_for_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def big(session: AsyncSession) -> None:
        await session.execute(text("INSERT INTO t (k, v) VALUES ('big', 1)"))
        started.set()
        await release.wait()

    writer = BatchWriter(sessions)
    writer.start()
    caller = asyncio.create_task(writer.submit_large(big))
    await started.wait()
    caller.cancel()  # begun: it still commits
    dropped = asyncio.create_task(writer.submit_large(insert("dropped", 2)))
    await asyncio.sleep(0.05)  # queued behind "big"'s batch
    dropped.cancel()
    release.set()
    await writer.stop()
    assert await stored(sessions) == {"big": 1}
    assert writer.dropped == 1


async def test_large_jobs_share_transactions_beside_the_small_ones(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = BatchWriter(sessions, max_batch=50, max_large_batch=4)
    writer.start()
    large = [writer.submit_large(insert(f"L{i}", i)) for i in range(12)]
    small = [writer.submit(insert(f"s{i}", i)) for i in range(12)]
    results = await asyncio.gather(*large, *small)
    await writer.stop()
    assert results == [f"L{i}" for i in range(12)] + [f"s{i}" for i in range(12)]
    assert await stored(sessions) == {
        **{f"L{i}": i for i in range(12)},
        **{f"s{i}": i for i in range(12)},
    }
    # At most 4 large jobs a transaction (so at least 3 batches of them), far fewer than one
    # transaction each; the 12 small ones fit one batch.
    assert writer.jobs == 24
    assert 4 <= writer.batches <= 8


async def test_a_failing_large_job_fails_alone_and_its_batch_is_stored_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async def refuse(session: AsyncSession) -> None:
        await session.execute(text("INSERT INTO t (k, v) VALUES ('bad', 0)"))
        raise NotFound("no such thing")

    writer = BatchWriter(sessions, max_large_batch=8)
    writer.start()
    jobs = [insert("a", 1), refuse, insert("b", 2)]
    results = await asyncio.gather(
        *(writer.submit_large(job) for job in jobs), return_exceptions=True
    )
    await writer.stop()
    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], NotFound)
    assert await stored(sessions) == {"a": 1, "b": 2}


async def test_without_a_writer_a_job_runs_in_a_transaction_of_its_own(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await run_write(None, sessions, insert("direct", 3)) == "direct"
    assert await stored(sessions) == {"direct": 3}


async def test_a_job_whose_caller_gave_up_before_it_started_is_dropped(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def hold(session: AsyncSession) -> str:
        started.set()
        await release.wait()
        return "held"

    writer = BatchWriter(sessions, max_batch=1)
    writer.start()
    held = asyncio.create_task(writer.submit(hold))
    await started.wait()  # the writer is busy: the next jobs wait in the queue
    gone = asyncio.create_task(writer.submit(insert("gone", 1)))
    kept = asyncio.create_task(writer.submit(insert("kept", 2)))
    await asyncio.sleep(0)
    gone.cancel()
    release.set()
    assert await held == "held"
    assert await kept == "kept"
    await writer.stop()
    assert await stored(sessions) == {"kept": 2}
    assert writer.dropped == 1


class InsertMany:
    """A set-based job: every key of the batch in one statement; records each call."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    async def __call__(self, session: AsyncSession, keys: list[str]) -> list[str]:
        self.calls.append(list(keys))
        if "bad" in keys:
            await session.execute(text("INSERT INTO t (k, v) VALUES ('half', 0)"))
            raise NotFound("no such thing")
        await session.execute(
            text("INSERT INTO t (k, v) VALUES (:k, :v)"), [{"k": k, "v": len(k)} for k in keys]
        )
        return [key.upper() for key in keys]


async def test_grouped_items_of_a_batch_are_stored_by_one_call_beside_plain_jobs(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    many = InsertMany()
    writer = BatchWriter(sessions, max_batch=50)
    writer.start()
    results = await asyncio.gather(
        *(writer.submit_grouped(many, f"g{i}") for i in range(60)),
        writer.submit(insert("plain", 7)),
    )
    await writer.stop()
    assert results == [f"G{i}" for i in range(60)] + ["plain"]
    assert sorted(key for call in many.calls for key in call) == sorted(f"g{i}" for i in range(60))
    assert len(many.calls) == 2  # 61 jobs: a batch of 50 and one of 11, one call each
    assert await stored(sessions) == {"plain": 7} | {f"g{i}": len(f"g{i}") for i in range(60)}


async def test_a_failing_grouped_call_is_run_again_item_by_item(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    many = InsertMany()
    writer = BatchWriter(sessions)
    writer.start()
    outcome = await asyncio.gather(
        writer.submit_grouped(many, "a"),
        writer.submit_grouped(many, "bad"),
        writer.submit(insert("plain", 1)),
        writer.submit_grouped(many, "b"),
        return_exceptions=True,
    )
    await writer.stop()
    assert outcome[0] == "A" and outcome[2] == "plain" and outcome[3] == "B"
    assert isinstance(outcome[1], NotFound)
    assert many.calls[0] == ["a", "bad", "b"]
    assert sorted(many.calls[1:]) == [["a"], ["b"], ["bad"]]
    assert await stored(sessions) == {"a": 1, "b": 1, "plain": 1}


async def test_without_a_writer_a_grouped_item_runs_alone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    many = InsertMany()
    assert await run_grouped(None, sessions, many, "solo") == "SOLO"
    assert many.calls == [["solo"]]
    assert await stored(sessions) == {"solo": 4}


async def test_large_batches_are_written_at_once_where_the_database_takes_several_writers(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)"))
    sessions = session_factory(engine)
    writer = BatchWriter(sessions)
    try:
        if engine.dialect.name == "sqlite":
            # One writer at a time: one task, a few inventories a transaction.
            assert (writer.large_writers, writer.large_batch) == (1, MAX_LARGE_BATCH)
            return
        # Several at once, each alone in its transaction (its locks taken in key order).
        assert (writer.large_writers, writer.large_batch) == (LARGE_WRITERS, 1)
        writer.start()
        began: list[str] = []
        all_began = asyncio.Event()

        def waiting(key: str) -> Job[str]:
            async def job(session: AsyncSession) -> str:
                began.append(key)
                if len(began) == 3:
                    all_began.set()
                # Written one batch after another, the first would wait here for ever.
                await asyncio.wait_for(all_began.wait(), 10)
                await session.execute(text("INSERT INTO t (k, v) VALUES (:k, 1)"), {"k": key})
                return key

            return job

        keys = ["a", "b", "c"]
        assert await asyncio.gather(*(writer.submit_large(waiting(k)) for k in keys)) == keys
        assert await stored(sessions) == {"a": 1, "b": 1, "c": 1}
    finally:
        await writer.stop()
        await engine.dispose()
