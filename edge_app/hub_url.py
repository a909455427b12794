"""Which hub URLs a device will talk to: https anywhere, plain http only to this
machine (loopback), unless the person enrolling says `--insecure` (a lab, a demo).
A device token and the PINs' proofs are bearer secrets: on store Wi-Fi, in clear,
anyone on the network could copy them."""

from __future__ import annotations

import ipaddress
import ssl
from urllib.parse import urlsplit

from edge_app.errors import InsecureHub

__all__ = ["checked_hub_url", "is_loopback", "tls_verify"]


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def tls_verify(ca_file: str | None) -> ssl.SSLContext | bool:
    """What httpx checks the hub's certificate against: the given one (a hub with its
    own certificate), or the system's authorities."""
    return ssl.create_default_context(cafile=ca_file) if ca_file else True


def checked_hub_url(url: str, insecure: bool = False) -> str:
    """The URL without a trailing slash; raises InsecureHub for plain http to another
    machine (unless `insecure`) and for anything but http and https."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InsecureHub(f"{url!r} is not a hub address: use https://HOST:PORT")
    if parts.scheme == "http" and not insecure and not is_loopback(parts.hostname):
        raise InsecureHub(f"{url} is plain http: tokens and PINs would cross the network in clear. "
                          "Use https:// (see README, TLS), or --insecure on a network you trust.")
    return url.strip().rstrip("/")
