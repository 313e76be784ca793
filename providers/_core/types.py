"""Value types shared by the stack config and the providers' settings models (pydantic).

One declaration per kind of value: an API endpoint URL, an NFS store, an image URL, an address, a
MAC, a name as each backend accepts it. The stack config (`components/config/`) and each
backend's settings model use these, so a value is parsed and checked once, with the same rule
wherever it appears. Every check raises `ValueError` with the reason only: the caller names the
config path and shows the value (masked where it is a secret).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from typing import Annotated
from urllib.parse import SplitResult, unquote, urlsplit

from pydantic import AfterValidator, AllowInfNan, BeforeValidator, Strict

# --- text -------------------------------------------------------------------------------------


def control_character(value: str) -> str | None:
    """The first control (or other invisible format) character of `value`, described, or None."""
    for i, ch in enumerate(value):
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            where = "a trailing" if i == len(value) - 1 else f"at offset {i} a"
            return f"{where} control character {ch!r}" if ch.isascii() else f"{where} character U+{ord(ch):04X}"
    return None


def _single_line(value: str) -> str:
    found = control_character(value)
    if found is not None:
        raise ValueError(f"has {found}; values are one line of printable text")
    return value


SingleLine = Annotated[str, AfterValidator(_single_line)]
"""Text of one line: no newline (a trailing one included), tab or other control character."""


def _matching(pattern: str, rule: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        _single_line(value)
        if not compiled.fullmatch(value):
            raise ValueError(rule)
        return value

    return check


DnsLabel = Annotated[
    str,
    AfterValidator(_matching(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?",
                             "must be lower-case letters, digits and '-', at most 63 characters, "
                             "starting and ending with a letter or digit")),
]
"""A DNS label (RFC 1123): region, server (Ironic node) and pool names, which also name Pulumi resources."""


def _label(what: str, max_len: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        _single_line(value)
        if not value or value != value.strip():
            raise ValueError(f"{what} must not be empty or begin or end with a space")
        if len(value) > max_len:
            raise ValueError(f"{what} is at most {max_len} characters, this one has {len(value)}")
        return value

    return check


CloudStackName = Annotated[str, AfterValidator(_label("a CloudStack name", 255))]
"""A CloudStack object name (zone, pod, physical network): CloudStack stores names as varchar(255)."""

XapiNameLabel = Annotated[str, AfterValidator(_label("an XAPI name-label", 255))]
"""An XAPI name-label (network, SR): one line; CloudStack traffic labels must equal it exactly."""

CephPoolName = Annotated[
    str,
    AfterValidator(_matching(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,126}",
                             "a Ceph pool name is letters, digits, '_', '-' and '.', at most 127 "
                             "characters, and must not begin with '.' (Ceph's own pools do)")),
]
"""A Ceph pool name: no '/' or '@' (they split RBD image and snapshot specs), no leading '.'."""

RgwUserId = Annotated[
    str,
    AfterValidator(_matching(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}",
                             "an RGW user id is letters, digits, '_', '.', '@' and '-', at most 64 "
                             "characters ('$' names a tenant and ':' a subuser)")),
]
"""An RGW user id without tenant or subuser."""

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def _s3_bucket(value: str) -> str:
    """The S3 bucket naming rules (AWS, which RGW follows with rgw_relaxed_s3_bucket_names off)."""
    _single_line(value)
    if not _BUCKET.fullmatch(value):
        raise ValueError("an S3 bucket name is 3 to 63 lower-case letters, digits, '.' and '-', "
                         "starting and ending with a letter or digit")
    if ".." in value or ".-" in value or "-." in value:
        raise ValueError("an S3 bucket name must not contain '..', '.-' or '-.'")
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        pass
    else:
        raise ValueError("an S3 bucket name must not look like an IP address")
    if value.startswith("xn--") or value.endswith("-s3alias"):
        raise ValueError("an S3 bucket name must not begin with 'xn--' or end with '-s3alias'")
    return value


S3BucketName = Annotated[str, AfterValidator(_s3_bucket)]

DeviceName = Annotated[
    str, AfterValidator(_matching(r"eth[0-9]{1,3}", "an XCP-ng PIF device is 'eth' and a number, e.g. eth1"))
]
"""A physical interface of an XCP-ng host as XAPI names it (PIF.device)."""

# --- addresses --------------------------------------------------------------------------------


def _address_text(value: object) -> object:
    if isinstance(value, (bool, int, float)):
        raise ValueError("an address is written as text, e.g. 192.0.2.1 (a number is read as one)")
    return value


def _netmask(value: ipaddress.IPv4Address) -> ipaddress.IPv4Address:
    host = ~int(value) & 0xFFFFFFFF  # a netmask's host bits are all at the end: 0...01...1
    if host & (host + 1):
        raise ValueError("not a contiguous netmask (ones, then zeros, e.g. 255.255.255.0)")
    return value


IPv4 = Annotated[ipaddress.IPv4Address, BeforeValidator(_address_text)]
"""An IPv4 address written as text: YAML's `99999` or `true` would otherwise pass as 0.1.134.159
or 0.0.0.1."""

Netmask = Annotated[IPv4, AfterValidator(_netmask)]
"""A netmask, ones then zeros: not a host mask (0.0.0.255, which `ipaddress` reads as /24 where
CloudStack would take it as written)."""

IPv4Cidr = Annotated[ipaddress.IPv4Network, BeforeValidator(_address_text)]
"""An IPv4 network in CIDR form, e.g. 10.1.0.0/16, written as text."""

# --- hardware ---------------------------------------------------------------------------------


def _mac(value: str) -> str:
    _single_line(value)
    if not re.fullmatch(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}", value):
        raise ValueError("a MAC address is six hex pairs separated by ':', e.g. 52:54:00:00:01:01")
    if int(value[:2], 16) & 1:
        raise ValueError("a multicast MAC address is no NIC's address")
    return value.lower()


Mac = Annotated[str, AfterValidator(_mac)]
"""A NIC's MAC address, normalised to lower case (so uniqueness is case-insensitive)."""

