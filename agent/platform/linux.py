"""Linux platform: reads /etc/os-release, /proc and /sys through injectable roots.

Every reader takes its root from the constructor so tests run on fixture trees.
Formats: os-release(5), /proc/cpuinfo; the hardware facts (DMI, SMBIOS, block devices,
network interfaces, virtualisation) come from :class:`SysfsHardware`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from agent.collectors.hardware.attempt import attempt
from agent.collectors.hardware.sysfs import SysfsHardware
from agent.platform.base import (
    BlockDevice,
    CpuTopology,
    HardwareFacts,
    MachineIdentity,
    OsRelease,
    Virtualization,
)
from agent.platform.runner import CommandRunner, SubprocessRunner

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
    # BUILD_ID identifies the image of rolling or image-based systems (Arch, Fedora Silverblue).
    return OsRelease(name=name, version=version, build=fields.get("BUILD_ID", ""))


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
    """Linux readers over injectable /sys, /etc, /proc, /usr/lib and / roots and a runner."""

    def __init__(
        self,
        *,
        sys_root: Path = Path("/sys"),
        etc_root: Path = Path("/etc"),
        proc_root: Path = Path("/proc"),
        usr_lib_root: Path = Path("/usr/lib"),
        fs_root: Path | None = None,
        runner: CommandRunner | None = None,
        euid: Callable[[], int] = os.geteuid,
    ) -> None:
        self._etc = etc_root
        self._proc = proc_root
        self._usr_lib = usr_lib_root
        live = sys_root == Path("/sys")
        if runner is None and live:
            runner = SubprocessRunner()
        # A fixture tree (sys_root elsewhere) holds its own "/" beside its "sys", and gets
        # no command runner unless given one: live commands must not leak into it.
        self._hardware = SysfsHardware(
            sys_root=sys_root,
            proc_root=proc_root,
            fs_root=fs_root if fs_root is not None else sys_root.parent,
            runner=runner,
            euid=euid,
        )

    @property
    def family(self) -> str:
        return "linux"

    @property
    def implemented(self) -> bool:
        return True

    @property
    def hardware_supported(self) -> bool:
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
        return self._hardware.identity()

    def block_devices(self) -> list[BlockDevice]:
        return self._hardware.block_devices()

    def hardware_facts(self) -> HardwareFacts:
        hw = self._hardware
        return HardwareFacts(
            os=attempt("the OS release", self.os_release, OsRelease()),
            kernel=attempt("the kernel release", self.kernel, ""),
            identity=attempt("the firmware identity", hw.identity, MachineIdentity()),
            cpu=attempt("the CPU topology", hw.cpu, CpuTopology()),
            memory_modules=attempt("the memory modules", hw.memory_modules, []),
            disks=attempt("the block devices", hw.block_devices, []),
            network_ports=attempt("the network interfaces", hw.network_ports, []),
            virtualization=attempt("the virtualisation", hw.virtualization, Virtualization()),
        )

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
