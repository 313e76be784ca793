"""Day 0: what the program forms or registers itself rather than finds in place.

Ceph formed on the storage servers over SSH (`cephBootstrap`, issue 14's Ceph half), the cloud
zone's public and storage IP ranges and extra network service providers, and the management
server as its install left it (`managementServer`). Models only: the checks that relate them to
the rest of the design are the region's invariants (components/config/region.py) and the stack
config's cross-section checks (components/config/stackconfig.py).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field, SecretStr

from components.config.base import Model
from providers._core.types import Count, IPv4, Netmask

# --- Ceph formed by the program (day 0) --------------------------------------------------------


class CephBootstrap(Model):
    """The program forms the Ceph cluster on the storage servers over SSH (components/cephcluster.py):
    monitors on the first three, manager with dashboard and RGW on the first, one OSD per server."""

    deploy_key: SecretStr | None = Field(
        default=None,
        description="root's SSH private key on the servers (set with --secret); unset: the program "
        "generates one and keeps it secret in state. Its public half goes into the config drives.",
    )
    osd_devices: dict[str, str] = Field(
        default_factory=dict, description="storage server name -> the block device of its OSD, e.g. /dev/sdb"
    )
    public_network: str = Field(default="127.0.0.0/8", description="Ceph's public network (CIDR)")
    lab: bool = Field(
        default=False,
        description="lab cluster: memory-backed OSDs where no device is given, pools of one replica allowed",
    )
    allow_osd_purge: bool = Field(
        default=False,
        description="OSDs hold data: a removed storage server's OSD is purged only when this is true "
        "(otherwise it is marked out and stopped)",
    )


# --- day 0 of the cloud zone (issue 14): public and storage ranges, settings, the management server ---

ExtraProvider = Literal["VpcVirtualRouter", "InternalLbVm"]  # VirtualRouter comes with the physical network
CLOUDSTACK_ACCESS = (
    "missing: give cloudstack.apiKey and cloudstack.secretKey, or this section with the admin password "
    "(the program then registers its own keys)"
)


class IpRange(Model):
    """A range of addresses on a network given by its gateway and netmask (the pod's, a public or
    storage range)."""

    gateway: IPv4
    netmask: Netmask
    start_ip: IPv4
    end_ip: IPv4

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"{self.gateway}/{self.netmask}", strict=False)


class PublicIpRange(IpRange):
    """Public addresses of the zone (createVlanIpRange): system VMs and virtual routers take them."""

    vlan: str = Field(default="untagged", pattern=r"^(untagged|\d{1,4})$", description="a VLAN tag or untagged")


class StorageIpRange(IpRange):
    """The pod's addresses on the storage network, where storage traffic has a network of its own."""

    vlan: Annotated[Count, Field(ge=1, le=4094)] | None = None


class ManagementServerSettings(Model):
    """`privatecloud:managementServer`: day 0 of a management server as its install left it."""

    admin_user: str = Field(default="admin", min_length=1)
    admin_password: SecretStr = Field(description="the install's admin password (CloudStack's initial one: password)")
    new_admin_password: SecretStr | None = Field(default=None, description="set the admin password to this")
    key_version: Count = Field(default=1, ge=1, description="bump to rotate the program's API keys")
