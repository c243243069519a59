"""Recognising virtual machines from firmware strings, and naming hypervisors one way.

The same table serves Linux (DMI in sysfs), Windows (Win32_ComputerSystem, Win32_BIOS) and
macOS (the model identifier). Names follow systemd-detect-virt's, except where a clearer
name is common in the field ("hyperv" for "microsoft", "virtualbox" for "oracle").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class FirmwareStrings:
    """The firmware strings a VM gives itself away by; empty when unknown."""

    vendor: str = ""
    model: str = ""
    bios_vendor: str = ""
    bios_version: str = ""
    board_vendor: str = ""
    product_version: str = ""


@dataclass(frozen=True, slots=True)
class VmSign:
    """A hypervisor, recognised when every given field starts with its prefix."""

    hypervisor: str
    vendor: str = ""
    model: str = ""
    bios_vendor: str = ""
    bios_version: str = ""
    board_vendor: str = ""
    product_version: str = ""

    def matches(self, found: FirmwareStrings) -> bool:
        pairs = (
            (self.vendor, found.vendor),
            (self.model, found.model),
            (self.bios_vendor, found.bios_vendor),
            (self.bios_version, found.bios_version),
            (self.board_vendor, found.board_vendor),
            (self.product_version, found.product_version),
        )
        wanted = [(prefix, value) for prefix, value in pairs if prefix]
        return bool(wanted) and all(
            value.casefold().startswith(prefix.casefold()) for prefix, value in wanted
        )


VM_SIGNS: Final = (
    VmSign("kvm", model="KVM"),
    VmSign("kvm", vendor="OpenStack"),
    VmSign("kvm", model="OpenStack"),
    VmSign("kvm", vendor="KubeVirt"),
    VmSign("kvm", vendor="DigitalOcean", model="Droplet"),
    VmSign("qemu", vendor="QEMU"),
    VmSign("qemu", bios_vendor="QEMU"),
    VmSign("vmware", vendor="VMware"),
    VmSign("vmware", model="VMware"),
    VmSign("vmware", bios_vendor="VMware"),
    VmSign("virtualbox", vendor="innotek GmbH"),
    VmSign("virtualbox", model="VirtualBox"),
    VmSign("virtualbox", board_vendor="Oracle Corporation", model="VirtualBox"),
    VmSign("xen", vendor="Xen"),
    VmSign("xen", model="HVM domU"),
    VmSign("xen", bios_vendor="Xen"),
    VmSign("hyperv", vendor="Microsoft Corporation", model="Virtual Machine"),
    VmSign("hyperv", bios_version="VRTUAL"),  # Hyper-V's BIOS version: "VRTUAL - 1"
    VmSign("amazon", vendor="Amazon EC2"),
    VmSign("amazon", bios_vendor="Amazon EC2"),
    VmSign("google", model="Google Compute Engine"),
    VmSign("google", vendor="Google", model="Google"),
    VmSign("parallels", vendor="Parallels"),
    VmSign("parallels", model="Parallels"),
    VmSign("bochs", vendor="Bochs"),
    VmSign("bochs", bios_vendor="Bochs"),
    VmSign("bhyve", vendor="BHYVE"),
    VmSign("bhyve", bios_vendor="BHYVE"),
    VmSign("apple", model="Apple Virtualization"),
    VmSign("apple", model="VirtualMac"),
)

# systemd-detect-virt names that Parc spells differently.
_RENAMED: Final = {"microsoft": "hyperv", "oracle": "virtualbox"}


def hypervisor_from_firmware(found: FirmwareStrings) -> str:
    """The hypervisor the firmware strings name, or "" when they look like bare metal."""
    if found.vendor.casefold().startswith("amazon ec2") and found.model.endswith(".metal"):
        return ""  # EC2 bare-metal instances keep Amazon's vendor string
    for sign in VM_SIGNS:
        if sign.matches(found):
            return sign.hypervisor
    return ""


def normalise_name(raw: str) -> str:
    """A systemd-detect-virt answer as Parc names it; "" for "none" or nonsense."""
    name = raw.strip().lower()
    if not name or name == "none" or len(name) > 40:
        return ""
    if not all(c.isalnum() or c in "-_" for c in name):
        return ""
    return _RENAMED.get(name, name)
