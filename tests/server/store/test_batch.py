"""The batch writer: many small writes in one transaction, each caller answered after commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services.errors import NotFound
from server.store.batch import BatchWriter, Job, WriterStopped, run_write
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
        await writer.alone(insert("late", 0))
    assert len(await stored(sessions)) == 10


async def test_alone_runs_in_its_own_transaction_and_stop_waits_for_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def big(session: AsyncSession) -> None:
        await session.execute(text("INSERT INTO t (k, v) VALUES ('big', 1)"))
        started.set()
        await release.wait()

    writer = BatchWriter(sessions)
    writer.start()
    caller = asyncio.create_task(writer.alone(big))
    await started.wait()
    caller.cancel()  # begun: it still commits
    dropped = asyncio.create_task(writer.alone(insert("dropped", 2)))
    await asyncio.sleep(0.05)  # waits for the write lock held by "big"
    dropped.cancel()
    release.set()
    await writer.stop()
    assert await stored(sessions) == {"big": 1}


async def test_without_a_writer_a_job_runs_in_a_transaction_of_its_own(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await run_write(None, sessions, insert("direct", 3)) == "direct"
    assert await stored(sessions) == {"direct": 3}


async def test_a_job_whose_caller_gave_up_before_it_started_is_dropped(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = BatchWriter(sessions)  # not started yet: the jobs wait in the queue
    writer._task = asyncio.get_running_loop().create_future()  # type: ignore[assignment]
    gone = asyncio.create_task(writer.submit(insert("gone", 1)))
    kept = asyncio.create_task(writer.submit(insert("kept", 2)))
    await asyncio.sleep(0)
    gone.cancel()
    writer._task = None
    writer.start()
    assert await kept == "kept"
    await writer.stop()
    assert await stored(sessions) == {"kept": 2}
    assert writer.dropped == 1
