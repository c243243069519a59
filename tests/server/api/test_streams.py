"""The registry of open streams: replacing, ending, and closing for shutdown."""

from __future__ import annotations

import grpc

from server.api.streams import ConnectionRegistry, StreamEnd


async def test_close_ends_open_streams_and_any_opened_afterwards() -> None:
    registry = ConnectionRegistry()
    before = registry.open("d1")
    registry.close(grpc.StatusCode.UNAVAILABLE, "shutting down")
    assert before.ended
    ended = await before.next()
    assert isinstance(ended, StreamEnd) and ended.code == grpc.StatusCode.UNAVAILABLE
    # An agent reconnecting while the port is still open is sent away at once.
    after = registry.open("d2")
    assert after.ended
    assert await after.next() == StreamEnd(grpc.StatusCode.UNAVAILABLE, "shutting down")
    assert registry.get("d2") is None


async def test_a_newer_stream_replaces_the_older_one() -> None:
    registry = ConnectionRegistry()
    old = registry.open("d1")
    new = registry.open("d1")
    assert old.ended and not new.ended
    assert registry.get("d1") is new
    registry.release(old)
    assert registry.get("d1") is new
