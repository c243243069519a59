"""macOS hardware facts from recorded system_profiler JSON, ioreg plists (XML), sw_vers and
sysctl: an Apple silicon MacBook Air and an Intel iMac; commands failing one by one."""

from __future__ import annotations

import json
import plistlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.collectors.hardware import profiler
from agent.platform.base import (
    BlockDevice,
    DiskType,
    FormFactor,
    HardwareFacts,
    MachineIdentity,
    MemoryModule,
    NetworkPort,
    OsRelease,
    Virtualization,
)
from tests.agent.hardware.support import MACOS, darwin_platform, darwin_runner
from tests.agent.recorded import RecordedRunner, Recording

GIB = 1024**3


def air_runner(overrides: dict[tuple[str, ...], Recording] | None = None) -> RecordedRunner:
    return darwin_runner(
        "macbook-air-m2.json", "ioreg-macbook-air-m2.xml", "sw_vers-14.5.txt", overrides
    )


def test_system_profiler_command() -> None:
    assert profiler.SYSTEM_PROFILER[:2] == ("system_profiler", "-json")
    assert "-detailLevel" in profiler.SYSTEM_PROFILER
    assert profiler.SYSTEM_PROFILER[-1] == "basic"  # "mini" leaves the serial numbers out
    for data_type in ("SPHardwareDataType", "SPMemoryDataType", "SPNVMeDataType"):
        assert data_type in profiler.SYSTEM_PROFILER


def test_apple_silicon_laptop() -> None:
    runner = darwin_runner("macbook-air-m2.json", "ioreg-macbook-air-m2.xml", "sw_vers-14.5.txt")
    facts = darwin_platform(runner).hardware_facts()
    assert facts.os == OsRelease("macOS", "14.5", "23F79")
    assert facts.kernel == "23.5.0"
    assert facts.identity == MachineIdentity(
        vendor="Apple Inc.",
        model="MacBook Air (Mac14,2)",
        serial_number="C02ZW1ABMD6T",  # ioreg's, not system_profiler's
        uuid="5a3c1e2b-7d4f-5e6a-8b9c-0d1e2f3a4b5c",
        bios_vendor="Apple Inc.",
        bios_version="10151.121.1",
    )
    assert facts.form_factor_hint == FormFactor.LAPTOP
    assert (facts.cpu.model, facts.cpu.sockets, facts.cpu.cores) == ("Apple M2", 1, 8)
    assert facts.memory_total_bytes == 16 * GIB
    assert facts.memory_modules == [
        MemoryModule(slot="", size_bytes=16 * GIB, type="LPDDR5", manufacturer="Hynix")
    ]
    assert facts.disks == [
        BlockDevice(
            "disk0",
            "APPLE SSD AP0512Z",
            500277790720,
            serial_number="0ba01234abcd5678",
            type=DiskType.NVME,
        ),
        BlockDevice("", "Samsung PSSD T7", 0, type=DiskType.SSD),  # USB, from the volumes
    ]
    assert facts.network_ports == [
        NetworkPort("en0", "a4:83:e7:12:34:56", 0, physical=True),
        NetworkPort("bridge0", "", 0, physical=False),
    ]
    assert facts.virtualization == Virtualization()


def test_intel_imac() -> None:
    runner = darwin_runner("imac-intel.json", "ioreg-imac-intel.xml", "sw_vers-13.6.7.txt")
    facts = darwin_platform(runner).hardware_facts()
    assert facts.os == OsRelease("macOS", "13.6.7", "22G720")
    assert facts.identity.model == "iMac (iMac19,1)"
    assert facts.identity.uuid == "e1d2c3b4-a596-4788-9a0b-1c2d3e4f5061"
    assert facts.form_factor_hint == FormFactor.DESKTOP
    assert (facts.cpu.model, facts.cpu.sockets, facts.cpu.cores) == ("6-Core Intel Core i5", 1, 6)
    assert facts.memory_modules == [
        MemoryModule(
            slot="BANK 0/ChannelA-DIMM0",
            size_bytes=8 * GIB,
            type="DDR4",
            speed_mts=2667,
            manufacturer="Micron",
            part_number="16ATF1G56AHY-2G6E1",
            serial_number="0x1A2B3C4D",
        ),
        MemoryModule(
            slot="BANK 1/ChannelB-DIMM0",
            size_bytes=8 * GIB,
            type="DDR4",
            speed_mts=2667,
            manufacturer="Micron",
            part_number="16ATF1G56AHY-2G6E1",
            serial_number="0x1A2B3C5E",
        ),
    ]
    assert [(d.name, d.type, d.serial_number) for d in facts.disks] == [
        ("disk0", DiskType.NVME, "C0281234ABCDEF0"),
        ("disk1", DiskType.HDD, "Z1D8ABCD"),
    ]
    assert [(p.name, p.physical) for p in facts.network_ports] == [("en0", True), ("en1", True)]


def test_ioreg_failing_falls_back_to_system_profiler(caplog: pytest.LogCaptureFixture) -> None:
    runner = air_runner({profiler.IOREG_PLATFORM: Recording(timeout=True)})
    facts = darwin_platform(runner).hardware_facts()
    assert facts.identity.serial_number == "C02FROMPROF1"
    assert facts.identity.uuid == "5a3c1e2b-7d4f-5e6a-8b9c-0d1e2f3a4b5c"
    assert "ioreg failed" in caplog.text


