"""Health and inventory collectors on recorded values, and the failure guard."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.collectors.base import GuardedCollector
from agent.collectors.health import HealthCollector
from agent.collectors.inventory import CpuModel, InventoryCollector
from agent.collectors.system import PsutilProbe
from agent.platform import UnimplementedPlatform
from agent.wire.health import health_report
from agent.wire.inventory import inventory_report
from parc.v1 import agent_service_pb2 as pb
from tests.agent.support import RecordedProbe, fixture_platform

WHEN = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def health_collector(probe: RecordedProbe) -> HealthCollector:
    return HealthCollector(
        fixture_platform("desktop"), probe, clock=lambda: WHEN, wall_time=lambda: 4_600.0
    )


def test_health_sample_structure() -> None:
    probe = RecordedProbe()
    sample = health_collector(probe).collect()
    assert sample.sample_time == WHEN
    assert sample.cpu_percent == 12.5
    assert sample.memory.total_bytes == 16_000_000_000
    assert sample.load == (0.5, 0.25, 0.1)
    assert sample.uptime_seconds == 3_600


def test_health_keeps_only_real_filesystems_once() -> None:
    sample = health_collector(RecordedProbe()).collect()
    assert [(f.mountpoint, f.fstype) for f in sample.filesystems] == [
        ("/", "ext4"),
        ("/boot/efi", "vfat"),
    ]
    assert sample.filesystems[0].used_bytes == 100_000_000_000


def test_health_report_on_the_wire() -> None:
    report = health_report(health_collector(RecordedProbe()).collect(), "r-1")
    parsed = pb.HealthReport.FromString(report.SerializeToString())
    assert parsed.report_id == "r-1"
    assert parsed.sample_time.ToDatetime(tzinfo=UTC) == WHEN
    assert parsed.memory.percent == 25.0
    assert parsed.load.load15 == 0.1
    assert [f.mountpoint for f in parsed.filesystems] == ["/", "/boot/efi"]
    assert parsed.uptime_seconds == 3_600


def test_live_psutil_probe_gives_sane_types() -> None:
    # Structure only: never what this machine happens to have.
    probe = PsutilProbe()
    assert 0.0 <= probe.cpu_percent() <= 100.0
    memory = probe.virtual_memory()
    assert 0 <= memory.used_bytes <= memory.total_bytes
    assert all(isinstance(p.mountpoint, str) for p in probe.partitions())
    assert all(i.mac_address == i.mac_address.lower() for i in probe.network_interfaces())


def test_unimplemented_platform_collectors_are_unsupported() -> None:
    platform = UnimplementedPlatform("darwin")
    assert not HealthCollector(platform, RecordedProbe()).is_supported()
    assert not InventoryCollector(platform, RecordedProbe()).is_supported()
    assert GuardedCollector(HealthCollector(platform, RecordedProbe())).run() is None


def test_inventory_from_fixture_tree() -> None:
    reads: list[int] = []

    def brand() -> str:
        reads.append(1)
        return "Intel(R) Core(TM) i7-11700"

    platform = fixture_platform("desktop")
    collector = InventoryCollector(
        platform,
        RecordedProbe(),
        cpu_model=CpuModel(platform.cpu_model_fallback, reader=brand),
        hostname=lambda: "pc-042",
        clock=lambda: WHEN,
    )
    first = collector.collect()
    second = collector.collect()
    assert reads == []  # /proc/cpuinfo names the CPU: py-cpuinfo (> 1 s of CPU) never runs
    assert first.os.name == "Debian GNU/Linux" and first.os.version == "12"
    assert first.os.hostname == "pc-042" and first.os.kernel == "6.1.0-18-amd64"
    hw = first.hardware
    assert (hw.vendor, hw.model, hw.serial_number) == ("Dell Inc.", "OptiPlex 7090", "5XKQ8J3")
    assert (hw.cpu_model, hw.cpu_cores, hw.cpu_threads) == (
        "11th Gen Intel(R) Core(TM) i7-11700 @ 2.50GHz",
        8,
        16,
    )
    assert hw.memory_total_bytes == 16_000_000_000
    assert [d.name for d in hw.disks] == ["nvme0n1", "sda"]
    assert second.hardware.cpu_model == hw.cpu_model
    report = inventory_report(first, "inv-1")
    assert report.hardware.disks[1].size_bytes == 1953525168 * 512
    assert report.hardware.network_interfaces[0].mac_address == "a4:bb:6d:01:02:03"


def test_cpu_model_from_py_cpuinfo_once_when_the_os_has_none() -> None:
    reads: list[int] = []

    def brand() -> str:
        reads.append(1)
        return "  Apple M2  "

    model = CpuModel(lambda: "", reader=brand)
    assert model.get() == "Apple M2"
    assert model.get() == "Apple M2"
    assert reads == [1]  # at most once per process


def test_cpu_model_when_every_source_fails() -> None:
    calls: list[str] = []

    def broken_os() -> str:
        calls.append("os")
        raise OSError("no /proc")

    def broken_cpuinfo() -> str:
        calls.append("cpuinfo")
        raise RuntimeError("cpuid unavailable")

    model = CpuModel(broken_os, reader=broken_cpuinfo)
    assert model.get() == ""
    assert model.get() == ""
    assert calls == ["os", "cpuinfo"]


def test_cpu_model_from_proc_on_arm() -> None:
    calls: list[int] = []

    def cpuinfo() -> str:
        calls.append(1)
        return "unused"

    platform = fixture_platform("whitebox")
    model = CpuModel(platform.cpu_model_fallback, reader=cpuinfo)
    assert model.get() == "Raspberry Pi 4 Model B Rev 1.4"
    assert calls == []


class Flaky:
    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def is_supported(self) -> bool:
        return True

    def collect(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise OSError("disk on fire")
        return "ok"


def test_guard_backs_off_after_failures_and_recovers() -> None:
    flaky = Flaky(failures=2)
    guard = GuardedCollector(flaky)
    results = [guard.run() for _ in range(6)]
    # fail, skip 1, fail, skip 2, ok, ok
    assert results == [None, None, None, None, None, "ok"]
    assert flaky.calls == 3
    assert guard.failures == 0
    assert guard.run() == "ok"


def test_guard_skip_is_capped() -> None:
    guard = GuardedCollector(Flaky(failures=100), max_skip=4)
    for _ in range(40):
        guard.run()
    assert guard.failures >= 5
