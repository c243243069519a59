"""Collector addresses: HOST:PORT, with IPv6 hosts in brackets ("[::1]:50051")."""

from __future__ import annotations

from dataclasses import dataclass


class AddressError(ValueError):
    """A collector address that is not HOST:PORT."""


@dataclass(frozen=True, slots=True)
class Address:
    """A host and TCP port."""

    host: str
    port: int

    @property
    def target(self) -> str:
        """The gRPC target string."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        return self.target


def parse_address(text: str) -> Address:
    """Parses HOST:PORT (IPv6 as [HOST]:PORT)."""
    raw = text.strip()
    if raw.startswith("["):
        host, sep, rest = raw[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise AddressError(f"{text!r} is not [IPV6]:PORT")
        port_text = rest[1:]
    else:
        host, sep, port_text = raw.rpartition(":")
        if not sep:
            raise AddressError(f"{text!r} is not HOST:PORT (the port is missing)")
        if ":" in host:
            raise AddressError(f"{text!r}: write an IPv6 address in brackets, [HOST]:PORT")
    if not host or any(c.isspace() or c in "/@?#" for c in host):
        raise AddressError(f"{text!r} has no valid host")
    if not port_text.isascii() or not port_text.isdigit():
        raise AddressError(f"{text!r}: the port must be a number")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise AddressError(f"{text!r}: the port must be between 1 and 65535")
    return Address(host, port)


def default_enroll_address(server: Address) -> Address:
    """The enrolment port's default: the agent port plus one on the same host."""
    if server.port >= 65535:
        raise AddressError(f"{server}: no port after it for enrolment; give --enroll-server")
    return Address(server.host, server.port + 1)
