"""RPM licence tags through the recorded rpm query."""

from __future__ import annotations

from agent.collectors.licences import RpmLicenceReader, linux_licences
from agent.collectors.software.rpm import RPM_QUERY
from tests.agent.recorded import FIXTURES, RecordedRunner, Recording

RPM = FIXTURES / "licences/rpm-qa.txt"


def test_rpm_licences() -> None:
    runner = RecordedRunner({RPM_QUERY: Recording.file(RPM)})
    rows = {r.package: (r.spdx, r.declared) for r in RpmLicenceReader(runner).read()}
    assert rows == {
        "bash": ("GPL-3.0-or-later", "GPL-3.0-or-later"),
        "openssl-libs": ("Apache-2.0", "Apache-2.0"),  # once for x86_64 and i686
        "perl-Carp": ("GPL-1.0-or-later OR Artistic-1.0-Perl", "GPL+ or Artistic"),
        "zlib": ("Zlib AND BSL-1.0", "zlib and Boost"),
        "libfoo": ("", "MIT and BSD"),
        "coreutils": ("GPL-3.0-or-later", "GPLv3+"),
        "libnolicence": ("", ""),
    }


def test_failing_rpm_leaves_the_other_readers(tmp_path: object) -> None:
    runner = RecordedRunner({RPM_QUERY: Recording(b"", 1, b"error: rpmdb open failed")})
    collector = linux_licences(FIXTURES / "licences/debian", runner)
    inventory = collector.collect()
    assert {p.source for p in inventory.packages} == {"debian-copyright"}


def test_rpm_query_timeout_yields_nothing_from_rpm() -> None:
    runner = RecordedRunner({RPM_QUERY: Recording(timeout=True)})
    collector = linux_licences(FIXTURES / "nowhere", runner)
    assert collector.is_supported()
    assert collector.collect().packages == ()
