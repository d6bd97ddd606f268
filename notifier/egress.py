"""Which addresses the notifier may call (server-side request forgery guard).

Webhook and push URLs are written by camera owners, and the notifier calls them from
inside the installation: without a guard, a rule could make it call the metadata
service (169.254.169.254), the broker, the database or a router's admin page. So every
address a call would go to must be public, unless the operator allows its network
(`SENSR_NOTIFIER_ALLOWED_NETWORKS`, e.g. a LAN's Home Assistant).

The check happens in the resolver the HTTP client connects through (`GuardedResolver`):
the addresses checked are the addresses connected to, so a name whose DNS answer
changes between a check and the connection (DNS rebinding) gains nothing. A name with
several addresses is refused if any of them is refused.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from pathlib import Path
from typing import Any

from tornado.netutil import DefaultLoopResolver, Resolver

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network


class RefusedAddress(Exception):
    """A call would go to an address the notifier may not reach; never retried."""

    def __init__(self, host: str, address: Address, reason: str) -> None:
        where = f"{host} is" if host.strip("[]") == str(address) else f"{host} resolves to {address},"
        super().__init__(f"{where} a {reason} address; allow its network in SENSR_NOTIFIER_ALLOWED_NETWORKS to call it")
        self.host = host
        self.address = address
        self.reason = reason


def non_public_reason(address: Address) -> str | None:
    """Why `address` is not a public unicast address (`"loopback"`, `"private"`...), or None.

    An IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is judged as the IPv4 address
    it reaches.
    """
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for reason, applies in (("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
                            ("link-local", address.is_link_local), ("multicast", address.is_multicast),
                            ("reserved", address.is_reserved), ("private", address.is_private),
                            ("non-global", not address.is_global)):
        if applies:
            return reason
    return None


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """Public addresses, plus the networks the operator allows."""

    allowed_networks: tuple[Network, ...] = ()

    def check(self, host: str, address: Address) -> None:
        """Raise `RefusedAddress` unless the notifier may call `address` (resolved from `host`)."""
        reason = non_public_reason(address)
        if reason is None or any(self._allows(network, address) for network in self.allowed_networks):
            return
        raise RefusedAddress(host, address, reason)

    @staticmethod
    def _allows(network: Network, address: Address) -> bool:
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None and network.version == 4:
            address = address.ipv4_mapped
        return address.version == network.version and address in network


class GuardedResolver(Resolver):
    """A Tornado resolver that answers only with addresses the policy allows.

    Give it to `SimpleAsyncHTTPClient(resolver=...)`: the client connects to exactly
    the addresses returned here (and still verifies TLS against the host name).
    """

    def initialize(self, policy: EgressPolicy, resolver: Resolver | None = None) -> None:  # type: ignore[override]
        self._policy = policy
        self._resolver = resolver or DefaultLoopResolver()

    async def resolve(self, host: str, port: int,
                      family: socket.AddressFamily = socket.AF_UNSPEC) -> list[tuple[int, Any]]:
        addresses = await self._resolver.resolve(host, port, family)
        _check_all(self._policy, host, (sockaddr[0] for _family, sockaddr in addresses))
        return addresses


def _check_all(policy: EgressPolicy, host: str, literals: Iterable[str]) -> None:
    for literal in literals:
        policy.check(host, ip_address(literal.split("%", 1)[0]))


async def check_host(policy: EgressPolicy, host: str, port: int) -> None:
    """Resolve `host` now and raise `RefusedAddress` if any of its addresses is refused.

    For clients that resolve on their own (Apprise): this narrows, but cannot close,
    the window for DNS rebinding.
    """
    await GuardedResolver(policy=policy).resolve(host, port)


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The TLS context of the notifier's calls: certificates verified against the host
    name, by the system's certificate authorities or those in `ca_file`."""
    return ssl.create_default_context(cafile=ca_file)
