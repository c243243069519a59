"""bench/stream_memory.py at tiny N: both servers start, streams open, figures come back.

The per-stream figures at this size are noise; what is checked is that every measurement ran
(real server processes, real mTLS streams, the heap probe answered) and the JSON is complete.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.stream_memory import main

pytestmark = pytest.mark.e2e

STREAMS = 4


def test_both_servers_are_measured_with_each_option_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "memory.json"
    main(
        [
            "--streams",
            str(STREAMS),
            "--variants",
            "bounded",
            "--tracemalloc",
            "--upload",
            "65536",
            "--option",
            "grpc.tsi.max_frame_size=4096",
            "--json",
            str(out),
        ]
    )
    report = json.loads(out.read_text())
    measured = {(m["server"], m["variant"]): m for m in report["measurements"]}
    assert set(measured) == {
        (server, variant) for server in ("echo", "collector") for variant in ("bounded", "custom")
    }
    for m in measured.values():
        assert m["streams"] == STREAMS
        assert m["rss_full"] > 0 and m["rss_base"] > 0
        assert m["python_per_stream"] is not None
    assert ["grpc.tsi.max_frame_size", 4096] in report["options"]["custom"]
    assert "collector, bounded options: RSS per stream" in capsys.readouterr().out
