"""The inventory worker: a child process collects the inventory and exits."""

from __future__ import annotations

import sys

from agent.inventory_worker import NOTHING_COLLECTED, InventoryWorker
from parc.v1 import agent_service_pb2 as pb
from tests.agent.recorded import RecordedRunner, Recording

PYTHON = "/opt/python"


def worker_with(recording: Recording, report_id: str = "r-1") -> InventoryWorker:
    runner = RecordedRunner({(PYTHON, "-m", "agent.inventory_worker", report_id): recording})
    return InventoryWorker(runner, python=PYTHON)


def test_the_real_worker_process_collects_this_machine() -> None:
    report = InventoryWorker(python=sys.executable).collect("live-1")
    assert report is not None
    assert report.report_id == "live-1"
    assert report.os.family == "linux"
    assert report.hardware.cpu_threads >= 1
    assert report.HasField("software") and report.HasField("licences")


def test_a_report_is_read_from_the_workers_stdout() -> None:
    sent = pb.InventoryReport(report_id="r-1", os=pb.OperatingSystem(family="linux"))
    report = worker_with(Recording(sent.SerializeToString())).collect("r-1")
    assert report == sent


def test_a_failing_worker_gives_no_report() -> None:
    assert worker_with(Recording(b"", returncode=1, stderr=b"Traceback ...")).collect("r-1") is None
    assert worker_with(Recording(b"", returncode=NOTHING_COLLECTED)).collect("r-1") is None
    assert worker_with(Recording(b"", timeout=True)).collect("r-1") is None


def test_output_that_is_not_the_asked_report_is_refused() -> None:
    assert worker_with(Recording(b"\xff\xff not protobuf")).collect("r-1") is None
    other = pb.InventoryReport(report_id="r-2").SerializeToString()
    assert worker_with(Recording(other)).collect("r-1") is None


def test_usage_error_without_a_report_id() -> None:
    from agent.inventory_worker import main

    assert main([]) == 2
