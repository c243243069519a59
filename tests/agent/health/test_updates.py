"""Pending updates: apt, dnf, Windows Update and softwareupdate, from recorded output."""

from __future__ import annotations

import pytest

from agent.collectors.health import ParseError, SignalUnavailable, SourceError, UpdateCounts
from agent.collectors.health.updates import (
    APT_CHECK,
    APT_SIMULATE,
    DNF_CHECK_UPDATE,
    DNF_SECURITY,
    SOFTWAREUPDATE,
    WINDOWS_UPDATE_COMMAND,
    LinuxUpdates,
    MacUpdates,
    WindowsUpdates,
    parse_apt_check,
    parse_dnf_check_update,
    parse_dnf_security,
    parse_softwareupdate,
    parse_windows_updates,
)
from tests.agent.health.support import fixture, text
from tests.agent.recorded import RecordedRunner, Recording


def test_apt_simulation_counts_inst_lines_and_security_origins() -> None:
    runner = RecordedRunner({APT_SIMULATE: Recording(fixture("apt/apt-get-s-upgrade.txt"))})
    assert LinuxUpdates(runner).read() == UpdateCounts(5, 2)


def test_apt_simulation_on_ubuntu_security_among_several_origins() -> None:
    runner = RecordedRunner({APT_SIMULATE: Recording(fixture("apt/apt-get-s-upgrade-ubuntu.txt"))})
    assert LinuxUpdates(runner).read() == UpdateCounts(2, 2)


def test_apt_up_to_date() -> None:
    runner = RecordedRunner({APT_SIMULATE: Recording(fixture("apt/apt-get-s-upgrade-none.txt"))})
    assert LinuxUpdates(runner).read() == UpdateCounts(0, 0)


def test_apt_check_is_preferred_and_read_from_stderr() -> None:
    runner = RecordedRunner(
        {
            (APT_CHECK,): Recording(stderr=b"12;4"),
            APT_SIMULATE: Recording(fixture("apt/apt-get-s-upgrade.txt")),
        }
    )
    assert LinuxUpdates(runner).read() == UpdateCounts(12, 4)
    assert runner.calls == [(APT_CHECK,)]


def test_apt_check_garbage_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_apt_check("E: something broke\n")


def test_apt_failure_is_a_source_error_with_its_message() -> None:
    runner = RecordedRunner(
        {APT_SIMULATE: Recording(b"", 100, b"E: The package lists are damaged\n")}
    )
    with pytest.raises(SourceError, match="package lists are damaged"):
        LinuxUpdates(runner).read()


def dnf(check: Recording, security: Recording) -> RecordedRunner:
    return RecordedRunner({DNF_CHECK_UPDATE: check, DNF_SECURITY: security})


def test_dnf_exit_100_counts_packages_and_security_advisories() -> None:
    runner = dnf(
        Recording(fixture("dnf/check-update.txt"), 100),
        Recording(fixture("dnf/updateinfo-security.txt")),
    )
    # curl, kernel, kernel-core, the wrapped python3 line, tzdata; obsoletes not counted.
    # Security: curl, kernel (two advisories, one package), kernel-core.
    assert LinuxUpdates(runner).read() == UpdateCounts(5, 3)


def test_dnf5_security_table_with_header() -> None:
    assert parse_dnf_security(text("dnf/updateinfo-security-dnf5.txt")) == {"curl", "kernel"}


def test_dnf_check_update_wrapped_line_counted_once() -> None:
    packages = parse_dnf_check_update(text("dnf/check-update.txt"))
    assert "python3-libdnf5-with-an-unusually-long-package-name.noarch" in packages
    assert "grub2-tools.x86_64" not in packages


def test_dnf_exit_0_is_up_to_date_without_asking_for_advisories() -> None:
    runner = dnf(Recording(b"", 0), Recording(b"", 0))
    assert LinuxUpdates(runner).read() == UpdateCounts(0, 0)
    assert runner.calls == [DNF_CHECK_UPDATE]


def test_dnf_exit_1_is_a_source_error() -> None:
    runner = dnf(Recording(b"", 1, b"Error: Failed to download metadata for repo\n"), Recording())
    with pytest.raises(SourceError, match="Failed to download metadata"):
        LinuxUpdates(runner).read()


def test_dnf_without_updateinfo_gives_total_and_says_why_security_is_unknown() -> None:
    runner = dnf(
        Recording(fixture("dnf/check-update.txt"), 100),
        Recording(b"", 1, b"Error: No updateinfo metadata\n"),
    )
    counts = LinuxUpdates(runner).read()
    assert (counts.total, counts.security) == (5, None)
    assert "No updateinfo metadata" in counts.security_unknown_reason


def test_no_package_manager_is_unavailable() -> None:
    with pytest.raises(SignalUnavailable, match="no supported package manager"):
        LinuxUpdates(RecordedRunner({})).read()


def test_windows_update_counts_security_by_severity_or_category() -> None:
    runner = RecordedRunner({WINDOWS_UPDATE_COMMAND: Recording(fixture("windows/updates.json"))})
    assert WindowsUpdates(runner).read() == UpdateCounts(3, 1)


def test_windows_update_none_pending_and_unrolled_single_update() -> None:
    assert parse_windows_updates(text("windows/updates-none.json")) == UpdateCounts(0, 0)
    single = '{"Count":1,"Updates":{"Title":"x","MsrcSeverity":"Important","Categories":[]}}'
    assert parse_windows_updates(single) == UpdateCounts(1, 1)


def test_windows_update_search_error_is_a_source_error() -> None:
    runner = RecordedRunner(
        {WINDOWS_UPDATE_COMMAND: Recording(b"", 1, b"Exception from HRESULT: 0x8024402C\n")}
    )
    with pytest.raises(SourceError, match="0x8024402C"):
        WindowsUpdates(runner).read()


def test_softwareupdate_counts_items_and_security_by_title() -> None:
    runner = RecordedRunner({SOFTWAREUPDATE: Recording(fixture("macos/softwareupdate.txt"))})
    assert MacUpdates(runner).read() == UpdateCounts(3, 1)


def test_softwareupdate_none_available_on_stderr() -> None:
    runner = RecordedRunner(
        {SOFTWAREUPDATE: Recording(b"", 0, fixture("macos/softwareupdate-none.txt"))}
    )
    assert MacUpdates(runner).read() == UpdateCounts(0, 0)


def test_softwareupdate_without_verdict_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_softwareupdate("Software Update Tool\n\nFinding available software\n")
