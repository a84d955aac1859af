"""Outgoing HTTP to addresses a user typed in (webhooks): no SSRF.

A webhook URL is user input, and the server that fetches it sits inside the shop's network
next to the database, the cloud metadata service (169.254.169.254) and admin consoles. So:

1. only http and https, no user:password in the URL;
2. the host is resolved once, here; every address it resolves to must be public
   (`ipaddress.is_global`, not multicast; IPv4-mapped IPv6 is judged as the IPv4 it
   carries), otherwise the request is refused before any byte is sent;
3. the connection goes to the address that was checked (the URL is rewritten to the IP,
   the Host header and the TLS SNI / certificate check keep the real name), so a DNS
   answer that changes between the check and the connect (DNS rebinding) cannot move the
   request to an internal address;
4. redirects are never followed (a public URL answering 302 to http://127.0.0.1/ would
   otherwise walk straight past the check);
5. unless the target is on the allowlist: a host name (exact, case-insensitive) or an
   address / network (CIDR) that the operator put in tokui.toml on purpose, for a call
   center system on the local network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]


class UnsafeTargetError(ValueError):
    """The URL points somewhere the server must not send requests; says why."""


async def system_resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return is_public(ip.ipv4_mapped)
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class Allowlist:
    hosts: frozenset[str]
    networks: tuple[Network, ...]

    @classmethod
    def parse(cls, entries: Sequence[str]) -> Allowlist:
        hosts: set[str] = set()
        networks: list[Network] = []
        for entry in entries:
            text = entry.strip().strip("[]")
            if not text:
                continue
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                hosts.add(text.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_ip(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (pinned IP) and what to call the host."""

    url: str  # the URL with the host replaced by the pinned IP
    host: str  # the name for the Host header and TLS
    ip: str
    scheme: str


async def check_target(url: str, allow: Allowlist, resolve: Resolver = system_resolve) -> Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeTargetError(f"{url!r}: only http and https URLs")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTargetError("credentials in the URL are not allowed; use the signature")
    host = parts.hostname
    if not host:
        raise UnsafeTargetError(f"{url!r}: no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = await resolve(host, port)
        except OSError as exc:
            raise ConnectionError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise ConnectionError(f"cannot resolve {host}: no addresses")
    host_allowed = literal is None and allow.allows_host(host)
    for text in addresses:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
        if not (is_public(ip) or host_allowed or allow.allows_ip(ip)):
            raise UnsafeTargetError(
                f"{host} resolves to {ip}, a private, loopback, link-local or reserved "
                "address; add it to [webhook] allow in tokui.toml if this is intended"
            )
    pinned = addresses[0].split("%", 1)[0]
    netloc_ip = f"[{pinned}]" if ":" in pinned else pinned
    netloc = f"{netloc_ip}:{parts.port}" if parts.port else netloc_ip
    pinned_url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = host if not parts.port else f"{parts.hostname}:{parts.port}"
    if literal is not None and literal.version == 6:
        host_header = f"[{host}]" + (f":{parts.port}" if parts.port else "")
    return Target(url=pinned_url, host=host_header, ip=pinned, scheme=parts.scheme)


async def post_pinned(
    client: httpx.AsyncClient,
    target: Target,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
) -> httpx.Response:
    """POST to the pinned address; the caller's client must not follow redirects."""
    extensions: dict[str, str] = {}
    if target.scheme == "https":
        extensions["sni_hostname"] = target.host.rsplit(":", 1)[0].strip("[]")
    return await client.post(
        target.url,
        content=body,
        headers={**headers, "Host": target.host},
        timeout=timeout,
        extensions=extensions,
        follow_redirects=False,
    )