# --- addresses --------------------------------------------------------------------------------


def _ip(value: str) -> str:
    _single_line(value)
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("is not an IP address") from None


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"port {text!r} is not a number in 1..65535")
    return int(text)


def split_host_port(value: str) -> tuple[str, int | None]:
    """'10.0.0.1', '10.0.0.1:443', '[fd00::1]:443' or 'fd00::1' as (address, port)."""
    _single_line(value)
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError("is not an address or [IPv6]:port")
        return _ip(host), _port(rest[1:]) if rest else None
    if value.count(":") == 1:
        host, _, port = value.partition(":")
        return _ip(host), _port(port)
    return _ip(value), None


def _host_port(value: str) -> str:
    split_host_port(value)
    return value


IpHostPort = Annotated[str, AfterValidator(_host_port)]
"""An IP address with an optional port in 1..65535 ('10.0.0.1', '127.0.0.1:19101', '[fd00::1]:443')."""

# --- URLs -------------------------------------------------------------------------------------


def _url(value: str, schemes: tuple[str, ...]) -> SplitResult:
    _single_line(value)
    if value != value.strip():
        raise ValueError("must not begin or end with a space")
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        allowed = " or ".join(f"{s}://" for s in schemes)
        raise ValueError(f"scheme must be {allowed}, not {(parts.scheme + '://') if parts.scheme else '(none)'}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials (set them as secrets in the stack config)")
    if not parts.hostname:
        raise ValueError("has no host")
    try:
        port = parts.port
    except ValueError as e:
        raise ValueError(f"bad port: {e}") from None
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"port {port} is outside 1..65535")
    if port == 0 or (":" in parts.netloc.rpartition("]")[2] and port is None):
        raise ValueError("port is empty or 0; it is a number in 1..65535")
    if ".." in unquote(parts.path).split("/"):
        raise ValueError("path must not contain '..'")
    if " " in value:
        raise ValueError("must not contain spaces (percent-encode them)")
    return parts


def _http_url(value: str) -> str:
    """An http(s) API endpoint: scheme, host, a port in 1..65535, no credentials, no '..'."""
    _url(value, ("http", "https"))
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
"""An http or https API endpoint URL."""


def _image_url(value: str) -> str:
    parts = _url(value, ("http", "https"))
    if parts.path in ("", "/") or parts.path.endswith("/"):
        raise ValueError("names no file (the path is empty or ends with '/')")
    return value


ImageUrl = Annotated[str, AfterValidator(_image_url)]
"""An image Ironic downloads: http or https (never file://, which would read the conductor's disk)."""


def _nfs_url(value: str) -> str:
    parts = _url(value, ("nfs",))
    if not parts.path.startswith("/") or parts.path == "/":
        raise ValueError("needs an export path, e.g. nfs://server/export/secondary")
    if parts.query or parts.fragment:
        raise ValueError("an nfs:// URL has no query or fragment")
    return value


NfsUrl = Annotated[str, AfterValidator(_nfs_url)]
"""An NFS store as CloudStack takes it: nfs://server/export/path."""


def _iscsi_url(value: str) -> str:
    parts = _url(value, ("iscsi",))
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) != 2 or not segments[0].startswith("iqn.") or not segments[1].isdigit():
        raise ValueError("an iscsi:// URL is iscsi://target/iqn.yyyy-mm.naming-authority:name/lun")
    return value


IscsiUrl = Annotated[str, AfterValidator(_iscsi_url)]
"""An iSCSI LUN as CloudStack takes it: iscsi://target/iqn/lun."""

# --- numbers ----------------------------------------------------------------------------------


Count = Annotated[int, Strict()]
"""An integer written as one: not a boolean, not a string, not 3.0."""

Seconds = Annotated[float, Strict(), AllowInfNan(False)]
"""A duration in seconds: a finite number, not a boolean or a string."""
