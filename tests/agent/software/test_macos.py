"""Application bundles, with Info.plist files in XML and in binary form."""

from __future__ import annotations

import os
import plistlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.collectors.software import AppBundleReader, SoftwareSource, darwin_software
from agent.collectors.software.macos import publisher_from_copyright

BUNDLE_TIME = datetime(2024, 2, 1, 8, 30, tzinfo=UTC)


def make_bundle(folder: Path, name: str, info: dict[str, Any], *, binary: bool) -> Path:
    bundle = folder / name
    (bundle / "Contents").mkdir(parents=True)
    fmt = plistlib.FMT_BINARY if binary else plistlib.FMT_XML
    (bundle / "Contents/Info.plist").write_bytes(plistlib.dumps(info, fmt=fmt))
    stamp = BUNDLE_TIME.timestamp()
    os.utime(bundle, (stamp, stamp))
    return bundle


def make_root(root: Path) -> Path:
    apps = root / "Applications"
    make_bundle(
        apps,
        "Firefox.app",
        {
            "CFBundleName": "Firefox",
            "CFBundleShortVersionString": "124.0.1",
            "CFBundleVersion": "12424.3.15",
            "CFBundleIdentifier": "org.mozilla.firefox",
            "NSHumanReadableCopyright": "© Firefox and Mozilla Developers; MPL 2.0",
        },
        binary=False,
    )
    make_bundle(
        apps,
        "Slack.app",
        {
            "CFBundleDisplayName": "Slack",
            "CFBundleName": "Slack-internal",
            "CFBundleVersion": "4.37.94",
            "CFBundleIdentifier": "com.tinyspeck.slackmacgap",
            "NSHumanReadableCopyright": (
                "Copyright © 2024 Slack Technologies, LLC. All rights reserved."
            ),
        },
        binary=True,
    )
    make_bundle(
        apps / "Utilities",
        "Terminal.app",
        {"CFBundleName": "Terminal", "CFBundleShortVersionString": "2.14"},
        binary=True,
    )
    make_bundle(
        apps / "Microsoft Office" / "Too Deep",
        "Hidden.app",
        {"CFBundleName": "Hidden"},
        binary=False,
    )
    outer = make_bundle(apps, "Outer.app", {"CFBundleName": "Outer"}, binary=False)
    make_bundle(outer / "Contents", "Inner.app", {"CFBundleName": "Inner"}, binary=False)
    broken = apps / "Broken.app" / "Contents"
    broken.mkdir(parents=True)
    (broken / "Info.plist").write_bytes(b"bplist00\x00\x01")
    make_bundle(
        root / "Users/alice/Applications",
        "Firefox.app",
        {
            "CFBundleName": "Firefox",
            "CFBundleShortVersionString": "124.0.1",
            "CFBundleIdentifier": "org.mozilla.firefox",
        },
        binary=True,
    )
    make_bundle(
        root / "System/Applications",
        "Calculator.app",
        {"CFBundleName": "Calculator", "CFBundleShortVersionString": "11.0"},
        binary=True,
    )
    return root


def test_bundles_in_the_standard_folders(tmp_path: Path) -> None:
    rows = AppBundleReader(make_root(tmp_path)).read()
    found = sorted((r.name, r.version) for r in rows)
    assert found == [
        ("Calculator", "11.0"),
        ("Firefox", "124.0.1"),
        ("Firefox", "124.0.1"),
        ("Outer", ""),
        ("Slack", "4.37.94"),  # display name first; CFBundleVersion when no short version
        ("Terminal", "2.14"),
    ]  # not Hidden (two folders deep), not Inner (inside a bundle), not Broken
    assert {r.source for r in rows} == {SoftwareSource.APP_BUNDLE}
    assert {r.install_time for r in rows} == {BUNDLE_TIME}
    slack = next(r for r in rows if r.name == "Slack")
    assert slack.identifier == "com.tinyspeck.slackmacgap"
    assert slack.publisher == "Slack Technologies, LLC."
    firefox = next(r for r in rows if r.name == "Firefox")
    assert firefox.publisher == ""  # the notice is not a clean holder name


def test_the_same_app_in_two_folders_is_one_row(tmp_path: Path) -> None:
    rows = darwin_software(make_root(tmp_path)).collect().packages
    assert [r.name for r in rows].count("Firefox") == 1
    assert [r.name for r in rows] == ["Calculator", "Firefox", "Outer", "Slack", "Terminal"]


def test_no_applications_folder_is_unsupported(tmp_path: Path) -> None:
    assert not darwin_software(tmp_path).is_supported()


def test_copyright_notices() -> None:
    assert publisher_from_copyright("Copyright © 2023 Google LLC. All rights reserved.") == (
        "Google LLC."
    )
    assert publisher_from_copyright("© 2010-2024 Acme Corp") == "Acme Corp"
    assert publisher_from_copyright("Copyright 2024") == ""
    assert publisher_from_copyright("See https://example.org/licence") == ""
    assert publisher_from_copyright(None) == ""
    assert publisher_from_copyright("Line one\nline two") == ""
