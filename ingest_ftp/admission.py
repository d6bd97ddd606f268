"""Which control connections get in, beyond pyftpdlib's own limits.

pyftpdlib caps connections in total (`FTPServer.max_cons`) and per address
(`max_cons_per_ip`). That left the pool to whoever filled it first: 56 addresses with 19
silent connections each took all 1,024 places, and every camera got `421` for the whole
idle timeout. `Admission` adds two rules (the handler adds a third: a connection must log
in within `SENSR_FTP_LOGIN_TIMEOUT`):

* a cap per network (/24 for IPv4, /64 for IPv6): one attacker's addresses are seldom
  scattered, and a /64 is what a single IPv6 host is usually given;
* a share of the pool for connections that have not logged in yet (`max_waiting`); the
  rest stays for logged-in cameras. When that share is full a newcomer still gets in:
  the oldest waiting connection of the network with the most waiting connections gives
  way. A flood therefore mostly displaces itself, while a camera, which logs in within
  moments of connecting, gets through.

Pure bookkeeping (no sockets): the handler reports arrivals, logins and closes, and
closes the connection `arrive()` names. All calls happen on the IOLoop thread.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Hashable, Iterable
from functools import lru_cache
from typing import Generic, TypeVar

IPV4_PREFIX = 24
IPV6_PREFIX = 64

C = TypeVar("C", bound=Hashable)


@lru_cache(maxsize=65_536)
def network_of(address: str) -> str:
    """The network an address counts against: `192.0.2.7` -> `192.0.2.0/24`,
    `2001:db8::1` -> `2001:db8::/64` (an IPv4-mapped IPv6 address counts as IPv4)."""
    ip = ipaddress.ip_address(address.partition("%")[0])  # without an IPv6 zone index
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


class Admission(Generic[C]):
    """Connections per network, and the connections still waiting to log in.

    `max_per_network` <= 0 means no cap per network.
    """

    def __init__(self, max_per_network: int, max_waiting: int) -> None:
        self.max_per_network = max_per_network
        self.max_waiting = max_waiting
        self._waiting: dict[C, str] = {}  # in order of arrival: connection -> its network
        self._waiting_per_network: Counter[str] = Counter()

    def network_full(self, address: str, connected: Iterable[str]) -> bool:
        """Whether a newcomer from `address` would take its network over the cap;
        `connected` are the addresses of all control connections, the newcomer's included."""
        if self.max_per_network <= 0:
            return False
        network = network_of(address)
        return sum(1 for other in connected if network_of(other) == network) > self.max_per_network

    def arrive(self, connection: C, address: str) -> C | None:
        """Count `connection` as waiting to log in. Returns the waiting connection that must
        now be closed to keep within `max_waiting` (the newcomer itself only when
        `max_waiting` is 0), or None."""
        network = network_of(address)
        self._waiting[connection] = network
        self._waiting_per_network[network] += 1
        if len(self._waiting) <= self.max_waiting:
            return None
        busiest = max(self._waiting_per_network.values())
        displaced = next(other for other, net in self._waiting.items() if self._waiting_per_network[net] == busiest)
        self.leave(displaced)
        return displaced

    def leave(self, connection: C) -> None:
        """`connection` logged in or closed: it no longer waits (no-op if it was not waiting)."""
        network = self._waiting.pop(connection, None)
        if network is None:
            return
        self._waiting_per_network[network] -= 1
        if self._waiting_per_network[network] <= 0:
            del self._waiting_per_network[network]

    @property
    def waiting(self) -> int:
        """Connections counted as waiting to log in."""
        return len(self._waiting)
