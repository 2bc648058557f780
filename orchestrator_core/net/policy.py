"""Which destinations an outbound request may reach (SSRF guard).

Only ``http``/``https``; no userinfo; the host is resolved and *every* address it resolves to
must be public: loopback, RFC 1918, link-local (cloud metadata at 169.254.169.254), CGNAT
100.64/10, multicast, reserved, unspecified, IPv6 ULA/link-local/site-local and IPv6 forms that
embed such an IPv4 address (IPv4-mapped/-compatible, 6to4, NAT64) are refused. Numeric host
spellings (``2130706433``, ``0x7f000001``, ``0177.0.0.1``) are decoded the way the C resolver
decodes them before the check, so they cannot slip past.

`EgressPolicy.resolve` is called by the client's network backend at connect time, and the
socket connects to the address that was checked (the IP is pinned: no DNS-rebinding window).
An admin allowlist (``allow_hosts``: host names, IP literals or CIDR networks) lifts the
private-address check for named destinations, e.g. an intranet API or the tests' 127.0.0.1 stub.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from orchestrator_core.errors import ErrorCode, NodeError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) -> IP address strings`` (the default asks ``socket.getaddrinfo``)."""

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
BLOCKED_NAMES = frozenset({"localhost", "metadata.google.internal", "metadata", "instance-data"})
_NUMERIC_HOST = re.compile(r"^[0-9a-fA-FxX.]+$")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPAT = ipaddress.ip_network("::/96")
_ULA = ipaddress.ip_network("fc00::/7")


class DestinationNotAllowed(NodeError):
    """The URL or the address it resolves to is not allowed (checked before any connection)."""

    code = ErrorCode.DESTINATION_NOT_ALLOWED


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _v4_reason(ip: ipaddress.IPv4Address) -> str | None:
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip in _CGNAT, "shared (CGNAT)"),
        (ip.is_private, "private"),
        (ip.is_multicast, "multicast"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "not global"),
    )
    return next((why for bad, why in checks if bad), None)


def ip_block_reason(ip: IPAddress) -> str | None:
    """Why the address may not be reached, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv4Address):
        return _v4_reason(ip)
    embedded: ipaddress.IPv4Address | None = None
    if ip.ipv4_mapped is not None:
        embedded = ip.ipv4_mapped
    elif ip.sixtofour is not None:
        embedded = ip.sixtofour
    elif ip in _NAT64:
        embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    elif ip in _IPV4_COMPAT and int(ip) > 1:
        embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if embedded is not None:
        why = _v4_reason(embedded)
        return f"embeds a {why} IPv4 address" if why else None
    if ip.teredo is not None:
        return "Teredo"
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip in _ULA, "unique local"),
        (ip.is_site_local, "site-local"),
        (ip in _NAT64_LOCAL, "local NAT64"),
        (ip.is_private, "private"),
        (ip.is_multicast, "multicast"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "not global"),
    )
    return next((why for bad, why in checks if bad), None)


def literal_ip(host: str) -> IPAddress | None:
    """The address a host spells, as the C resolver reads it (``0x7f000001`` too), or None."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        pass
    if _NUMERIC_HOST.match(bare) and any(c.isdigit() for c in bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def normalize_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    """Lower-case, without brackets or a trailing dot."""
    port: int


@dataclass(frozen=True)
class EgressPolicy:
    """Where outbound requests may go.

    Args:
        allow_hosts: host names, IP literals or CIDR networks (``10.1.0.0/16``) the admin allows
            even though they are private. Names match the URL's host exactly (no resolution).
        resolver: ``(host, port) -> [ip, ...]``; inject a stub in tests.
    """

    allow_hosts: frozenset[str] = frozenset()
    resolver: Resolver = field(default=system_resolver, repr=False)

    @classmethod
    def build(cls, allow_hosts: Iterable[str] = (), resolver: Resolver | None = None) -> EgressPolicy:
        hosts = frozenset(normalize_host(h) for h in allow_hosts if h and h.strip())
        return cls(allow_hosts=hosts, resolver=resolver or system_resolver)

    def _networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        out: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in self.allow_hosts:
            try:
                out.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                continue
        return out

    def host_allowed(self, host: str) -> bool:
        return normalize_host(host) in self.allow_hosts

    def check_url(self, url: str) -> Target:
        """Static checks (no DNS): scheme, userinfo, a host.

        Raises:
            DestinationNotAllowed
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise DestinationNotAllowed("The URL is not valid.", details={"reason": "invalid url"}) from exc
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise DestinationNotAllowed(
                "Destination not allowed: only http and https URLs.", details={"reason": "scheme"}
            )
        if "@" in parts.netloc:
            raise DestinationNotAllowed(
                "Destination not allowed: credentials in the URL; use a connector.",
                details={"reason": "userinfo"},
            )
        host = normalize_host(parts.hostname or "")
        if not host:
            raise DestinationNotAllowed(
                "Destination not allowed: the URL has no host.", details={"reason": "host"}
            )
        return Target(scheme=scheme, host=host, port=port or DEFAULT_PORTS[scheme])

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """The checked addresses to connect to (in resolver order).

        Raises:
            DestinationNotAllowed: the host or any address it resolves to is not allowed.
            NodeError: HTTP_ERROR when the name does not resolve.
        """
        name = normalize_host(host)
        allowed_by_name = name in self.allow_hosts
        if not allowed_by_name and (name in BLOCKED_NAMES or name.endswith(".localhost")):
            raise self._refused(name, "internal host name")
        literal = literal_ip(name)
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            try:
                answers = self.resolver(name, port)
            except (OSError, UnicodeError) as exc:
                raise NodeError(
                    f"Could not resolve host {name[:100]!r}.",
                    code=ErrorCode.HTTP_ERROR,
                    details={"reason": "dns"},
                ) from exc
            addresses = []
            for answer in answers:
                ip = literal_ip(str(answer))
                if ip is None:
                    raise self._refused(name, "unparseable resolver answer")
                addresses.append(ip)
            if not addresses:
                raise NodeError(
                    f"Could not resolve host {name[:100]!r}.",
                    code=ErrorCode.HTTP_ERROR,
                    details={"reason": "dns"},
                )
        if allowed_by_name:
            return addresses
        networks = self._networks()
        for ip in addresses:
            if any(ip.version == net.version and ip in net for net in networks):
                continue
            why = ip_block_reason(ip)
            if why is not None:
                raise self._refused(name, why)
        return addresses

    def check(self, url: str) -> tuple[Target, list[IPAddress]]:
        """`check_url` then `resolve`: everything short of connecting."""
        target = self.check_url(url)
        return target, self.resolve(target.host, target.port)

    @staticmethod
    def _refused(host: str, why: str) -> DestinationNotAllowed:
        return DestinationNotAllowed(
            f"Destination not allowed: {host[:100]} ({why}).",
            details={"reason": why, "host": host[:253]},
        )
