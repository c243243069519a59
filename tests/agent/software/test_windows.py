"""Windows Uninstall keys and MSIX packages, on a recorded registry and recorded PowerShell."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.collectors.software import (
    AppxReader,
    SoftwareReadError,
    SoftwareSource,
    UninstallRegistryReader,
    windows_software,
)
from agent.collectors.software.powershell import (
    PowerShellError,
    parse_json_objects,
    powershell_command,
)
from agent.collectors.software.windows import (
    APPX_SCRIPT,
    parse_install_date,
    publisher_from_dn,
    user_uninstall_keys,
)
from tests.agent.recorded import RecordedRegistry, RecordedRunner, Recording
from tests.agent.software.conftest import SOFTWARE

APPX = powershell_command(APPX_SCRIPT)


def registry() -> RecordedRegistry:
    return RecordedRegistry.from_json(SOFTWARE / "windows-registry.json")


def test_user_hives_are_sids_only() -> None:
    assert user_uninstall_keys(registry()) == [
        "HKU\\S-1-5-21-1004336348-1177238915-682003330-1001\\Software\\Microsoft\\Windows"
        "\\CurrentVersion\\Uninstall"
    ]


def test_uninstall_entries() -> None:
    rows = UninstallRegistryReader(registry()).read()
    names = [r.name for r in rows]
    assert "Office 16 Click-to-Run Extensibility Component" not in names  # SystemComponent
    assert not any("KB" in n for n in names)  # updates and hotfixes
    assert not any("Must not be read" in n for n in names)  # _Classes, .DEFAULT
    assert "" not in names  # AddressBook has no DisplayName
    seven_zip = [r for r in rows if r.name.startswith("7-Zip")]
    assert [r.source for r in seven_zip] == [SoftwareSource.MSI, SoftwareSource.REGISTRY]
    assert seven_zip[0].identifier == "{23170F69-40C1-2702-2301-000001000000}"
    assert seven_zip[0].install_time == datetime(2024, 1, 15, tzinfo=UTC)
    firefox = next(r for r in rows if r.name.startswith("Mozilla"))
    assert firefox.source is SoftwareSource.REGISTRY
    assert firefox.install_time is None
    assert firefox.architecture == ""


def test_control_characters_are_stripped_and_versions_fall_back() -> None:
    rows = {r.identifier: r for r in UninstallRegistryReader(registry()).read()}
    notepad = rows["Notepad++"]
    assert notepad.name == "Notepad++ (32-bit x86) [31m"
    assert notepad.version == "8.6.4"
    assert rows["OldTool"].version == "2.5"  # VersionMajor / VersionMinor


def test_the_whole_windows_collector_collapses_duplicates() -> None:
    runner = RecordedRunner({APPX: Recording.file(SOFTWARE / "appx-array.json")})
    rows = windows_software(registry(), runner).collect().packages
    names = [(r.name, r.source) for r in rows]
    # 7-Zip: MSI in HKLM and a plain entry in the user hive -> one row, the MSI one.
    assert names.count(("7-Zip 23.01 (x64 edition)", SoftwareSource.MSI)) == 1
    assert ("7-Zip 23.01 (x64 edition)", SoftwareSource.REGISTRY) not in names
    # Git in the 64-bit and the WOW6432Node views -> one row, keeping the known install date.
    git = [r for r in rows if r.name == "Git"]
    assert len(git) == 1
    assert git[0].install_time == datetime(2024, 2, 23, tzinfo=UTC)
    assert [r.name for r in rows] == sorted((r.name for r in rows), key=str.casefold)
    assert ("Microsoft.WindowsCalculator", SoftwareSource.MSIX) in names
    assert ("Zoom", SoftwareSource.REGISTRY) in names


def test_appx_array_skips_frameworks_and_system_packages() -> None:
    runner = RecordedRunner({APPX: Recording.file(SOFTWARE / "appx-array.json")})
    rows = AppxReader(runner).read()
    assert [(r.name, r.architecture, r.publisher) for r in rows] == [
        ("Microsoft.WindowsCalculator", "x64", "Microsoft Corporation"),
        ("SpotifyAB.SpotifyMusic", "x86", "453637B3-4E12-4CDF-B0D3-2A3C863BF6EF"),
    ]
    assert rows[0].identifier == "Microsoft.WindowsCalculator_11.2210.0.0_x64__8wekyb3d8bbwe"
    assert {r.source for r in rows} == {SoftwareSource.MSIX}


def test_appx_single_object_is_one_row() -> None:
    runner = RecordedRunner({APPX: Recording.file(SOFTWARE / "appx-single.json")})
    rows = AppxReader(runner).read()
    assert [(r.name, r.version) for r in rows] == [("Microsoft.WindowsTerminal", "1.19.10821.0")]


def test_appx_empty_output_is_no_rows_and_bad_output_an_error() -> None:
    assert AppxReader(RecordedRunner({APPX: Recording(b"")})).read() == []
    with pytest.raises(SoftwareReadError, match="not JSON"):
        AppxReader(RecordedRunner({APPX: Recording(b"{oops")})).read()
    with pytest.raises(SoftwareReadError, match="did not finish"):
        AppxReader(RecordedRunner({APPX: Recording(timeout=True)})).read()


def test_json_objects_quirks() -> None:
    assert parse_json_objects('{"a": 1}') == [{"a": 1}]
    assert parse_json_objects('\ufeff[{"a": 1}, 3, "x"]') == [{"a": 1}]
    assert parse_json_objects("  ") == []
    with pytest.raises(PowerShellError):
        parse_json_objects("42")


def test_install_dates() -> None:
    assert parse_install_date("20240115") == datetime(2024, 1, 15, tzinfo=UTC)
    assert parse_install_date("2024-01-15") == datetime(2024, 1, 15, tzinfo=UTC)
    assert parse_install_date("20241315") is None
    assert parse_install_date("1/15/2024") is None
    assert parse_install_date(20240115) is None
    assert parse_install_date(None) is None


def test_publisher_from_dn() -> None:
    dn = "CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US"
    assert publisher_from_dn(dn) == "Microsoft Corporation"
    assert publisher_from_dn('CN="Acme, Inc.", C=US') == "Acme, Inc."
    assert publisher_from_dn("garbage") == ""


def test_registry_without_uninstall_keys_is_unsupported() -> None:
    assert not UninstallRegistryReader(RecordedRegistry({})).is_supported()
