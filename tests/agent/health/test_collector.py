"""The health collector with every source wired per OS, and the HealthReport it becomes."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.collectors.health import (
    HealthCollector,
    HealthSample,
    HealthSources,
    RebootStatus,
    SignalUnavailable,
    UpdateCounts,
    darwin_sources,
    linux_sources,
    windows_sources,
)
from agent.collectors.health.battery import IOREG_BATTERY, WINDOWS_BATTERY_COMMAND
from agent.collectors.health.records import DiskProtocol
from agent.collectors.health.smart import SCAN, ScannedDevice
from agent.collectors.health.updates import (
    APT_SIMULATE,
    SOFTWAREUPDATE,
    WINDOWS_UPDATE_COMMAND,
)
from agent.wire.health import health_report
from parc.v1 import agent_service_pb2 as pb
from tests.agent.health.support import FIXTURES, FakeClock, fixture, inline_schedule
from tests.agent.recorded import RecordedRegistry, RecordedRunner, Recording
from tests.agent.support import RecordedProbe, fixture_platform

WHEN = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def smart_recordings() -> dict[tuple[str, ...], Recording]:
    nvme = ScannedDevice("/dev/nvme0", "nvme", DiskProtocol.NVME)
    sda = ScannedDevice("/dev/sda", "sat", DiskProtocol.ATA)
    sdb = ScannedDevice("/dev/sdb", "sat", DiskProtocol.ATA)
    sdc = ScannedDevice("/dev/sdc", "sat", DiskProtocol.ATA)
    return {
        SCAN: Recording(fixture("smartctl/scan-open.json")),
        sda.command(): Recording(fixture("smartctl/sata-healthy.json")),
        sdb.command(): Recording(fixture("smartctl/sata-failing.json"), 120),
        nvme.command(): Recording(fixture("smartctl/nvme.json")),
        sdc.command(): Recording(fixture("smartctl/usb-bridge.json"), 2),
    }


def collector(sources: HealthSources | None = None) -> HealthCollector:
    return HealthCollector(
        fixture_platform("desktop"),
        RecordedProbe(),
        sources=sources,
        clock=lambda: WHEN,
        wall_time=lambda: 4_600.0,
    )


def laptop_sources(runner: RecordedRunner, clock: FakeClock | None = None) -> HealthSources:
    root = FIXTURES / "laptop"
    return linux_sources(
        runner,
        lambda: False,
        sys_root=root / "sys",
        proc_root=root / "proc",
        run_root=root / "run",
        schedule=inline_schedule(clock),
    )


def laptop_runner() -> RecordedRunner:
    return RecordedRunner(
        {
            APT_SIMULATE: Recording(fixture("apt/apt-get-s-upgrade.txt")),
            **smart_recordings(),
        }
    )


def test_existing_two_argument_constructor_still_works() -> None:
    sample = HealthCollector(fixture_platform("desktop"), RecordedProbe()).collect()
    assert isinstance(sample, HealthSample)
    assert {u.signal for u in sample.signals.unavailable} >= {"temperatures", "smart", "battery"}
    assert {u.reason for u in sample.signals.unavailable} == {"not collected on this platform"}


def test_load_per_core_divides_by_logical_cpus() -> None:
    sample = collector().collect()
    assert sample.load == (0.5, 0.25, 0.1)
    assert sample.load_per_core == (0.5 / 16, 0.25 / 16, 0.1 / 16)


def test_load_per_core_unknown_without_cpu_count() -> None:
    probe = RecordedProbe(counts=(0, 0))
    sample = HealthCollector(fixture_platform("desktop"), probe).collect()
    assert sample.load_per_core is None


def test_linux_laptop_every_signal() -> None:
    sample = collector(laptop_sources(laptop_runner())).collect()
    signals = sample.signals
    assert [t.label for t in signals.temperatures] == ["", "Package id 0", "Core 0"]
    assert [f.rpm for f in signals.fans] == [2650, 0]
    assert signals.memory_pressure is not None and signals.memory_pressure.some_avg10 == 1.25
    assert signals.oom_kills == 3
    assert signals.reboot is not None and signals.reboot.pending
    assert signals.updates == UpdateCounts(5, 2)
    assert [b.name for b in signals.batteries] == ["BAT0"]
    assert [d.device for d in signals.disks] == ["/dev/sda", "/dev/sdb", "/dev/nvme0", "/dev/sdc"]
    assert signals.unavailable == []


def test_linux_server_vm_says_what_is_missing_and_why() -> None:
    root = FIXTURES / "server"
    runner = RecordedRunner({APT_SIMULATE: Recording(fixture("apt/apt-get-s-upgrade-none.txt"))})
    sources = linux_sources(
        runner,
        lambda: True,
        sys_root=root / "sys",
        proc_root=root / "proc",
        run_root=root / "run",
        schedule=inline_schedule(),
    )
    signals = collector(sources).collect().signals
    reasons = {u.signal: u.reason for u in signals.unavailable}
    assert set(reasons) == {
        "temperatures",
        "fans",
        "memory_pressure",
        "oom_kills",
        "battery",
        "smart",
    }
    assert reasons["battery"] == "no battery"
    assert reasons["smart"].startswith("virtual machine")
    assert signals.reboot == RebootStatus(False)
    assert signals.updates == UpdateCounts(0, 0)


def test_a_failing_source_is_reported_and_the_others_go_on() -> None:
    class Broken:
        signal = "temperatures"
        reads = 0

        def read(self) -> list[object]:
            Broken.reads += 1
            raise OSError("hwmon went away")

    base = laptop_sources(laptop_runner())
    sources = HealthSources(
        temperatures=Broken(),  # type: ignore[arg-type]
        fans=base.fans,
        memory_pressure=base.memory_pressure,
        oom_kills=base.oom_kills,
        reboot=base.reboot,
        updates=base.updates,
        batteries=base.batteries,
        disks=base.disks,
    )
    health = collector(sources)
    first = health.collect().signals
    assert first.temperatures == []
    assert [(u.signal, u.reason) for u in first.unavailable] == [
        ("temperatures", "failed: hwmon went away")
    ]
    assert first.oom_kills == 3 and first.batteries
    second = health.collect().signals  # backing off: not read again
    assert Broken.reads == 1
    assert "backing off" in second.unavailable[0].reason


def test_slow_signals_are_not_probed_on_every_sample() -> None:
    clock = FakeClock()
    runner = laptop_runner()
    health = collector(laptop_sources(runner, clock))
    for _ in range(5):
        health.collect()
        clock.now += 60
    assert runner.calls.count(APT_SIMULATE) == 1
    assert runner.calls.count(SCAN) == 1
    clock.now += 3600
    health.collect()
    assert runner.calls.count(APT_SIMULATE) == 2


def test_windows_sources() -> None:
    runner = RecordedRunner(
        {
            WINDOWS_UPDATE_COMMAND: Recording(fixture("windows/updates.json")),
            WINDOWS_BATTERY_COMMAND: Recording(fixture("windows/battery.json")),
        }
    )
    registry = RecordedRegistry.from_json(FIXTURES / "windows" / "registry-reboot-pending.json")
    sources = windows_sources(runner, registry, lambda: False, schedule=inline_schedule())
    signals = collector(sources).collect().signals
    assert signals.reboot is not None and len(signals.reboot.reasons) == 3
    assert signals.updates == UpdateCounts(3, 1)
    assert signals.batteries[0].full_capacity == 48_467
    reasons = {u.signal: u.reason for u in signals.unavailable}
    assert set(reasons) == {"temperatures", "fans", "memory_pressure", "oom_kills", "smart"}
    assert "MSAcpi_ThermalZoneTemperature is unreliable" in reasons["temperatures"]
    assert reasons["smart"].startswith("smartctl not installed")


def test_darwin_sources() -> None:
    runner = RecordedRunner(
        {
            SOFTWAREUPDATE: Recording(fixture("macos/softwareupdate.txt")),
            IOREG_BATTERY: Recording(fixture("macos/ioreg-battery-apple-silicon.xml")),
            **smart_recordings(),
        }
    )
    signals = collector(darwin_sources(runner, lambda: False, schedule=inline_schedule()))
    result = signals.collect().signals
    assert result.updates == UpdateCounts(3, 1)
    assert result.batteries[0].cycle_count == 187
    assert len(result.disks) == 4
    reasons = {u.signal: u.reason for u in result.unavailable}
    assert set(reasons) == {
        "temperatures",
        "fans",
        "memory_pressure",
        "oom_kills",
        "reboot_pending",
    }


def test_background_schedule_reports_not_collected_yet_first() -> None:
    class Never:
        signal = "pending_updates"

        def read(self) -> UpdateCounts:
            raise SignalUnavailable("unreachable")

    from agent.collectors.health import Periodic

    def hold(work: object) -> None:
        return None  # the refresh never gets to run

    sources = HealthSources(updates=Periodic(Never(), 3600.0, start=hold))
    reasons = {u.signal: u.reason for u in collector(sources).collect().signals.unavailable}
    assert reasons["pending_updates"].startswith("not collected yet")


def test_security_count_unknown_is_listed_as_unavailable() -> None:
    class Counts:
        signal = "pending_updates"

        def read(self) -> UpdateCounts:
            return UpdateCounts(4, None, "dnf updateinfo failed: no metadata")

    signals = collector(HealthSources(updates=Counts())).collect().signals
    assert signals.updates == UpdateCounts(4, None, "dnf updateinfo failed: no metadata")
    assert any(
        u.signal == "pending_security_updates" and "no metadata" in u.reason
        for u in signals.unavailable
    )


def test_report_on_the_wire_fills_every_new_field() -> None:
    sample = collector(laptop_sources(laptop_runner())).collect()
    report = pb.HealthReport.FromString(health_report(sample, "r-1").SerializeToString())
    assert report.load_per_core.load1 == 0.5 / 16
    assert [(t.sensor, t.celsius) for t in report.temperatures][1] == ("coretemp", 52.0)
    assert report.temperatures[0].HasField("critical_celsius")
    assert not report.temperatures[0].HasField("high_celsius")
    assert report.fans[0].rpm == 2650
    assert report.memory_pressure.full_avg10 == 0.4
    assert report.HasField("oom_kills") and report.oom_kills == 3
    assert report.reboot_pending is True
    assert report.reboot_pending_reasons[0] == "/run/reboot-required"
    assert (report.pending_updates, report.pending_security_updates) == (5, 2)
    battery = report.batteries[0]
    assert battery.status == pb.BATTERY_STATUS_CHARGING
    assert (battery.design_capacity, battery.full_capacity, battery.capacity_unit) == (
        57_000,
        45_600,
        "mWh",
    )
    assert abs(battery.wear_percent - 20.0) < 1e-9 and battery.cycle_count == 312
    failing = report.disks[1]
    assert failing.protocol == pb.DISK_PROTOCOL_ATA
    assert failing.HasField("passed") and failing.passed is False
    assert failing.exit_status == 120 and "disk failing" in failing.exit_status_flags
    assert [a.id for a in failing.attributes] == [5, 187, 197, 198, 199]
    assert failing.attributes[0].when_failed == "now"
    nvme = report.disks[2]
    assert nvme.protocol == pb.DISK_PROTOCOL_NVME
    assert (nvme.nvme.percentage_used, nvme.nvme.unsafe_shutdowns) == (3, 87)
    usb = report.disks[3]
    assert not usb.smart_available and not usb.HasField("passed")
    assert "Read Device Identity failed" in usb.unavailable_reason
    assert list(report.unavailable) == []


def test_unknown_signals_stay_unset_on_the_wire() -> None:
    report = health_report(collector().collect(), "r-2")
    assert not report.HasField("oom_kills")
    assert not report.HasField("reboot_pending")
    assert not report.HasField("pending_updates")
    assert not report.HasField("memory_pressure")
    assert {u.signal for u in report.unavailable} == {
        "temperatures",
        "fans",
        "memory_pressure",
        "oom_kills",
        "reboot_pending",
        "pending_updates",
        "battery",
        "smart",
    }
