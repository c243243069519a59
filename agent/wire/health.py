"""HealthReport messages from the health collectors' records."""

from __future__ import annotations

from agent.collectors.health import HealthSample
from agent.collectors.system import MemoryUsage
from agent.wire.common import timestamp
from parc.v1 import agent_service_pb2 as pb


def _memory(usage: MemoryUsage) -> pb.MemoryUsage:
    return pb.MemoryUsage(
        total_bytes=max(0, usage.total_bytes),
        used_bytes=max(0, usage.used_bytes),
        percent=usage.percent,
    )


def health_report(sample: HealthSample, report_id: str) -> pb.HealthReport:
    """The HealthReport sent for a sample."""
    load1, load5, load15 = sample.load
    return pb.HealthReport(
        report_id=report_id,
        sample_time=timestamp(sample.sample_time),
        cpu_percent=sample.cpu_percent,
        memory=_memory(sample.memory),
        swap=_memory(sample.swap),
        load=pb.LoadAverage(load1=load1, load5=load5, load15=load15),
        filesystems=[
            pb.FilesystemUsage(
                mountpoint=fs.mountpoint,
                device=fs.device,
                fstype=fs.fstype,
                total_bytes=max(0, fs.total_bytes),
                used_bytes=max(0, fs.used_bytes),
                percent=fs.percent,
            )
            for fs in sample.filesystems
        ],
        uptime_seconds=max(0, sample.uptime_seconds),
    )
