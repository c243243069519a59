"""Windows hardware facts from recorded CIM JSON: a laptop, a Hyper-V VM (single objects
instead of arrays), a whitebox desktop with junk values; PowerShell failures."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.collectors.hardware import cim
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
from agent.platform.windows import WindowsPlatform
from tests.agent.hardware.support import WINDOWS, windows_platform
from tests.agent.recorded import RecordedRunner

GIB = 1024**3


def test_one_powershell_invocation_no_wmic_no_double_quotes() -> None:
    platform, runner = windows_platform("laptop.json")
    platform.hardware_facts()
    assert runner.calls == [cim.COMMAND]
    assert cim.COMMAND[:4] == ("powershell.exe", "-NoProfile", "-NonInteractive", "-Command")
    script = cim.COMMAND[4]
    assert '"' not in script  # survives Windows command-line quoting
    assert "wmic" not in script.lower()
    assert "ConvertTo-Json -InputObject $r -Depth 4 -Compress" in script
    for query in cim.QUERIES:
        assert f"'{query.cim_class}'" in script
    assert "'root/Microsoft/Windows/Storage'" in script


def test_laptop() -> None:
    platform, _ = windows_platform("laptop.json")
    facts = platform.hardware_facts()
    assert facts.os == OsRelease("Windows 11 Pro", "23H2", "22631.3296")
    assert facts.kernel == "10.0.22631"
    assert facts.identity == MachineIdentity(
        vendor="Dell Inc.",
        model="Latitude 7420",
        serial_number="1Q5GP53",
        uuid="4c4c4544-0031-3510-8047-b2c04f503533",
        bios_vendor="Dell Inc.",
        bios_version="1.31.1",
        bios_date="2023-11-08",
        chassis_type=10,
    )
    assert facts.form_factor_hint == FormFactor.LAPTOP
    assert (facts.cpu.sockets, facts.cpu.cores, facts.cpu.threads) == (1, 4, 8)
    assert facts.cpu.model == "11th Gen Intel(R) Core(TM) i7-1185G7 @ 3.00GHz"
    assert facts.memory_total_bytes == 16856248320
    assert facts.memory_modules[0] == MemoryModule(
        slot="DIMM A",
        size_bytes=8 * GIB,
        type="LPDDR4",
        speed_mts=4267,
        manufacturer="Micron Technology",
        part_number="MT53E1G32D2NP-046 WT:B",
        serial_number="",  # "00000000"
    )
    assert facts.disks == [
        BlockDevice(
            "\\\\.\\PHYSICALDRIVE0",
            "KXG60ZNV512G KIOXIA",
            512110190592,
            serial_number="8CE3_8E10_0123_4567.",
            type=DiskType.NVME,
        ),
        BlockDevice(
            "\\\\.\\PHYSICALDRIVE1",
            "SanDisk Ultra USB Device",
            30752636928,
            serial_number="4C530001230917114343",
            type=DiskType.UNKNOWN,
        ),
    ]
    assert facts.network_ports == [
        NetworkPort("Wi-Fi", "f4:26:79:aa:bb:cc", 866, physical=True),
        NetworkPort("Ethernet", "d0:c6:37:01:02:03", 0, physical=True),  # disconnected
        NetworkPort("Ethernet 2", "00:05:9a:3c:7a:00", 995, physical=False),  # VPN (ROOT\)
    ]
    assert facts.virtualization == Virtualization()


def test_hyperv_vm_with_single_objects_and_a_failed_query(
    caplog: pytest.LogCaptureFixture,
) -> None:
    platform, _ = windows_platform("hyperv.json")
    facts = platform.hardware_facts()
    assert facts.virtualization == Virtualization(hypervisor="hyperv")
    assert facts.os == OsRelease("Windows Server 2022 Datacenter", "21H2", "20348.2340")
    assert (facts.cpu.sockets, facts.cpu.cores, facts.cpu.threads) == (1, 4, 4)
    assert facts.identity.uuid == "9a1c5e2b-3f4d-4a6b-8c7d-0e1f2a3b4c5d"
    assert facts.identity.serial_number == "0000-0012-3456-7890-1234-5678-90"
    assert facts.identity.chassis_type == 3
    assert facts.memory_modules == [
        MemoryModule(slot="M0001", size_bytes=8 * GIB, manufacturer="Microsoft Corporation")
    ]
    # MSFT_PhysicalDisk failed: the disk is still listed, its type unknown.
    assert facts.disks == [
        BlockDevice("\\\\.\\PHYSICALDRIVE0", "Microsoft Virtual Disk", 136366917120)
    ]
    assert facts.network_ports == [
        NetworkPort("Ethernet", "00:15:5d:01:0a:02", 10000, physical=True)
    ]
    assert "CIM query PhysicalDisk failed: Access denied" in caplog.text


def test_desktop_junk_and_hypervisor_present_on_bare_metal() -> None:
    platform, _ = windows_platform("desktop-junk.json")
    facts = platform.hardware_facts()
    assert facts.identity == MachineIdentity(
        vendor="",
        model="",
        serial_number="",
        uuid="",
        bios_vendor="American Megatrends Inc.",
        bios_version="4021",
        bios_date="2022-08-19",
        chassis_type=3,  # [1 Other, 3 Desktop]
    )
    # HypervisorPresent is true with VBS or WSL 2 on bare metal: not a VM by itself.
    assert facts.virtualization == Virtualization()
    # {"value": [...], "Count": 2}: Windows PowerShell 5.1's wrapped array.
    assert [m.slot for m in facts.memory_modules] == ["DIMM_A2", "DIMM_B2"]
    assert all(m.manufacturer == "" and m.type == "DDR4" for m in facts.memory_modules)
    # Listed by CIM as drive 1 then 0; reported by disk number, for a stable section hash.
    assert [(d.name, d.type, d.serial_number) for d in facts.disks] == [
        ("\\\\.\\PHYSICALDRIVE0", DiskType.SSD, "S6PTNM0T123456K"),
        ("\\\\.\\PHYSICALDRIVE1", DiskType.HDD, "ZFL1A2B3"),
    ]
    assert facts.os == OsRelease("Windows 10 Pro", "22H2", "19045.4291")
    assert facts.cpu.model == "AMD Ryzen 7 5800X 8-Core Processor"


@pytest.mark.parametrize(
    "recording",
    [
        {"timeout": True},
        {"stdout": b"", "returncode": 1, "stderr": b"powershell: access denied"},
        {"stdout": b"Get-CimInstance : Invalid class\r\n", "returncode": 1},
        {"stdout": b"[1, 2, 3]"},
        {"stdout": b'{"ComputerSystem": '},
    ],
)
def test_powershell_failures_leave_everything_unknown(
    recording: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    platform, _ = windows_platform(None, **recording)
    assert platform.hardware_facts() == HardwareFacts()
    assert "CIM inventory query" in caplog.text


def test_powershell_absent() -> None:

    assert WindowsPlatform(RecordedRunner({})).hardware_facts() == HardwareFacts()


def test_output_with_a_bom_and_a_warning_line() -> None:
    text = (WINDOWS / "laptop.json").read_text()
    facts = cim.parse_cim_inventory("\ufeffWARNING: something\r\n" + text)
    assert facts.identity.model == "Latitude 7420"


def test_cpu_model_fallback_reads_the_registry_not_powershell() -> None:
    platform, runner = windows_platform("laptop.json")
    assert platform.cpu_model_fallback() == "Intel(R) Core(TM) i7-1185G7 @ 3.00GHz"
    assert runner.calls == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ({"a": 1}, [{"a": 1}]),
        ([{"a": 1}, 3, "x"], [{"a": 1}]),
        ({"value": [{"a": 1}], "Count": 1}, [{"a": 1}]),
        ("text", []),
    ],
)
def test_records_absorbs_convertto_json_shapes(value: object, expected: list[object]) -> None:
    assert cim.records(value) == expected


def _fixture_docs() -> list[dict[str, object]]:
    return [json.loads((WINDOWS / name).read_text()) for name in ("laptop.json", "hyperv.json")]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.sampled_from([q.key for q in cim.QUERIES] + ["CurrentVersion", "Errors"]), json_values)
def test_any_value_in_any_section_never_crashes(key: str, value: object) -> None:
    for doc in _fixture_docs():
        doc[key] = value
        facts = cim.parse_cim_inventory(json.dumps(doc))
        assert isinstance(facts, HardwareFacts)
        assert all(d.size_bytes >= 0 for d in facts.disks)


@given(st.text(max_size=300))
def test_random_text_is_facts_or_a_clear_error(text: str) -> None:
    try:
        facts = cim.parse_cim_inventory(text)
    except cim.CimError:
        return
    assert isinstance(facts, HardwareFacts)


@given(st.integers(min_value=0, max_value=6000))
def test_truncated_output_is_facts_or_a_clear_error(cut: int) -> None:
    text = (WINDOWS / "laptop.json").read_text()[:cut]
    try:
        facts = cim.parse_cim_inventory(text)
    except cim.CimError:
        return
    assert cut == len(text) or facts.identity.model in ("", "Latitude 7420")
