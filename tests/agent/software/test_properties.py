"""Every software parser on random and truncated input: no crash, a clear error or nothing."""

from __future__ import annotations

import plistlib
from collections.abc import Callable, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.collectors.software import (
    parse_dpkg_status,
    parse_flatpak_list,
    parse_rpm_query,
    parse_snap_list,
)
from agent.collectors.software.macos import bundle_software, publisher_from_copyright
from agent.collectors.software.powershell import PowerShellError, parse_json_objects
from agent.collectors.software.records import MAX_NAME, SoftwareSource
from agent.collectors.software.windows import appx_package, uninstall_entry
from agent.platform.plist import PlistError, parse_plist
from tests.agent.software.conftest import SOFTWARE

DPKG = (SOFTWARE / "debian/var/lib/dpkg/status").read_text(encoding="utf-8")
TEXTS = {
    "rpm": (SOFTWARE / "rpm-qa.txt").read_text(encoding="utf-8"),
    "snap": (SOFTWARE / "snap-list.txt").read_text(encoding="utf-8"),
    "flatpak": (SOFTWARE / "flatpak-list.txt").read_text(encoding="utf-8"),
    "appx": (SOFTWARE / "appx-array.json").read_text(encoding="utf-8"),
}
PARSERS: dict[str, Callable[[str], Sequence[object]]] = {
    "rpm": parse_rpm_query,
    "snap": parse_snap_list,
    "flatpak": parse_flatpak_list,
}
FAST = settings(max_examples=150, deadline=None)


@FAST
@given(st.text())
def test_text_parsers_take_any_text(text: str) -> None:
    for package in parse_dpkg_status(text):
        assert "\n" not in package.name
    for parse in PARSERS.values():
        for found in parse(text):
            assert "\n" not in getattr(found, "name", "")


@FAST
@given(st.integers(min_value=0, max_value=len(DPKG)), st.text(max_size=20))
def test_dpkg_truncated_or_garbled(cut: int, noise: str) -> None:
    packages = parse_dpkg_status(DPKG[:cut] + noise)
    assert len(packages) <= DPKG.count("Package:") + 1


@FAST
@given(st.sampled_from(sorted(PARSERS)), st.floats(min_value=0, max_value=1))
def test_command_outputs_truncated(kind: str, fraction: float) -> None:
    text = TEXTS[kind]
    rows = PARSERS[kind](text[: int(len(text) * fraction)])
    assert all(len(getattr(r, "name", "")) <= MAX_NAME for r in rows)


@FAST
@given(st.floats(min_value=0, max_value=1))
def test_appx_json_truncated(fraction: float) -> None:
    text = TEXTS["appx"]
    try:
        items = parse_json_objects(text[: int(len(text) * fraction)])
    except PowerShellError:
        return
    for item in items:
        appx_package(item)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@FAST
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "Name",
                "Version",
                "Publisher",
                "Architecture",
                "IsFramework",
                "SignatureKind",
                "PackageFullName",
            ]
        ),
        JSONISH,
    )
)
def test_appx_objects_of_any_shape(item: dict[str, object]) -> None:
    found = appx_package(item)
    assert found is None or found.source is SoftwareSource.MSIX


REGISTRY_VALUE = (
    st.none()
    | st.integers()
    | st.text(max_size=40)
    | st.binary(max_size=8)
    | st.lists(st.text(max_size=5), max_size=3)
)


@FAST
@given(
    st.text(max_size=20),
    st.dictionaries(
        st.sampled_from(
            [
                "DisplayName",
                "DisplayVersion",
                "Publisher",
                "InstallDate",
                "SystemComponent",
                "WindowsInstaller",
                "ParentKeyName",
                "ReleaseType",
                "VersionMajor",
                "VersionMinor",
            ]
        ),
        REGISTRY_VALUE,
    ),
)
def test_uninstall_values_of_any_type(key: str, values: dict[str, object]) -> None:
    found = uninstall_entry(key, values)  # type: ignore[arg-type]
    assert found is None or found.name


@FAST
@given(st.binary(max_size=200), st.floats(min_value=0, max_value=1))
def test_plists_random_and_truncated(noise: bytes, fraction: float) -> None:
    good = plistlib.dumps({"CFBundleName": "X", "CFBundleVersion": "1"}, fmt=plistlib.FMT_BINARY)
    for data in (noise, good[: int(len(good) * fraction)]):
        try:
            info = parse_plist(data)
        except PlistError:
            continue
        bundle_software(SOFTWARE / "X.app", info, None)


@FAST
@given(st.text(max_size=300))
def test_copyright_notices_any_text(text: str) -> None:
    holder = publisher_from_copyright(text)
    assert len(holder) <= 81
