"""Linux hardware facts on fixture trees: a laptop, a desktop with junk firmware values and
unreadable root-only files, a KVM guest, a server with NVMe + HDD + SSD; and a live run."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.collectors.hardware.sysfs import (
    SysfsHardware,
    cpu_sockets,
    serial_from_vpd_pg80,
    serial_from_wwid,
)
from agent.platform.base import (
    BlockDevice,
    DiskType,
    MachineIdentity,
    MemoryModule,
    NetworkPort,
    OsRelease,
    Virtualization,
)
from agent.platform.linux import LinuxPlatform
from tests.agent.hardware.support import LINUX, linux_platform, refusing_root_only_files
from tests.agent.recorded import RecordedRunner, Recording

GIB = 1024**3


def test_laptop() -> None:
    facts = linux_platform("laptop", euid=0).hardware_facts()
    assert facts.os == OsRelease("Ubuntu", "24.04")
    assert facts.kernel == "6.8.0-45-generic"
    assert facts.identity == MachineIdentity(
        vendor="LENOVO",
        model="20W0CTO1WW",
        serial_number="PF2XK4LM",
        uuid="4c4c4544-0042-3910-8052-b4c04f4e5433",
        bios_vendor="LENOVO",
        bios_version="N34ET57W (1.57 )",
        bios_date="2023-09-14",
        chassis_type=10,
    )
    assert facts.cpu.sockets == 1
    assert [(m.slot, m.size_bytes, m.type, m.serial_number) for m in facts.memory_modules] == [
        ("Controller0-ChannelA-DIMM0", 8 * GIB, "DDR4", "36FB1C2A"),
        ("Controller1-ChannelA-DIMM0", 8 * GIB, "DDR4", "36FB1C7E"),
    ]
    assert facts.disks == [
        BlockDevice(
            "nvme0n1",
            "SAMSUNG MZVLB512HBJQ-000L7",
            1000215216 * 512,
            serial_number="S4ENNX0R123456",
            type=DiskType.NVME,
        )
    ]
    assert facts.network_ports == [
        NetworkPort("docker0", "02:42:ac:11:00:01", 0, physical=False),
        NetworkPort("enp0s31f6", "8c:16:45:aa:bb:cc", 1000, physical=True),
        NetworkPort("wlp0s20f3", "70:9c:d1:11:22:33", 0, physical=True),
    ]
    assert facts.virtualization == Virtualization()


def test_desktop_junk_values_and_root_only_files(monkeypatch: pytest.MonkeyPatch) -> None:
    # dmidecode is installed but must not run: unreadable SMBIOS entries mean we are not root.
    runner = RecordedRunner({}, installed=frozenset({"dmidecode", "systemd-detect-virt"}))
    with refusing_root_only_files(monkeypatch) as refused:
        facts = linux_platform("desktop-junk", runner, euid=1000).hardware_facts()
    assert {"product_serial", "product_uuid", "raw"} <= set(refused)
    assert facts.identity == MachineIdentity(
        vendor="ASUSTeK COMPUTER INC.",  # sys_vendor "To be filled by O.E.M." -> the board's
        model="PRIME B450M-A",  # product_name "Default string" -> the board's
        serial_number="",  # unreadable (and "Default string" anyway)
        uuid="",
        bios_vendor="American Megatrends Inc.",
        bios_version="3211",
        bios_date="2021-08-10",
        chassis_type=3,
    )
    assert facts.memory_modules == []
    assert runner.calls == []
    assert [(d.name, d.type, d.serial_number) for d in facts.disks] == [
        ("sda", DiskType.HDD, "Z9A1B2C3"),  # from VPD page 0x80
        ("sdb", DiskType.SSD, "S3Z1NB0K123456A"),  # from the t10.ATA wwid
    ]
    assert [(p.name, p.speed_mbps, p.physical) for p in facts.network_ports] == [
        ("enp3s0", 1000, True),
        ("virbr0", 0, False),
    ]


def test_desktop_junk_read_as_root_still_hides_junk() -> None:
    facts = linux_platform("desktop-junk", euid=0).hardware_facts()
    # Readable now, but "Default string" and AMI's default UUID are still no identity.
    assert facts.identity.serial_number == ""
    assert facts.identity.uuid == ""
    assert facts.memory_modules == [
        MemoryModule(
            slot="DIMM_A1",
            size_bytes=16 * GIB,
            type="DDR4",
            speed_mts=3200,
            manufacturer="Kingston",
            part_number="KF3200C16D4/16GX",
            serial_number="0A1B2C3D",
        )
    ]


def test_kvm_guest() -> None:
    runner = RecordedRunner({}, installed=frozenset({"systemd-detect-virt"}))
    facts = linux_platform("kvm", runner).hardware_facts()
    assert facts.virtualization == Virtualization(hypervisor="kvm")  # QEMU firmware + kvm-clock
    assert runner.calls == []  # the clock source was conclusive: no command
    assert facts.identity.vendor == "QEMU"
    assert facts.identity.chassis_type == 1
    assert facts.identity.uuid == "8e0f1c2a-5b6d-4e7f-9a0b-1c2d3e4f5a6b"
    assert facts.cpu.sockets == 2
    assert facts.disks == [
        BlockDevice("vda", "", 83886080 * 512, serial_number="vm-root-01", type=DiskType.UNKNOWN)
    ]
    assert [(p.name, p.speed_mbps, p.physical) for p in facts.network_ports] == [
        ("eth0", 0, True),  # speed -1: unknown
        ("veth1a2b", 10000, False),
    ]


def test_server_memory_from_dmidecode_when_root() -> None:
    dmidecode = Recording.file(LINUX / "server-dmidecode-t17.txt")
    runner = RecordedRunner({("dmidecode", "-t", "17"): dmidecode})
    platform = linux_platform("server", runner, euid=0)
    facts = platform.hardware_facts()
    assert [(m.slot, m.size_bytes) for m in facts.memory_modules] == [
        ("A1", 32 * GIB),
        ("B1", 32 * GIB),
    ]
    assert facts.identity.model == "PowerEdge R650" and facts.identity.chassis_type == 23
    assert facts.cpu.sockets == 2
    assert [(d.name, d.type, d.serial_number) for d in facts.disks] == [
        ("nvme0n1", DiskType.NVME, "PHAB123400AB3P2BGN"),
        ("sda", DiskType.HDD, "WJG1ABCD"),
        ("sdb", DiskType.SSD, "S5A1NE0N700123"),
    ]
    assert [(p.name, p.speed_mbps, p.physical) for p in facts.network_ports] == [
        ("bond0", 10000, False),
        ("eno1", 10000, True),
        ("eno2", 0, True),
    ]
    platform.hardware_facts()
    assert runner.calls == [("dmidecode", "-t", "17")]  # SMBIOS is fixed: asked once


def test_server_without_root_spawns_nothing() -> None:
    runner = RecordedRunner({}, installed=frozenset({"dmidecode"}))
    facts = linux_platform("server", runner, euid=1000).hardware_facts()
    assert facts.memory_modules == [] and runner.calls == []


def test_failing_dmidecode_is_logged_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    runner = RecordedRunner({("dmidecode", "-t", "17"): Recording(timeout=True)})
    platform = linux_platform("server", runner, euid=0)
    assert platform.hardware_facts().memory_modules == []
    assert "dmidecode failed" in caplog.text
    platform.hardware_facts()
    assert len(runner.calls) == 2


def test_hypervisor_flag_without_a_name_asks_systemd(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cpuinfo").write_text("processor\t: 0\nflags\t\t: fpu hypervisor\n")
    runner = RecordedRunner({("systemd-detect-virt", "--vm"): Recording(b"microsoft\n")})
    reader = SysfsHardware(
        sys_root=tmp_path / "sys", proc_root=tmp_path / "proc", fs_root=tmp_path, runner=runner
    )
    assert reader.virtualization() == Virtualization(hypervisor="hyperv")
    reader.virtualization()
    assert len(runner.calls) == 1
    without = SysfsHardware(
        sys_root=tmp_path / "sys", proc_root=tmp_path / "proc", fs_root=tmp_path, runner=None
    )
    assert without.virtualization().hypervisor == "vm-other"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({".dockerenv": ""}, "docker"),
        ({"run/.containerenv": ""}, "podman"),
        ({"run/systemd/container": "lxc\n"}, "lxc"),
        ({"proc/sys/kernel/osrelease": "5.15.153.1-microsoft-standard-WSL2\n"}, "wsl"),
        ({}, ""),
    ],
)
def test_containers(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    reader = SysfsHardware(sys_root=tmp_path / "sys", proc_root=tmp_path / "proc", fs_root=tmp_path)
    found = reader.virtualization()
    assert found.container == expected
    assert found.hypervisor == ""  # a container is not a VM


def test_xen_dom0_is_not_a_guest(tmp_path: Path) -> None:
    (tmp_path / "sys/hypervisor").mkdir(parents=True)
    (tmp_path / "sys/hypervisor/type").write_text("xen\n")
    (tmp_path / "proc/xen").mkdir(parents=True)
    reader = SysfsHardware(sys_root=tmp_path / "sys", proc_root=tmp_path / "proc", fs_root=tmp_path)
    assert reader.virtualization().hypervisor == "xen"
    (tmp_path / "proc/xen/capabilities").write_text("control_d\n")
    assert reader.virtualization().hypervisor == ""


def test_empty_tree_gives_unknowns(tmp_path: Path) -> None:
    facts = LinuxPlatform(
        sys_root=tmp_path, etc_root=tmp_path, proc_root=tmp_path, usr_lib_root=tmp_path
    ).hardware_facts()
    assert facts.identity == MachineIdentity()
    assert facts.disks == [] and facts.network_ports == [] and facts.memory_modules == []
    assert facts.virtualization == Virtualization()


def test_one_failing_reader_leaves_the_rest(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: SysfsHardware) -> list[BlockDevice]:
        raise RuntimeError("sysfs on fire")

    monkeypatch.setattr(SysfsHardware, "block_devices", broken)
    facts = linux_platform("laptop").hardware_facts()
    assert facts.disks == []
    assert facts.identity.vendor == "LENOVO"
    assert "sysfs on fire" in caplog.text


def test_vpd_and_wwid_serials() -> None:
    assert serial_from_vpd_pg80(b"\x00\x80\x00\x08WJG1ABCD") == "WJG1ABCD"
    assert serial_from_vpd_pg80(b"\x00\x83\x00\x08WJG1ABCD") == ""
    assert serial_from_vpd_pg80(b"\x00\x80") == ""
    assert serial_from_wwid("t10.ATA     Samsung SSD 860 EVO 500GB     S3Z1NB0K1\n") == "S3Z1NB0K1"
    assert serial_from_wwid("eui.0025388b91b2c3d4") == ""
    assert serial_from_wwid("naa.5000c500a1b2c3d4") == ""


@given(st.binary(max_size=300))
def test_vpd_parser_never_crashes(data: bytes) -> None:
    assert isinstance(serial_from_vpd_pg80(data), str)


@given(st.text(max_size=500))
def test_cpuinfo_and_wwid_parsers_never_crash(text: str) -> None:
    assert cpu_sockets(text) >= 0
    assert isinstance(serial_from_wwid(text), str)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(
    values=st.dictionaries(
        st.sampled_from(
            [
                "sys/class/dmi/id/sys_vendor",
                "sys/class/dmi/id/product_uuid",
                "sys/class/dmi/id/bios_date",
                "sys/class/dmi/id/chassis_type",
                "sys/block/sda/size",
                "sys/block/sda/queue/rotational",
                "sys/block/sda/device/vpd_pg80",
                "sys/class/net/eth0/speed",
                "sys/class/net/eth0/address",
                "sys/firmware/dmi/entries/17-0/raw",
                "proc/cpuinfo",
                "run/systemd/container",
            ]
        ),
        st.binary(max_size=120),
    )
)
def test_random_sysfs_values_never_crash(
    tmp_path_factory: pytest.TempPathFactory, values: dict[str, bytes]
) -> None:
    root = tmp_path_factory.mktemp("sysfs")
    for name, content in values.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    facts = LinuxPlatform(
        sys_root=root / "sys",
        etc_root=root / "etc",
        proc_root=root / "proc",
        usr_lib_root=root,
        runner=RecordedRunner({}),
        euid=lambda: 0,
    ).hardware_facts()
    assert 0 <= facts.identity.chassis_type < 0x80
    assert all(d.size_bytes > 0 for d in facts.disks)
    assert all(p.speed_mbps >= 0 for p in facts.network_ports)


def test_live_linux_hardware_is_well_formed() -> None:
    # Structure only: never what this machine happens to have.
    platform = LinuxPlatform()
    facts = platform.hardware_facts()
    assert isinstance(facts.os.name, str) and isinstance(facts.kernel, str) and facts.kernel
    identity = facts.identity
    assert identity.uuid == "" or (len(identity.uuid) == 36 and identity.uuid.islower())
    assert identity.bios_date == "" or len(identity.bios_date) == 10
    assert 0 <= identity.chassis_type < 0x80
    assert facts.cpu.sockets >= 0
    assert all(d.name and d.size_bytes > 0 and isinstance(d.type, DiskType) for d in facts.disks)
    assert all(p.name and p.name != "lo" and p.speed_mbps >= 0 for p in facts.network_ports)
    assert all(p.mac_address == p.mac_address.lower() for p in facts.network_ports)
    assert all(m.size_bytes >= 0 for m in facts.memory_modules)
    assert isinstance(facts.virtualization.label, str)
