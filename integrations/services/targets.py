"""Where the platform may send a request on a university's behalf (webhook receivers), and how.

A university chooses the URL, so the URL must not reach into our own network (SSRF): not a
loopback, private, link-local, multicast, reserved or unspecified address, nor one of those
disguised in IPv6 (IPv4-mapped, IPv4-compatible, 6to4, Teredo, NAT64). A literal address is not
enough to look at: a public name can resolve to 127.0.0.1 (`localtest.me`), and a name can answer
a public address to the check and a private one a second later (DNS rebinding). So:

1. `target_resolve` looks the name up once and refuses it if *any* address it resolves to is not
   public (unless `WEBHOOK_ALLOW_PRIVATE_HOSTS`, for labs and tests);
2. `PinnedTarget.post` dials those checked addresses only (never the name again), sending the
   name in the Host header and, for https, as the TLS SNI name, and verifies the certificate for
   the name (CA bundle: `WEBHOOK_CA_BUNDLE`, default certifi's).

Subscriptions are checked the same way when they are made, so a mistake is a 400 at once.
"""

import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings

from kernel.errors import ApplicationError

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Names that only ever mean this machine or its network, whatever a resolver answers.
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(ApplicationError):
    """The URL cannot be a webhook target. `extra["code"]`: `private_host`, `unresolvable_host`
    or `invalid`."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries, which a gateway may deliver to."""
    found = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found += list(ip.teredo)
    if ip in _IPV4_COMPATIBLE and int(ip) > 0xFFFF:  # ::a.b.c.d, deprecated but still routed by some
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def is_public_address(ip: IPAddress) -> bool:
    """A globally routable unicast address that hides no internal IPv4 address."""
    if isinstance(ip, ipaddress.IPv6Address) and any(ip in net for net in _NAT64):
        # A NAT64 gateway delivers to the IPv4 address in the low 32 bits (DNS64 makes these for
        # IPv4-only hosts); Python counts the whole prefix as reserved.
        return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    ):
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:
            return False
        return all(is_public_address(v4) for v4 in _embedded_ipv4(ip))
    return True


@dataclass
class PinnedTarget:
    """A URL and the addresses its name resolved to (all checked): requests go to those only."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: list[str]
    _pools: dict = field(default_factory=dict, repr=False)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    def _pool(self, address: str, timeout: float):
        if address not in self._pools:
            common = {"port": self.port, "timeout": urllib3.Timeout(total=timeout), "retries": False, "maxsize": 1}
            if self.scheme == "https":
                # The name goes out as SNI, and the standard library checks the certificate for it
                # (check_hostname): urllib3 only checks it itself when given assert_hostname.
                self._pools[address] = urllib3.HTTPSConnectionPool(
                    address, **common, ssl_context=_tls_context(settings.WEBHOOK_CA_BUNDLE or certifi.where()),
                    server_hostname=self.host, cert_reqs="CERT_REQUIRED",
                )  # fmt: skip
            else:
                self._pools[address] = urllib3.HTTPConnectionPool(address, **common)
        return self._pools[address]

    def post(self, *, body: bytes, headers: dict, timeout: float) -> int:
        """POST to the first checked address that accepts a connection; the status code. Raises
        urllib3's HTTPError subclasses (connection refused, timeout, TLS failure...)."""
        last_error = None
        for address in self.addresses:
            try:
                response = self._pool(address, timeout).urlopen(
                    "POST", self.path, body=body, headers={**headers, "Host": self.host_header},
                    redirect=False, retries=False, assert_same_host=False, preload_content=False,
                )  # fmt: skip
            except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError) as exc:
                last_error = exc  # nothing was sent: the next checked address may answer
                continue
            # Only the status matters: the body is read and dropped (never held in memory).
            response.drain_conn()
            response.release_conn()
            return response.status
        raise last_error

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()


@cache
def _tls_context(ca_bundle: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_bundle)
    context.check_hostname = True
    return context


def _split(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    if scheme not in _DEFAULT_PORTS or not parts.hostname or port == -1:
        raise TargetRefused("Use an http or https URL with a host name.", extra={"code": "invalid"})
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname, port or _DEFAULT_PORTS[scheme], path


def target_resolve(url: str) -> PinnedTarget:
    """Resolve the URL's host once and check every address (see the module's docstring)."""
    scheme, host, port, path = _split(url)
    if not settings.WEBHOOK_ALLOW_PRIVATE_HOSTS and (host == "localhost" or host.endswith(_LOCAL_SUFFIXES)):
        raise TargetRefused(f"{host} is a local name.", extra={"code": "private_host"})
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"{host} does not resolve ({exc}).", extra={"code": "unresolvable_host"}) from exc
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TargetRefused(f"{host} does not resolve.", extra={"code": "unresolvable_host"})
    if not settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        internal = [a for a in addresses if not is_public_address(ipaddress.ip_address(a))]
        if internal:
            raise TargetRefused(
                f"{host} resolves to {', '.join(internal)}: not a public address.", extra={"code": "private_host"}
            )
    return PinnedTarget(scheme=scheme, host=host, port=port, path=path, addresses=addresses)
