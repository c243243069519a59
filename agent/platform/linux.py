"""Linux platform: reads /etc/os-release, /proc and /sys through injectable roots.

Every reader takes its root from the constructor so tests run on fixture trees.
Formats: os-release(5), sysfs-class-dmi (Documentation/ABI/testing/sysfs-class-dmi),
/sys/block/<dev>/size (512-byte sectors), /proc/cpuinfo.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from agent.platform.base import BlockDevice, MachineIdentity, OsRelease

log = logging.getLogger(__name__)

PSEUDO_FILESYSTEMS = frozenset(
    {
        "autofs",
        "binfmt_misc",
        "bpf",
        "cgroup",
        "cgroup2",
        "configfs",
        "debugfs",
        "devpts",
        "devtmpfs",
        "efivarfs",
        "fuse.gvfsd-fuse",
        "fuse.lxcfs",
        "fuse.portal",
        "fusectl",
        "hugetlbfs",
        "mqueue",
        "none",
        "nsfs",
        "overlay",
        "proc",
        "pstore",
        "ramfs",
        "rpc_pipefs",
        "securityfs",
        "selinuxfs",
        "squashfs",
        "sysfs",
        "tmpfs",
        "tracefs",
    }
)

# Block devices with no hardware behind them.
VIRTUAL_BLOCK_PREFIXES = ("loop", "ram", "zram", "dm-", "md", "nbd")

# Values firmware vendors leave in DMI fields instead of real data.
_JUNK_FIRMWARE_VALUES = frozenset(
    {
        "default string",
        "to be filled by o.e.m.",
        "to be filled by oem",
        "system serial number",
        "system product name",
        "system manufacturer",
        "system version",
        "chassis serial number",
        "base board serial number",
        "not specified",
        "not applicable",
        "not available",
        "none",
        "null",
        "n/a",
        "na",
        "o.e.m.",
        "oem",
        "invalid",
        "unknown",
        "0123456789",
        "123456789",
    }
)


def clean_firmware_value(raw: str) -> str:
    """A DMI value with firmware placeholders ("Default string", "0", ...) turned into ""."""
    value = raw.strip().strip("\x00").strip()
    if value.casefold() in _JUNK_FIRMWARE_VALUES:
        return ""
    if value and set(value) <= set("0 -.xX"):
        # "0", "00000000", "0.0", "XXXXXXXX": placeholders, never a real serial.
        return ""
    return value


def _unquote(value: str) -> str:
    """One os-release value: optionally quoted with " or ', with shell-style backslash escapes."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        quote = value[0]
        inner = value[1:-1]
        if quote == "'":
            return inner
        out: list[str] = []
        escaping = False
        for char in inner:
            if escaping:
                if char not in '$"\\`':
                    out.append("\\")
                out.append(char)
                escaping = False
            elif char == "\\":
                escaping = True
            else:
                out.append(char)
        if escaping:
            out.append("\\")
        return "".join(out)
    return value


def parse_os_release(text: str) -> dict[str, str]:
    """Parses os-release(5) text into its variables; malformed lines are ignored."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if not key or not all(c.isalnum() or c == "_" for c in key) or not key.isascii():
            continue
        fields[key] = _unquote(value)
    return fields


def os_release_from_fields(fields: dict[str, str]) -> OsRelease:
    """The name and version the inventory reports, from os-release variables."""
    name = fields.get("NAME", "") or fields.get("ID", "")
    version = fields.get("VERSION_ID", "") or fields.get("VERSION", "")
    return OsRelease(name=name, version=version)


def _read_text(path: Path) -> str | None:
    """A small text file's content, or None when it is missing or unreadable."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except PermissionError:
        log.debug("no permission to read %s", path)
        return None
    except OSError:
        return None


class LinuxPlatform:
    """Linux readers over injectable /sys, /etc, /proc and /usr/lib roots."""

    def __init__(
        self,
        *,
        sys_root: Path = Path("/sys"),
        etc_root: Path = Path("/etc"),
        proc_root: Path = Path("/proc"),
        usr_lib_root: Path = Path("/usr/lib"),
    ) -> None:
        self._sys = sys_root
        self._etc = etc_root
        self._proc = proc_root
        self._usr_lib = usr_lib_root

    @property
    def family(self) -> str:
        return "linux"

    @property
    def implemented(self) -> bool:
        return True

    def os_release(self) -> OsRelease:
        for candidate in (self._etc / "os-release", self._usr_lib / "os-release"):
            text = _read_text(candidate)
            if text is not None:
                return os_release_from_fields(parse_os_release(text))
        return OsRelease()

    def kernel(self) -> str:
        text = _read_text(self._proc / "sys" / "kernel" / "osrelease")
        if text is not None and text.strip():
            return text.strip()
        return os.uname().release

    def machine_identity(self) -> MachineIdentity:
        dmi = self._sys / "class" / "dmi" / "id"

        def field(*names: str) -> str:
            for name in names:
                raw = _read_text(dmi / name)
                if raw is not None and (value := clean_firmware_value(raw)):
                    return value
            return ""

        return MachineIdentity(
            vendor=field("sys_vendor", "board_vendor"),
            model=field("product_name", "board_name"),
            serial_number=field("product_serial"),
        )

    def block_devices(self) -> list[BlockDevice]:
        block = self._sys / "block"
        try:
            entries = sorted(block.iterdir(), key=lambda p: p.name)
        except OSError:
            return []
        devices: list[BlockDevice] = []
        for entry in entries:
            if entry.name.startswith(VIRTUAL_BLOCK_PREFIXES):
                continue
            size_text = _read_text(entry / "size")
            try:
                sectors = int(size_text.strip()) if size_text is not None else 0
            except ValueError:
                sectors = 0
            if sectors <= 0:
                continue
            model = (_read_text(entry / "device" / "model") or "").strip()
            devices.append(BlockDevice(name=entry.name, model=model, size_bytes=sectors * 512))
        return devices

    def cpu_model_fallback(self) -> str:
        text = _read_text(self._proc / "cpuinfo") or ""
        for key in ("model name", "Model", "Hardware", "cpu model"):
            for line in text.splitlines():
                name, sep, value = line.partition(":")
                if sep and name.strip() == key and value.strip():
                    return value.strip()
        return ""

    def is_pseudo_filesystem(self, fstype: str) -> bool:
        return not fstype or fstype in PSEUDO_FILESYSTEMS
