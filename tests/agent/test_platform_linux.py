"""The Linux readers on fixture trees (os-release, DMI, /sys/block, /proc)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.collectors.hardware.junk import clean as clean_firmware_value
from agent.platform import OsRelease, UnimplementedPlatform, current_platform
from agent.platform.linux import (
    LinuxPlatform,
    os_release_from_fields,
    parse_os_release,
)
from tests.agent.support import FIXTURES, fixture_platform


def test_os_release_from_etc() -> None:
    assert fixture_platform("desktop").os_release() == OsRelease("Debian GNU/Linux", "12")


def test_os_release_falls_back_to_usr_lib_and_unquotes() -> None:
    assert fixture_platform("whitebox").os_release() == OsRelease("Ubuntu", "24.04")


def test_os_release_build_id() -> None:
    fields = parse_os_release('NAME="Arch Linux"\nBUILD_ID=rolling\nID=arch\n')
    assert os_release_from_fields(fields) == OsRelease("Arch Linux", "", "rolling")


def test_os_release_missing_everywhere_is_empty(tmp_path: Path) -> None:
    platform = LinuxPlatform(etc_root=tmp_path, usr_lib_root=tmp_path)
    assert platform.os_release() == OsRelease("", "")


def test_parse_os_release_quoting_and_garbage() -> None:
    text = (FIXTURES / "whitebox/usr/lib/os-release").read_text()
    fields = parse_os_release(text)
    assert fields["PRETTY_NAME"] == 'Ubuntu 24.04 "Noble" LTS'
    assert fields["NAME"] == "Ubuntu"
    assert "" not in fields
    assert not any(key.startswith("#") or " " in key for key in fields)


@given(st.text())
def test_parse_os_release_never_crashes(text: str) -> None:
    fields = parse_os_release(text)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())
    assert all(k and k.isascii() for k in fields)
    release = os_release_from_fields(fields)
    assert isinstance(release.name, str) and isinstance(release.version, str)


@given(st.dictionaries(st.from_regex(r"[A-Z_]{1,12}", fullmatch=True), st.text("abc 123.-")))
def test_parse_os_release_round_trips_quoted_values(values: dict[str, str]) -> None:
    text = "".join(f'{k}="{v}"\n' for k, v in values.items())
    assert parse_os_release(text) == values


def test_kernel_from_proc() -> None:
    assert fixture_platform("desktop").kernel() == "6.1.0-18-amd64"


def test_dmi_identity() -> None:
    identity = fixture_platform("desktop").machine_identity()
    assert (identity.vendor, identity.model, identity.serial_number) == (
        "Dell Inc.",
        "OptiPlex 7090",
        "5XKQ8J3",
    )


def test_dmi_junk_values_become_empty_or_fall_back_to_the_board() -> None:
    identity = fixture_platform("whitebox").machine_identity()
    assert identity.vendor == "ASRock"  # sys_vendor is "To be filled by O.E.M."
    assert identity.model == "B450M Pro4"  # product_name is "Default string"
    assert identity.serial_number == ""  # "System Serial Number"


def test_unreadable_serial_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    # Root can read a 0400 file, so refuse the open itself, as the kernel does for non-root.
    real_open = Path.open

    def refusing_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "product_serial":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refusing_open)
    identity = fixture_platform("desktop").machine_identity()
    assert identity.serial_number == ""
    assert identity.vendor == "Dell Inc."


def test_missing_dmi_tree(tmp_path: Path) -> None:
    identity = LinuxPlatform(sys_root=tmp_path).machine_identity()
    assert (identity.vendor, identity.model, identity.serial_number) == ("", "", "")


@pytest.mark.parametrize(
    "raw",
    [
        "Default string",
        "To be filled by O.E.M.",
        "System Serial Number",
        "0",
        "None",
        "  \n",
        "00000000",
        "Not Specified",
        "\x00",
    ],
)
def test_junk_firmware_values(raw: str) -> None:
    assert clean_firmware_value(raw) == ""


@pytest.mark.parametrize("raw", ["5XKQ8J3", "PF0ABCDE", "Lenovo", "20HRCTO1WW", "0A1"])
def test_real_firmware_values_are_kept(raw: str) -> None:
    assert clean_firmware_value(raw + "\n") == raw


def test_block_devices_skip_virtual_and_empty() -> None:
    disks = fixture_platform("desktop").block_devices()
    assert [(d.name, d.model, d.size_bytes) for d in disks] == [
        ("nvme0n1", "WDC PC SN730 SDBQNTY-512G-1001", 1000215216 * 512),
        ("sda", "Samsung SSD 870", 1953525168 * 512),
    ]


def test_block_device_without_model() -> None:
    disks = fixture_platform("whitebox").block_devices()
    assert [(d.name, d.model, d.size_bytes) for d in disks] == [("mmcblk0", "", 62333952 * 512)]


def test_cpu_model_fallback_x86_and_arm() -> None:
    assert (
        fixture_platform("desktop").cpu_model_fallback()
        == "11th Gen Intel(R) Core(TM) i7-11700 @ 2.50GHz"
    )
    assert fixture_platform("whitebox").cpu_model_fallback() == "Raspberry Pi 4 Model B Rev 1.4"


def test_pseudo_filesystems() -> None:
    platform = fixture_platform("desktop")
    for fstype in ("proc", "sysfs", "tmpfs", "overlay", "squashfs", "devtmpfs", "cgroup2", ""):
        assert platform.is_pseudo_filesystem(fstype), fstype
    for fstype in ("ext4", "xfs", "btrfs", "vfat", "ntfs"):
        assert not platform.is_pseudo_filesystem(fstype), fstype


def test_unimplemented_platforms_do_not_pretend() -> None:
    platform = current_platform("freebsd14")
    assert not platform.implemented and not platform.hardware_supported
    with pytest.raises(NotImplementedError):
        platform.os_release()
    with pytest.raises(NotImplementedError):
        platform.hardware_facts()


@pytest.mark.parametrize(
    ("system", "real", "pseudo"), [("win32", "NTFS", "CDFS"), ("darwin", "apfs", "devfs")]
)
def test_windows_and_macos_are_implemented(system: str, real: str, pseudo: str) -> None:
    platform = current_platform(system)
    assert platform.hardware_supported and platform.implemented
    assert not platform.is_pseudo_filesystem(real)
    assert platform.is_pseudo_filesystem(pseudo)


def test_linux_is_implemented() -> None:
    platform = current_platform("linux")
    assert platform.implemented and platform.hardware_supported and platform.family == "linux"
    assert not UnimplementedPlatform("x").implemented
