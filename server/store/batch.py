"""One writer task that stores many small writes in one transaction.

At ten thousand agents the collector receives hundreds of small writes a second (health
reports, command acknowledgements, delivery marks). One write transaction each serialises
them on SQLite's single writer: most of each transaction's time is the round trips of BEGIN,
COMMIT and the connection checkout, and under load the queue of writers grows without bound.

``BatchWriter`` runs every write job submitted to it in a background task: it takes whatever
jobs are waiting (up to ``max_batch``), runs them one after the other in ONE write transaction,
commits, and only then answers each caller with its job's result. A job is an ``async``
function of the session; it must do all its work through that session and must not commit.
A job that raises makes the whole batch roll back; the batch is then run again one job per
transaction, so that only the failing job's caller sees its error and every other job is
stored exactly once.

Many jobs of one kind can also be done set-based: ``submit_grouped(job, item)`` passes the
item to ``job``, a function of the session and a list of items called once per batch with
every item submitted with that same function (in submission order, at the place of the
first), which returns one result per item. A batch of two hundred health reports is then a
handful of statements instead of a handful per report. On a failure a grouped item is run
again alone, as a group of one.

Callers wait for their batch's commit. Only the writer task touches the database, so a
cancelled request never leaves a transaction half-done: a caller cancelled before its job
started drops the job (nothing stored, nothing answered: the agent sends it again), one
cancelled later leaves it to commit. A backlog of jobs nobody waits for any more (agents whose
deadline passed) is therefore skipped instead of written, so an overload does not feed itself.
``stop`` refuses new jobs, finishes the queued ones and ends the task.

Large jobs (a full inventory) have a lane of their own (``submit_large``). On SQLite one task
writes a few of them per transaction: they share a commit, the index pages they all touch
are written once per batch instead of once per inventory, and the small batches take turns
with them at the write lock instead of waiting behind a whole storm. On PostgreSQL a few
tasks write one each at once (see ``LARGE_WRITERS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.store.database import begin_write

log = logging.getLogger(__name__)

T = TypeVar("T")
Item = TypeVar("Item")
Job = Callable[[AsyncSession], Awaitable[T]]
# A set-based job: every item of a batch at once, one result per item (in the same order).
GroupedJob = Callable[[AsyncSession, list[Item]], Awaitable[list[T]]]

MAX_BATCH = 200
# Large jobs (a full inventory: hundreds of rows) on SQLite: up to 8 a transaction, one
# batch at a time (it has one writer). A few share a commit and the index pages they touch;
# more would hold the small batches back for longer.
MAX_LARGE_BATCH = 8
# Elsewhere (PostgreSQL): each large job in a transaction of its own, 4 at once, each waiting
# on its own round trips. Not batched there: a job takes its row locks in key order (new
# titles, licences), which keeps concurrent writers from deadlocking; two jobs in one
# transaction would not be in one order any more.
LARGE_WRITERS = 4


class WriterStopped(RuntimeError):
    """A job was submitted after ``stop``."""


@dataclass
class _Item:
    job: Job[Any] | None
    future: asyncio.Future[Any]
    grouped: GroupedJob[Any, Any] | None = None
    item: Any = None


class _Lane:
    """A queue of jobs and the tasks that write them, at most ``limit`` a transaction."""

    def __init__(self, name: str, limit: int, writers: int = 1) -> None:
        if limit < 1 or writers < 1:
            raise ValueError("a lane needs at least 1 job a batch and 1 writer")
        self.name = name
        self.limit = limit
        self.writers = writers
        self.queue: deque[_Item] = deque()
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def take(self) -> tuple[list[_Item], int]:
        """The next batch, skipping jobs whose caller gave up; and how many were skipped."""
        batch: list[_Item] = []
        dropped = 0
        while self.queue and len(batch) < self.limit:
            item = self.queue.popleft()
            if item.future.cancelled():
                dropped += 1
            else:
                batch.append(item)
        return batch, dropped


class BatchWriter:
    """Runs submitted write jobs in batches, one transaction per batch.

    Two lanes: small jobs (``submit``, ``submit_grouped``), up to ``max_batch`` a
    transaction, written by one task; and large ones (``submit_large``), up to
    ``max_large_batch`` a transaction, written by ``large_writers`` tasks (by default
    ``MAX_LARGE_BATCH`` by one task on SQLite, one each by ``LARGE_WRITERS`` elsewhere).
    On SQLite the lanes take turns at the single write lock, so a burst of inventories
    delays a batch of health reports by one batch of inventories at most.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        max_batch: int = MAX_BATCH,
        max_large_batch: int | None = None,
        large_writers: int | None = None,
    ) -> None:
        self._sessions = sessions
        bind = sessions.kw.get("bind")
        sqlite = bind is not None and bind.dialect.name == "sqlite"
        if max_large_batch is None:
            max_large_batch = MAX_LARGE_BATCH if sqlite else 1
        if large_writers is None:
            large_writers = 1 if sqlite else LARGE_WRITERS
        self._small = _Lane("parc-batch-writer", max_batch)
        self._large = _Lane("parc-large-writer", max_large_batch, large_writers)
        self._stopping = False
        self.batches = 0
        self.jobs = 0
        self.dropped = 0  # jobs whose caller gave up before they started

    @property
    def large_writers(self) -> int:
        """Tasks writing batches of large jobs."""
        return self._large.writers

    @property
    def large_batch(self) -> int:
        """Large jobs a transaction, at most."""
        return self._large.limit

    @property
    def pending(self) -> int:
        """Jobs waiting for the writer (not counting the batches being written)."""
        return len(self._small.queue) + len(self._large.queue)

    def start(self) -> None:
        if self._small.tasks:
            return
        for lane in (self._small, self._large):
            lane.tasks = [
                asyncio.create_task(self._run(lane), name=f"{lane.name}-{number}")
                for number in range(lane.writers)
            ]

    async def submit(self, job: Job[T]) -> T:
        """Run ``job`` in the next batch; return its result once that batch committed."""
        # A caller that gives up (cancelled: the agent hung up or its deadline passed) cancels
        # the future: a job not yet started is then dropped (nothing was stored, the agent
        # was not answered and will send it again); a started one runs to its commit.
        future: asyncio.Future[T] = self._future()
        return await self._enqueue(self._small, _Item(job, future), future)

    async def submit_grouped(self, job: GroupedJob[Item, T], item: Item) -> T:
        """Run ``job`` on ``item`` together with the other items submitted with ``job`` in
        the same batch; return ``item``'s result once that batch committed (see ``submit``)."""
        future: asyncio.Future[T] = self._future()
        return await self._enqueue(self._small, _Item(None, future, job, item), future)

    async def submit_large(self, job: Job[T]) -> T:
        """Run a large ``job`` with at most ``max_large_batch`` others, beside the small
        batches; return its result once committed (see ``submit``)."""
        future: asyncio.Future[T] = self._future()
        return await self._enqueue(self._large, _Item(job, future), future)

    def _future(self) -> asyncio.Future[Any]:
        # Not started (no tasks) is refused by ``_enqueue``.
        if self._stopping:
            raise WriterStopped("the collector is not accepting writes")
        return asyncio.get_running_loop().create_future()

    async def _enqueue(self, lane: _Lane, item: _Item, future: asyncio.Future[T]) -> T:
        if not lane.tasks or all(task.done() for task in lane.tasks):
            raise WriterStopped("the collector is not accepting writes")
        lane.queue.append(item)
        lane.wake.set()
        return await future

    async def stop(self) -> None:
        """Refuse new jobs, write the queued ones, end the tasks."""
        self._stopping = True
        tasks = [task for lane in (self._small, self._large) for task in lane.tasks]
        for lane in (self._small, self._large):
            lane.wake.set()
        try:
            for task in tasks:
                await asyncio.shield(task)
        except asyncio.CancelledError:
            # Stopping was itself cancelled: end the writer without waiting any longer.
            for task in tasks:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _run(self, lane: _Lane) -> None:
        try:
            while True:
                await lane.wake.wait()
                lane.wake.clear()
                while lane.queue:
                    batch, dropped = lane.take()
                    self.dropped += dropped
                    if batch:
                        await self._write(batch)
                if self._stopping:
                    return
        finally:
            while lane.queue:
                _fail(lane.queue.popleft(), WriterStopped("the collector stopped writing"))

    async def _write(self, batch: list[_Item]) -> None:
        self.batches += 1
        self.jobs += len(batch)
        try:
            results = await self._transaction(batch)
        except asyncio.CancelledError:
            for item in batch:
                _fail(item, WriterStopped("the collector stopped writing"))
            raise
        except Exception as error:
            if len(batch) == 1:
                _fail(batch[0], error)
                return
            # Someone's job failed: store every job alone, so only that one fails.
            for item in batch:
                try:
                    (result,) = await self._transaction([item])
                except Exception as alone:
                    _fail(item, alone)
                else:
                    _answer(item, result)
            return
        for item, result in zip(batch, results, strict=True):
            _answer(item, result)

    async def _transaction(self, batch: list[_Item]) -> list[Any]:
        groups: dict[GroupedJob[Any, Any], list[int]] = {}
        for index, item in enumerate(batch):
            if item.grouped is not None:
                groups.setdefault(item.grouped, []).append(index)
        results: list[Any] = [None] * len(batch)
        async with self._sessions.begin() as session:
            await begin_write(session)
            for index, item in enumerate(batch):
                if item.job is not None:
                    results[index] = await item.job(session)
                elif item.grouped is not None and groups[item.grouped][0] == index:
                    places = groups[item.grouped]
                    answers = await item.grouped(session, [batch[place].item for place in places])
                    if len(answers) != len(places):
                        raise RuntimeError("a grouped job must return one result per item")
                    for place, answer in zip(places, answers, strict=True):
                        results[place] = answer
        return results


