"""The SPDX table and the expression mapping."""

from __future__ import annotations

import pytest

from agent.collectors.licences.spdx import (
    DEBIAN_NAMES,
    FEDORA_LEGACY_NAMES,
    ExpressionError,
    debian_to_spdx,
    is_spdx_expression,
    parse_expression,
    rpm_to_spdx,
)
from agent.collectors.licences.spdx_ids import SPDX_EXCEPTION_IDS, SPDX_LICENCE_IDS


@pytest.mark.parametrize(
    ("declared", "spdx"),
    [
        ("Expat", "MIT"),
        ("GPL-2+", "GPL-2.0-or-later"),
        ("GPL-2", "GPL-2.0-only"),
        ("LGPL-2.1+", "LGPL-2.1-or-later"),
        ("Apache-2.0", "Apache-2.0"),
        ("BSD-3-clause", "BSD-3-Clause"),
        ("zlib", "Zlib"),
        ("GPL-2+ or Artistic", "GPL-2.0-or-later OR Artistic-1.0-Perl"),
        ("GPL-2+ and BSD-3-clause", "GPL-2.0-or-later AND BSD-3-Clause"),
        (
            "GPL-2+ or Artistic, and BSD-3-clause",
            "(GPL-2.0-or-later OR Artistic-1.0-Perl) AND BSD-3-Clause",
        ),
        ("GPL-2+ or Expat and BSD-3-clause", "GPL-2.0-or-later OR (MIT AND BSD-3-Clause)"),
        ("LGPL-2.1+ with Font exception", "LGPL-2.1-or-later WITH Font-exception-2.0"),
        ("Perl", "Artistic-1.0-Perl OR GPL-1.0-or-later"),
        ("Perl and Expat", "(Artistic-1.0-Perl OR GPL-1.0-or-later) AND MIT"),
        ("public-domain", ""),
        ("GPL-2+ and public-domain", ""),  # one unmapped part: no SPDX at all
        ("GPL-2+ with OpenSSL exception", ""),  # no SPDX exception for this one
        ("BSD", ""),
        ("", ""),
        ("GPL-2+ or", ""),
        (", and MIT", ""),
    ],
)
def test_debian_names(declared: str, spdx: str) -> None:
    assert debian_to_spdx(declared) == spdx


@pytest.mark.parametrize(
    ("declared", "spdx"),
    [
        ("GPLv2+", "GPL-2.0-or-later"),
        ("ASL 2.0", "Apache-2.0"),
        ("GPLv3+ and LGPLv2+", "GPL-3.0-or-later AND LGPL-2.0-or-later"),
        ("GPL+ or Artistic", "GPL-1.0-or-later OR Artistic-1.0-Perl"),
        ("(GPLv2+ or ASL 2.0) and MIT", "(GPL-2.0-or-later OR Apache-2.0) AND MIT"),
        ("zlib and Boost", "Zlib AND BSL-1.0"),
        ("MIT and BSD", ""),  # "BSD" alone is ambiguous (2- or 3-clause): not guessed
        ("LGPLv2", ""),  # Fedora used it for 2.0 and 2.1 alike
        ("Public Domain", ""),
        ("GPLv2+ with exceptions", ""),
        # Fedora's SPDX tags are kept exactly as declared.
        ("GPL-2.0-or-later AND LGPL-2.1-or-later", "GPL-2.0-or-later AND LGPL-2.1-or-later"),
        ("(MIT OR Apache-2.0) AND Unicode-DFS-2016", "(MIT OR Apache-2.0) AND Unicode-DFS-2016"),
        ("GPL-2.0-only WITH Classpath-exception-2.0", "GPL-2.0-only WITH Classpath-exception-2.0"),
        ("LicenseRef-Fedora-Public-Domain", "LicenseRef-Fedora-Public-Domain"),
        ("GPL-2.0+", "GPL-2.0+"),
        ("MIT AND (", ""),
    ],
)
def test_rpm_tags(declared: str, spdx: str) -> None:
    assert rpm_to_spdx(declared) == spdx


def test_valid_spdx_needs_listed_ids_and_upper_case_operators() -> None:
    assert is_spdx_expression("MIT OR Apache-2.0")
    assert not is_spdx_expression("MIT or Apache-2.0")
    assert not is_spdx_expression("NotALicence-1.0")
    assert not is_spdx_expression("MIT WITH NotAnException")
    assert not is_spdx_expression("MIT AND")


def test_every_table_entry_maps_to_listed_identifiers() -> None:
    for table in (DEBIAN_NAMES, FEDORA_LEGACY_NAMES):
        for name, spdx in table.items():
            assert name == name.casefold()
            assert is_spdx_expression(spdx), (name, spdx)
    assert {"MIT", "GPL-2.0-or-later", "Apache-2.0"} <= SPDX_LICENCE_IDS
    assert "Classpath-exception-2.0" in SPDX_EXCEPTION_IDS


def test_deep_nesting_is_refused_not_a_crash() -> None:
    with pytest.raises(ExpressionError):
        parse_expression("(" * 100 + "MIT" + ")" * 100)
    assert rpm_to_spdx("(" * 100 + "MIT" + ")" * 100) == ""
