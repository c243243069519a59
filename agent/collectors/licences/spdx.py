"""Declared licences → SPDX expressions: the one table of names we maintain, and the parser.

Three spellings come in:

* Debian machine-readable copyright short names ("GPL-2+", "Expat", "BSD-3-clause"), combined
  with lowercase ``and`` / ``or`` / ``with <keyword> exception``, where a comma lowers the
  precedence of the operator after it ("GPL-2+ or Artistic, and BSD-3-clause" is
  "(GPL-2+ or Artistic) and BSD-3-clause");
* Fedora's RPM License tags: SPDX expressions since 2022 (taken as they are when valid), and
  legacy short names before ("GPLv2+", "ASL 2.0", "MIT and BSD", parentheses allowed);
* SPDX identifiers, which both of the above also use and which map to themselves.

An expression maps only when every part maps: one unknown or ambiguous name ("BSD", "Public
Domain", "public-domain", "LGPLv2" which Fedora used for 2.0 and 2.1 alike) leaves the SPDX
result empty, and the caller keeps the declared text as found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agent.collectors.licences.spdx_ids import SPDX_EXCEPTION_IDS, SPDX_LICENCE_IDS

# Debian short names (copyright-format 1.0 "Short name" list and common practice), case-
# insensitive. Names that are SPDX identifiers already (Apache-2.0, MIT, ISC, Zlib, CC0-1.0,
# MPL-2.0, ...) need no entry. Deliberately absent: public-domain (no SPDX licence), GPL and
# LGPL without a version, BSD without a clause count.
DEBIAN_NAMES: dict[str, str] = {
    "expat": "MIT",
    "artistic": "Artistic-1.0-Perl",  # Debian's "Artistic" is Perl's (common-licenses/Artistic)
    "artistic-1": "Artistic-1.0",
    "artistic-2": "Artistic-2.0",
    "perl": "Artistic-1.0-Perl OR GPL-1.0-or-later",
    "bsd-2-clause": "BSD-2-Clause",
    "bsd-3-clause": "BSD-3-Clause",
    "bsd-4-clause": "BSD-4-Clause",
    "gpl-1": "GPL-1.0-only",
    "gpl-1+": "GPL-1.0-or-later",
    "gpl-2": "GPL-2.0-only",
    "gpl-2+": "GPL-2.0-or-later",
    "gpl-3": "GPL-3.0-only",
    "gpl-3+": "GPL-3.0-or-later",
    "gpl-2.0": "GPL-2.0-only",
    "gpl-2.0+": "GPL-2.0-or-later",
    "gpl-3.0": "GPL-3.0-only",
    "gpl-3.0+": "GPL-3.0-or-later",
    "lgpl-2": "LGPL-2.0-only",
    "lgpl-2+": "LGPL-2.0-or-later",
    "lgpl-2.0": "LGPL-2.0-only",
    "lgpl-2.0+": "LGPL-2.0-or-later",
    "lgpl-2.1": "LGPL-2.1-only",
    "lgpl-2.1+": "LGPL-2.1-or-later",
    "lgpl-3": "LGPL-3.0-only",
    "lgpl-3+": "LGPL-3.0-or-later",
    "lgpl-3.0": "LGPL-3.0-only",
    "lgpl-3.0+": "LGPL-3.0-or-later",
    "agpl-3": "AGPL-3.0-only",
    "agpl-3+": "AGPL-3.0-or-later",
    "agpl-3.0": "AGPL-3.0-only",
    "agpl-3.0+": "AGPL-3.0-or-later",
    "gfdl-1.1": "GFDL-1.1-only",
    "gfdl-1.1+": "GFDL-1.1-or-later",
    "gfdl-1.2": "GFDL-1.2-only",
    "gfdl-1.2+": "GFDL-1.2-or-later",
    "gfdl-1.3": "GFDL-1.3-only",
    "gfdl-1.3+": "GFDL-1.3-or-later",
    "gfdl-niv-1.2": "GFDL-1.2-no-invariants-only",
    "gfdl-niv-1.2+": "GFDL-1.2-no-invariants-or-later",
    "gfdl-niv-1.3": "GFDL-1.3-no-invariants-only",
    "gfdl-niv-1.3+": "GFDL-1.3-no-invariants-or-later",
    "mpl-1.1+": "MPL-1.1",  # only with the "or later" clause MPL 1.1 already has
    "sil-ofl-1.0": "OFL-1.0",
    "sil-ofl-1.1": "OFL-1.1",
    "zope-1.1": "ZPL-1.1",
    "zope-2.0": "ZPL-2.0",
    "zope-2.1": "ZPL-2.1",
    "boost-1.0": "BSL-1.0",
    "psf-2": "PSF-2.0",
    "python": "Python-2.0",
}

# Fedora's legacy (pre-SPDX) short names, case-insensitive, as Fedora's own conversion maps
# them where it is unambiguous.
FEDORA_LEGACY_NAMES: dict[str, str] = {
    "gpl+": "GPL-1.0-or-later",
    "gplv1": "GPL-1.0-only",
    "gplv2": "GPL-2.0-only",
    "gplv2+": "GPL-2.0-or-later",
    "gplv3": "GPL-3.0-only",
    "gplv3+": "GPL-3.0-or-later",
    "lgplv2+": "LGPL-2.0-or-later",
    "lgplv2.1": "LGPL-2.1-only",
    "lgplv2.1+": "LGPL-2.1-or-later",
    "lgplv3": "LGPL-3.0-only",
    "lgplv3+": "LGPL-3.0-or-later",
    "agplv3": "AGPL-3.0-only",
    "agplv3+": "AGPL-3.0-or-later",
    "asl 1.0": "Apache-1.0",
    "asl 1.1": "Apache-1.1",
    "asl 2.0": "Apache-2.0",
    "mplv1.0": "MPL-1.0",
    "mplv1.1": "MPL-1.1",
    "mplv2.0": "MPL-2.0",
    "artistic 2.0": "Artistic-2.0",
    "artistic clarified": "ClArtistic",
    "artistic": "Artistic-1.0-Perl",  # "GPL+ or Artistic" is Perl's licence
    "boost": "BSL-1.0",
    "cc0": "CC0-1.0",
    "ofl": "OFL-1.1",
    "zplv2.0": "ZPL-2.0",
    "zplv2.1": "ZPL-2.1",
    "eplv1.0": "EPL-1.0",
    "eplv2.0": "EPL-2.0",
    "cddl": "CDDL-1.0",
    "bitstream vera": "Bitstream-Vera",
}

# "GPL-2+ with <keyword> exception" (Debian): keywords with an SPDX exception identifier.
DEBIAN_EXCEPTIONS: dict[str, str] = {
    "font": "Font-exception-2.0",
    "classpath": "Classpath-exception-2.0",
    "gcc-3.1": "GCC-exception-3.1",
    "autoconf-3.0": "Autoconf-exception-3.0",
    "bison-2.2": "Bison-exception-2.2",
    "libtool": "Libtool-exception",
    "llvm": "LLVM-exception",
}

_LICENCE_BY_FOLD = {licence.casefold(): licence for licence in SPDX_LICENCE_IDS}
_EXCEPTION_BY_FOLD = {exception.casefold(): exception for exception in SPDX_EXCEPTION_IDS}
_LICENCE_REF = re.compile(r"(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+")
_ADDITION_REF = re.compile(r"(?:DocumentRef-[A-Za-z0-9.-]+:)?AdditionRef-[A-Za-z0-9.-]+")
_TOKEN = re.compile(r"[(),]|[^\s(),]+")
MAX_EXPRESSION = 1024
MAX_DEPTH = 32


class ExpressionError(ValueError):
    """The text is not a licence expression this parser understands."""


@dataclass(frozen=True, slots=True)
class Name:
    text: str


@dataclass(frozen=True, slots=True)
class WithException:
    licence: str
    exception: str


@dataclass(frozen=True, slots=True)
class Combined:
    operator: str  # "AND" or "OR"
    left: Node
    right: Node


Node = Name | WithException | Combined
OperatorOf = Callable[[str], str | None]


def _any_case(token: str) -> str | None:
    upper = token.upper()
    return upper if upper in {"AND", "OR", "WITH"} else None


def _upper_only(token: str) -> str | None:
    return token if token in {"AND", "OR", "WITH"} else None


class _Parser:
    """Recursive descent: OR binds loosest, then AND, then WITH; parentheses group."""

    def __init__(self, tokens: Sequence[str], operator_of: OperatorOf) -> None:
        self._tokens = tokens
        self._operator_of = operator_of
        self._at = 0
        self._depth = 0

    def _peek(self) -> str | None:
        return self._tokens[self._at] if self._at < len(self._tokens) else None

    def _operator(self) -> str | None:
        token = self._peek()
        return None if token is None else self._operator_of(token)

    def parse(self) -> Node:
        node = self._or()
        if self._peek() is not None:
            raise ExpressionError(f"unexpected {self._peek()!r}")
        return node

    def _or(self) -> Node:
        node = self._and()
        while self._operator() == "OR":
            self._at += 1
            node = Combined("OR", node, self._and())
        return node

    def _and(self) -> Node:
        node = self._with()
        while self._operator() == "AND":
            self._at += 1
            node = Combined("AND", node, self._with())
        return node

    def _with(self) -> Node:
        node = self._atom()
        if self._operator() == "WITH":
            self._at += 1
            if not isinstance(node, Name):
                raise ExpressionError("WITH must follow a licence name")
            return WithException(node.text, self._words())
        return node

    def _atom(self) -> Node:
        if self._peek() == "(":
            self._at += 1
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise ExpressionError("parentheses nested too deeply")
            node = self._or()
            if self._peek() != ")":
                raise ExpressionError("missing ')'")
            self._at += 1
            self._depth -= 1
            return node
        return Name(self._words())

    def _words(self) -> str:
        words: list[str] = []
        while (token := self._peek()) is not None:
            if token in {"(", ")", ","} or self._operator_of(token) is not None:
                break
            words.append(token)
            self._at += 1
        if not words:
            raise ExpressionError(f"expected a licence name at {self._peek()!r}")
        return " ".join(words)


def _tokens(text: str) -> list[str]:
    if len(text) > MAX_EXPRESSION:
        raise ExpressionError("expression too long")
    tokens = _TOKEN.findall(text)
    if not tokens:
        raise ExpressionError("empty expression")
    return tokens


def parse_expression(text: str, *, commas: bool = False, strict: bool = False) -> Node:
    """The tree of ``text``. ``commas``: Debian's low-precedence ", and" / ", or".
    ``strict``: SPDX operators (upper case only)."""
    tokens = _tokens(text)
    operator_of = _upper_only if strict else _any_case
    segments: list[list[str]] = [[]]
    for piece in tokens:
        if commas and piece == ",":
            segments.append([])
        else:
            segments[-1].append(piece)
    node = _Parser(segments[0], operator_of).parse()
    for segment in segments[1:]:
        operator = operator_of(segment[0]) if segment else None
        if operator not in {"AND", "OR"}:
            raise ExpressionError("a comma must be followed by 'and' or 'or'")
        node = Combined(operator, node, _Parser(segment[1:], operator_of).parse())
    return node


def _spdx_id(name: str) -> str | None:
    return _LICENCE_BY_FOLD.get(name.casefold())


def _render(
    node: Node,
    licence: Callable[[str], str | None],
    exception: Callable[[str], str | None],
) -> tuple[str, str] | None:
    """(SPDX text, its top operator) or None when a part does not map."""
    if isinstance(node, Name):
        mapped = licence(node.text)
        if mapped is None:
            return None
        return mapped, ("OR" if " OR " in mapped else "AND" if " AND " in mapped else "")
    if isinstance(node, WithException):
        base, extra = licence(node.licence), exception(node.exception)
        if base is None or extra is None or " " in base:
            return None
        return f"{base} WITH {extra}", ""
    left = _render(node.left, licence, exception)
    right = _render(node.right, licence, exception)
    if left is None or right is None:
        return None
    # AND binds tighter than OR; a mixed child is parenthesised anyway, for the reader.
    parts = [f"({text})" if top and top != node.operator else text for text, top in (left, right)]
    return f"{parts[0]} {node.operator} {parts[1]}", node.operator


def _debian_licence(name: str) -> str | None:
    return DEBIAN_NAMES.get(name.casefold()) or _spdx_id(name)


def _debian_exception(text: str) -> str | None:
    folded = text.casefold()
    keyword = folded.removesuffix(" exception").strip()
    return (
        DEBIAN_EXCEPTIONS.get(keyword)
        or _EXCEPTION_BY_FOLD.get(keyword)
        or _EXCEPTION_BY_FOLD.get(folded)
    )


def _fedora_licence(name: str) -> str | None:
    return FEDORA_LEGACY_NAMES.get(name.casefold()) or _spdx_id(name)


def _spdx_exception(text: str) -> str | None:
    return _EXCEPTION_BY_FOLD.get(text.casefold())


def debian_to_spdx(declared: str) -> str:
    """The SPDX expression of a Debian License short-name line, "" when any part is unknown."""
    try:
        node = parse_expression(declared, commas=True)
    except ExpressionError:
        return ""
    rendered = _render(node, _debian_licence, _debian_exception)
    return rendered[0] if rendered else ""


def _valid_spdx_node(node: Node) -> bool:
    if isinstance(node, Name):
        text = node.text
        base = text.removesuffix("+")
        return base in SPDX_LICENCE_IDS or bool(_LICENCE_REF.fullmatch(text))
    if isinstance(node, WithException):
        return _valid_spdx_node(Name(node.licence)) and (
            node.exception in SPDX_EXCEPTION_IDS or bool(_ADDITION_REF.fullmatch(node.exception))
        )
    return _valid_spdx_node(node.left) and _valid_spdx_node(node.right)


def is_spdx_expression(text: str) -> bool:
    """True when ``text`` is a valid SPDX expression of listed identifiers."""
    try:
        return _valid_spdx_node(parse_expression(text, strict=True))
    except ExpressionError:
        return False


def rpm_to_spdx(declared: str) -> str:
    """The SPDX expression of an RPM License tag: as-is when it is one already, else mapped
    from Fedora's legacy names; "" when any part is unknown."""
    declared = " ".join(declared.split())
    if not declared:
        return ""
    if is_spdx_expression(declared):
        return declared
    try:
        node = parse_expression(declared)
    except ExpressionError:
        return ""
    rendered = _render(node, _fedora_licence, _spdx_exception)
    return rendered[0] if rendered else ""