def _answer(item: _Item, result: Any) -> None:
    if not item.future.done():
        item.future.set_result(result)


def _fail(item: _Item, error: Exception) -> None:
    if not item.future.done():
        item.future.set_exception(error)
        # Nobody may be waiting any more (a cancelled caller): no "never retrieved" warning.
        item.future.exception()


async def run_write(
    writer: BatchWriter | None, sessions: async_sessionmaker[AsyncSession], job: Job[T]
) -> T:
    """Run ``job`` through ``writer``, or in a write transaction of its own without one."""
    if writer is not None:
        return await writer.submit(job)
    async with sessions.begin() as session:
        await begin_write(session)
        return await job(session)


async def run_grouped(
    writer: BatchWriter | None,
    sessions: async_sessionmaker[AsyncSession],
    job: GroupedJob[Item, T],
    item: Item,
) -> T:
    """Run ``job`` on ``item`` through ``writer`` (with the batch's other items of ``job``),
    or on ``item`` alone in a write transaction of its own without one."""
    if writer is not None:
        return await writer.submit_grouped(job, item)
    async with sessions.begin() as session:
        await begin_write(session)
        (result,) = await job(session, [item])
        return result


async def run_large(
    writer: BatchWriter | None, sessions: async_sessionmaker[AsyncSession], job: Job[T]
) -> T:
    """Run a large ``job`` through ``writer``'s lane of large jobs (``submit_large``), or in a
    write transaction of its own without one."""
    if writer is not None:
        return await writer.submit_large(job)
    async with sessions.begin() as session:
        await begin_write(session)
        return await job(session)
