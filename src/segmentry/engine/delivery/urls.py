"""Which webhook URLs segmentry will call.

http and https only, with a host; the host's addresses must all be public
(not private, loopback, link-local, shared, reserved or multicast) unless
the server runs with ``--allow-private-webhooks``. The check runs when a
webhook is saved and again before each delivery, since a name can come to
resolve elsewhere.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from segmentry.errors import ValidationError

MAX_URL = 2_000


class UnsafeAddressError(ValidationError):
    """The URL's host resolves to an address segmentry must not call."""


def check_url(url: object, *, allow_private: bool) -> str:
    """The URL if segmentry may call it; a ValidationError naming ``url`` if not."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise ValidationError(f"url must be a text of 1 to {MAX_URL} characters", field="url")
    if not url.isascii() or not url.isprintable():
        raise ValidationError("url must be printable ASCII (encode other text)", field="url")
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise ValidationError(f"url {url!r} is not a valid URL", field="url") from None
    if parts.scheme not in ("http", "https"):
        raise ValidationError(
            f"url must be http:// or https://, not {parts.scheme or 'without a scheme'!r}",
            field="url",
        )
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ValidationError(f"url {url!r} has an invalid port", field="url") from None
    if not host:
        raise ValidationError(f"url {url!r} has no host", field="url")
    check_host(host, port or (443 if parts.scheme == "https" else 80), allow_private=allow_private)
    return url


def check_host(host: str, port: int, *, allow_private: bool) -> None:
    for address in resolve(host, port):
        if not allow_private and not is_public(address):
            raise UnsafeAddressError(
                f"url host {host!r} is the private, loopback or link-local address {address}; "
                "a server started with --allow-private-webhooks accepts those",
                field="url",
            )


def resolve(host: str, port: int) -> list[str]:
    if is_address(host):  # an address is its own answer: no lookup, no thread
        return [host]
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeAddressError(f"url host {host!r} does not resolve", field="url") from None
    return sorted({str(info[4][0]) for info in found})


def is_address(host: str) -> bool:
    """Whether the host is an IP address rather than a name (resolving it asks no one)."""
    try:
        _ip(host)
    except ValueError:
        return False
    return True


def is_public(address: str) -> bool:
    ip = _ip(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address without its IPv6 zone (``fe80::1%eth0``); ValueError if not one."""
    return ipaddress.ip_address(address.split("%", 1)[0])
