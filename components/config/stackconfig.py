"""The stack config as a whole (`StackConfig`): every section under `privatecloud:`.

The region's design, each backend's settings (one model per backend, shared with its provider's
`configure()`), the credentials the program hands to resources, and day 0 (Ceph formed by the
program, the management server). Its cross-section checks: the credentials name real servers,
and exactly one Ceph mode, with what a formed cluster needs.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterator
from typing import Any

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from components.config.base import PROJECT, Model, dotted
from components.config.day0 import CLOUDSTACK_ACCESS, CephBootstrap, ManagementServerSettings
from components.config.region import Region
from providers.ceph import settings as ceph_settings
from providers.cloudstack import settings as cloudstack_settings
from providers.ironic import settings as ironic_settings
from providers.xcpng import settings as xcpng_settings

# --- endpoints and credentials ----------------------------------------------------------------


# One settings model per backend, shared with the providers' configure() (providers/<backend>/settings.py).
IronicSettings = ironic_settings.IronicSettings
CephSettings = ceph_settings.CephSettings
CloudStackSettings = cloudstack_settings.CloudStackSettings
XcpngSettings = xcpng_settings.XcpngSettings


class Credentials(Model):
    bmc_password: SecretStr = Field(description="BMC password of every server (per-server: bmcPasswords)")
    bmc_passwords: dict[str, SecretStr] = Field(default_factory=dict, description="server name -> BMC password")
    xcpng_root_password: SecretStr = Field(description="root password of every XCP-ng host")


class StackConfig(Model):
    """Everything a region stack's config holds (the JSON Schema editors use is generated from it)."""

    region: Region
    ironic: IronicSettings
    ceph: CephSettings | None = Field(default=None, description="an existing cluster (or cephBootstrap)")
    ceph_bootstrap: CephBootstrap | None = Field(
        default=None, description="form the cluster on the storage servers (or ceph: an existing one)"
    )
    cloudstack: CloudStackSettings
    credentials: Credentials
    xcpng: XcpngSettings = Field(default_factory=XcpngSettings)
    management_server: ManagementServerSettings | None = Field(default=None, validate_default=True)  # day 0

    @field_validator("management_server")
    @classmethod
    def _cloudstack_access(cls, value: Any, info: ValidationInfo) -> Any:
        cs = info.data.get("cloudstack")
        if value is None and cs is not None and (cs.api_key is None or cs.secret_key is None):
            raise ValueError(CLOUDSTACK_ACCESS)
        return value

    @model_validator(mode="after")
    def _across_sections(self) -> StackConfig:
        problems = [*_credential_checks(self), *ceph_mode_problems(self)]
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _credential_checks(c: StackConfig) -> Iterator[str]:
    servers = [s.name for s in c.region.servers]
    for name in c.credentials.bmc_passwords:
        if name not in servers:
            near = difflib.get_close_matches(name, servers, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            yield f"{dotted(('credentials', 'bmcPasswords', name))}=(secret): no server has this name{hint}"


# --- Ceph: an existing cluster, or one the program forms (day 0) ------------------------------


def _cephfs_mode_problems(cfg: StackConfig) -> Iterator[str]:
    """A cephfs SR's chain runs over SSH with the deploy key: the client's key made on a storage
    server, its secret file written in each pool host's dom0. Only a formed cluster has that path."""
    for i, pool in enumerate(cfg.region.hypervisor_pools):
        if pool.sr.type == "cephfs" and cfg.ceph is not None and cfg.ceph_bootstrap is None:
            yield (f"{PROJECT}:region.hypervisorPools[{i}].sr.type='cephfs': needs cephBootstrap (the deploy key "
                   "reaches the storage servers, where the pool's CephX client is made, and the pool's hosts, "
                   "where its secret file is written); with an existing cluster (ceph) use an nfs or "
                   "lvmoiscsi SR")


def ceph_mode_problems(cfg: StackConfig) -> Iterator[str]:
    """Exactly one Ceph mode; a bootstrapped cluster needs SSH addresses and OSD devices."""
    if (cfg.ceph is None) == (cfg.ceph_bootstrap is None):
        yield (
            f"{PROJECT}:ceph={'(set)' if cfg.ceph else None}: set exactly one of ceph (an existing cluster) and "
            "cephBootstrap (the program forms one on the storage servers)"
        )
    yield from _cephfs_mode_problems(cfg)
    b = cfg.ceph_bootstrap
    if b is None:
        return
    names = [s.name for s in cfg.region.servers]
    storage = cfg.region.servers_by_role("storage")
    if not storage:
        yield f"{PROJECT}:cephBootstrap: the region has no storage server to form a cluster on"
    for s in storage:
        i = names.index(s.name)
        if not s.management_address:
            yield (f"{PROJECT}:region.servers[{i}].managementAddress=None: storage server {s.name!r} needs the "
                   "address it answers SSH on")
        if not b.lab and s.name not in b.osd_devices:
            yield f"{PROJECT}:cephBootstrap.osdDevices.{s.name}=(missing): the OSD device of storage server {s.name!r}"
    for name in sorted(set(b.osd_devices) - {s.name for s in storage}):
        yield f"{PROJECT}:cephBootstrap.osdDevices.{name}={b.osd_devices[name]!r}: no storage server has this name"
    try:
        ipaddress.ip_network(b.public_network)
    except ValueError as e:
        yield f"{PROJECT}:cephBootstrap.publicNetwork={b.public_network!r}: {e}"