def test_system_profiler_failing_leaves_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    runner = air_runner({profiler.SYSTEM_PROFILER: Recording(b"", returncode=1)})
    facts = darwin_platform(runner).hardware_facts()
    assert facts.identity.serial_number == "C02ZW1ABMD6T"  # from ioreg
    assert facts.os == OsRelease("macOS", "14.5", "23F79")  # from sw_vers
    assert facts.disks == [] and facts.memory_modules == []
    assert "system_profiler exited with status 1" in caplog.text


def test_sw_vers_failing_uses_system_profiler() -> None:
    runner = air_runner({profiler.SW_VERS: Recording(timeout=True)})
    facts = darwin_platform(runner).hardware_facts()
    assert facts.os == OsRelease("macOS", "14.5", "23F79")


def test_virtual_mac() -> None:
    doc = json.loads((MACOS / "macbook-air-m2.json").read_text())
    doc["SPHardwareDataType"][0]["machine_model"] = "VirtualMac2,1"
    doc["SPHardwareDataType"][0]["machine_name"] = "Apple Virtual Machine 1"
    runner = air_runner({profiler.SYSTEM_PROFILER: Recording(json.dumps(doc).encode())})
    facts = darwin_platform(runner).hardware_facts()
    assert facts.virtualization == Virtualization(hypervisor="apple")


def test_hv_vmm_present_alone_is_a_vm() -> None:
    runner = air_runner({profiler.HV_VMM_PRESENT: Recording(b"1\n")})
    facts = darwin_platform(runner).hardware_facts()
    assert facts.virtualization.is_virtual_machine


def test_cpu_model_fallback_uses_sysctl() -> None:
    assert darwin_platform(air_runner()).cpu_model_fallback() == "Apple M2"


def test_ioreg_plist_shapes() -> None:
    data = (MACOS / "ioreg-imac-intel.xml").read_bytes()
    assert profiler.parse_ioreg_platform(data)["IOPlatformSerialNumber"] == "C02XK1ABJV3Q"
    as_dict = plistlib.dumps({"IOPlatformUUID": "x"})
    assert profiler.parse_ioreg_platform(as_dict) == {"IOPlatformUUID": "x"}
    binary = plistlib.dumps([{"IOPlatformUUID": "y"}], fmt=plistlib.FMT_BINARY)
    assert profiler.parse_ioreg_platform(binary) == {"IOPlatformUUID": "y"}
    for bad in (b"", b"<plist>", plistlib.dumps(["a", 1])):
        with pytest.raises(profiler.ProfilerError):
            profiler.parse_ioreg_platform(bad)


def test_parse_sw_vers() -> None:
    assert profiler.parse_sw_vers("garbage") == OsRelease()
    text = (MACOS / "sw_vers-14.5.txt").read_text()
    assert profiler.parse_sw_vers(text) == OsRelease("macOS", "14.5", "23F79")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.sampled_from(profiler.DATA_TYPES), json_values)
def test_any_value_in_any_data_type_never_crashes(data_type: str, value: object) -> None:
    for name in ("macbook-air-m2.json", "imac-intel.json"):
        doc = json.loads((MACOS / name).read_text())
        doc[data_type] = value
        facts = profiler.facts_from(
            doc, platform_device={}, release=OsRelease(), hv_vmm_present=False
        )
        assert isinstance(facts, HardwareFacts)
        assert all(d.size_bytes >= 0 for d in facts.disks)


@given(
    st.sampled_from(["machine_model", "number_processors", "physical_memory", "packages"]),
    json_values,
)
def test_any_hardware_overview_value_never_crashes(key: str, value: object) -> None:
    doc = json.loads((MACOS / "imac-intel.json").read_text())
    doc["SPHardwareDataType"][0][key] = value
    facts = profiler.facts_from(doc, platform_device={}, release=OsRelease(), hv_vmm_present=True)
    assert facts.cpu.cores >= 0 and facts.memory_total_bytes >= 0


@given(st.integers(min_value=0, max_value=4000))
def test_truncated_json_is_a_clear_error(cut: int) -> None:
    text = (MACOS / "imac-intel.json").read_text()
    try:
        doc = profiler.parse_profile(text[:cut])
    except profiler.ProfilerError:
        return
    assert isinstance(doc, dict)


@given(st.binary(max_size=400))
def test_random_ioreg_bytes_are_a_dict_or_a_clear_error(data: bytes) -> None:
    try:
        found = profiler.parse_ioreg_platform(data)
    except profiler.ProfilerError:
        return
    assert isinstance(found, dict)


@given(st.integers(min_value=0, max_value=1200))
def test_truncated_ioreg_is_a_dict_or_a_clear_error(cut: int) -> None:
    data = (MACOS / "ioreg-macbook-air-m2.xml").read_bytes()[:cut]
    try:
        found = profiler.parse_ioreg_platform(data)
    except profiler.ProfilerError:
        return
    assert isinstance(found, dict)
