"""Pending reboot: Debian's flag file, needs-restarting, and the Windows registry keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.collectors.health import ParseError, RebootStatus, SignalUnavailable
from agent.collectors.health.reboot import (
    NEEDS_RESTARTING,
    LinuxReboot,
    NeedsRestarting,
    RebootRequiredFile,
    WindowsReboot,
    parse_needs_restarting,
)
from tests.agent.health.support import FIXTURES, fixture
from tests.agent.recorded import RecordedRegistry, RecordedRunner, Recording


def test_debian_flag_file_with_packages_each_once() -> None:
    status = RebootRequiredFile(FIXTURES / "laptop" / "run").read()
    assert status == RebootStatus(
        True,
        (
            "/run/reboot-required",
            "package: linux-image-6.1.0-18-amd64",
            "package: libc6",
        ),
    )


def test_no_flag_file_means_no_reboot() -> None:
    assert RebootRequiredFile(FIXTURES / "server" / "run").read() == RebootStatus(False)


def test_flag_file_without_pkgs(tmp_path: Path) -> None:
    (tmp_path / "reboot-required").write_text("*** System restart required ***\n")
    assert RebootRequiredFile(tmp_path).read().reasons == ("/run/reboot-required",)


def needs_restarting(returncode: int, name: str) -> RecordedRunner:
    return RecordedRunner(
        {NEEDS_RESTARTING: Recording(fixture(f"needs-restarting/{name}"), returncode)}
    )


def test_needs_restarting_exit_1_is_a_pending_reboot_with_packages() -> None:
    status = NeedsRestarting(needs_restarting(1, "reboot.txt")).read()
    assert status.pending
    assert status.reasons == ("needs-restarting -r", "package: kernel", "package: glibc")


def test_needs_restarting_exit_0_is_no_reboot() -> None:
    assert NeedsRestarting(needs_restarting(0, "no-reboot.txt")).read() == RebootStatus(False)


def test_needs_restarting_other_exit_is_an_error() -> None:
    with pytest.raises(ParseError):
        parse_needs_restarting(2, "Error: rpmdb open failed")


def test_needs_restarting_absent_is_unavailable() -> None:
    with pytest.raises(SignalUnavailable, match="not installed"):
        NeedsRestarting(RecordedRunner({})).read()


def test_linux_reboot_prefers_the_flag_file_then_needs_restarting() -> None:
    runner = needs_restarting(1, "reboot.txt")
    flagged = LinuxReboot(RebootRequiredFile(FIXTURES / "laptop" / "run"), NeedsRestarting(runner))
    assert flagged.read().reasons[0] == "/run/reboot-required"
    assert runner.calls == []
    rhel = LinuxReboot(RebootRequiredFile(FIXTURES / "server" / "run"), NeedsRestarting(runner))
    assert rhel.read().reasons[0] == "needs-restarting -r"
    plain = LinuxReboot(RebootRequiredFile(FIXTURES / "server" / "run"), None)
    assert plain.read() == RebootStatus(False)


def test_windows_pending_reboot_from_every_key() -> None:
    registry = RecordedRegistry.from_json(FIXTURES / "windows" / "registry-reboot-pending.json")
    status = WindowsReboot(registry).read()
    assert status.pending
    assert [reason.rsplit("\\", 1)[1] for reason in status.reasons] == [
        "RebootPending",
        "RebootRequired",
        "PendingFileRenameOperations",
    ]


def test_windows_without_flags_or_with_empty_renames_is_not_pending() -> None:
    registry = RecordedRegistry.from_json(FIXTURES / "windows" / "registry-clean.json")
    assert WindowsReboot(registry).read() == RebootStatus(False)
    assert WindowsReboot(RecordedRegistry({})).read() == RebootStatus(False)
