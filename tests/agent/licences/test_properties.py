"""Licence parsers on random and truncated input: no crash, an unknown or empty result."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.collectors.licences import debian_to_spdx, parse_copyright, rpm_to_spdx
from agent.collectors.licences.spdx import is_spdx_expression
from agent.collectors.licences.windows import activation
from agent.collectors.software.powershell import PowerShellError, parse_json_objects
from tests.agent.recorded import FIXTURES

FAST = settings(max_examples=200, deadline=None)
DOC = FIXTURES / "licences/debian/usr/share/doc"
COPYRIGHTS = sorted(p.read_bytes() for p in DOC.glob("*/copyright"))
SLP = (FIXTURES / "licences/slp-array.json").read_text(encoding="utf-8")
WORDS = st.sampled_from(
    [
        "GPL-2+",
        "Expat",
        "and",
        "or",
        "with",
        "exception",
        ",",
        "(",
        ")",
        "MIT",
        "AND",
        "OR",
        "WITH",
        "Font",
        "BSD",
        "ASL",
        "2.0",
        "GPLv2+",
        "Classpath-exception-2.0",
        "+",
        "",
    ]
)


@FAST
@given(st.text(max_size=200))
def test_mapping_any_text(text: str) -> None:
    for spdx in (debian_to_spdx(text), rpm_to_spdx(text)):
        assert spdx == "" or is_spdx_expression(spdx)


@FAST
@given(st.lists(WORDS, max_size=12))
def test_mapping_licence_like_words(words: list[str]) -> None:
    text = " ".join(words)
    for spdx in (debian_to_spdx(text), rpm_to_spdx(text)):
        assert spdx == "" or is_spdx_expression(spdx)


@FAST
@given(st.sampled_from(COPYRIGHTS), st.floats(min_value=0, max_value=1), st.binary(max_size=40))
def test_copyright_truncated_or_garbled(data: bytes, fraction: float, noise: bytes) -> None:
    for candidate in (data[: int(len(data) * fraction)], data[: int(len(data) * fraction)] + noise):
        found = parse_copyright(candidate)
        assert found is None or isinstance(found, str)


@FAST
@given(st.binary(max_size=400))
def test_copyright_random_bytes(data: bytes) -> None:
    found = parse_copyright(data)
    assert found is None or isinstance(found, str)


@FAST
@given(st.floats(min_value=0, max_value=1))
def test_licensing_json_truncated(fraction: float) -> None:
    try:
        items = parse_json_objects(SLP[: int(len(SLP) * fraction)])
    except PowerShellError:
        return
    for item in items:
        found = activation(item)
        assert found is None or len(found.partial_product_key) <= 5


@FAST
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "ApplicationID",
                "PartialProductKey",
                "LicenseStatus",
                "Description",
                "Name",
                "ProductKeyChannel",
            ]
        ),
        st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    )
)
def test_licensing_objects_of_any_shape(item: dict[str, object]) -> None:
    found = activation(item)
    assert found is None or len(found.partial_product_key) <= 5
