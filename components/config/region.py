"""The region's design as a whole (`Region`) and its cross-layer invariants.

`Region`'s validator runs `region_problems`: one small check per layer (servers, pool membership,
the pools' networks and SRs, Ceph pools, the zone's storage, traffic labels, the pod, and the
zone's day-0 IP ranges and settings), each yielding `<path>=<value>: <reason>` with paths as in
the stack file under `region`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from pydantic import Field, model_validator
from pydantic.alias_generators import to_camel

from components.config.base import Model, Name
from components.config.day0 import IpRange
from components.config.design import (
    BUILTIN_NETWORK_LABELS,
    SR_DEVICE_CONFIG,
    XENSERVER_MAX_HOSTS_PER_CLUSTER,
    DeployTimeouts,
    HypervisorPool,
    Images,
    Pod,
    Role,
    Server,
    SharedSr,
    Storage,
    Zone,
    _checked,
    vlan_bounds,
)
from components.config.tenants import Tenants
from providers._core.types import Count, IscsiUrl, NfsUrl, split_host_port


class Region(Model):
    name: Name
    servers: list[Server] = Field(min_length=1)
    images: Images
    storage: Storage = Field(default_factory=Storage)
    hypervisor_pools: list[HypervisorPool] = Field(min_length=1)
    zone: Zone
    max_hosts_per_cluster: Annotated[Count, Field(ge=1, le=1024)] = XENSERVER_MAX_HOSTS_PER_CLUSTER
    deploy_timeouts: DeployTimeouts = Field(default_factory=lambda: DeployTimeouts())
    tenants: Tenants | None = Field(default=None, description="domains, accounts, offerings, templates, limits")

    def servers_by_role(self, role: Role) -> list[Server]:
        return [s for s in self.servers if s.role == role]

    def server(self, name: str) -> Server:
        return next(s for s in self.servers if s.name == name)

    @model_validator(mode="after")
    def _invariants(self) -> Region:
        problems = list(region_problems(self))
        if problems:
            raise ValueError("\n".join(problems))
        return self


# --- cross-layer invariants, one small check per layer ----------------------------------------
# Each yields `<path>=<value>: <reason>` with paths as in the stack file under `region`.


def _duplicates(items: list[tuple[str, Any]], what: str) -> Iterator[str]:
    """Each (path, value) whose value an earlier item already has."""
    first: dict[Any, str] = {}
    for path, value in items:
        if value in first:
            yield f"{path}={value!r}: {what} already at {first[value]}"
        else:
            first[value] = path


def _server_checks(r: Region) -> Iterator[str]:
    yield from _duplicates([(f"servers[{i}].name", s.name) for i, s in enumerate(r.servers)], "server name")
    yield from _duplicates(
        [(f"servers[{i}].macs[{j}]", m) for i, s in enumerate(r.servers) for j, m in enumerate(s.macs)],
        "MAC address",
    )
    yield from _duplicates([(f"servers[{i}].bmc.address", s.bmc.address) for i, s in enumerate(r.servers)],
                           "BMC address")
    yield from _duplicates(
        [(f"servers[{i}].managementAddress", s.management_address)
         for i, s in enumerate(r.servers) if s.management_address is not None],
        "management address",
    )


def _pool_membership_checks(r: Region) -> Iterator[str]:
    by_name = {s.name: s for s in r.servers}
    placed: dict[str, str] = {}
    for i, pool in enumerate(r.hypervisor_pools):
        for j, host in enumerate(pool.hosts):
            path = f"hypervisorPools[{i}]." + ("master" if j == 0 else f"members[{j - 1}]")
            server = by_name.get(host)
            if server is None:
                yield f"{path}={host!r}: no server has this name"
            elif server.role != "compute":
                yield f"{path}={host!r}: a hypervisor must be a compute server, this one is {server.role}"
            elif server.management_address is None:
                yield f"{path}={host!r}: the server has no managementAddress for XAPI"
            if host in placed:
                yield f"{path}={host!r}: already in pool {placed[host]!r}; a host joins one pool"
            placed.setdefault(host, pool.name)
        if len(pool.hosts) > r.max_hosts_per_cluster:
            yield (
                f"hypervisorPools[{i}]={pool.name!r}: {len(pool.hosts)} hosts exceed CloudStack's limit of "
                f"{r.max_hosts_per_cluster} hosts per XenServer cluster"
            )
    for i, s in enumerate(r.servers):
        if s.role == "compute" and s.name not in placed:
            yield f"servers[{i}]={s.name!r}: compute server in no hypervisor pool"


def _pool_network_checks(i: int, pool: HypervisorPool, guest_vlans: tuple[int, int]) -> Iterator[str]:
    p = f"hypervisorPools[{i}]"
    labels = [(f"{p}.vlans[{j}].name", v.name) for j, v in enumerate(pool.vlans)]
    labels += [(f"{p}.bonds[{j}].name", b.name) for j, b in enumerate(pool.bonds)]
    for path, label in labels:
        if label in BUILTIN_NETWORK_LABELS:
            yield f"{path}={label!r}: the name-label of a network every XCP-ng host already has"
    yield from _duplicates(labels, "network name-label in this pool")
    tagged: dict[tuple[str, int], str] = {}
    for j, v in enumerate(pool.vlans):
        if (v.device, v.tag) in tagged:
            yield f"{p}.vlans[{j}].tag={v.tag}: {v.device} already carries this VLAN at {tagged[v.device, v.tag]}"
        tagged.setdefault((v.device, v.tag), f"{p}.vlans[{j}]")
    bonded: dict[str, str] = {}
    for j, b in enumerate(pool.bonds):
        for k, dev in enumerate(b.devices):
            path = f"{p}.bonds[{j}].devices[{k}]"
            if dev in b.devices[:k]:
                yield f"{path}={dev!r}: the bond names this device twice"
            elif dev in bonded:
                yield f"{path}={dev!r}: already in the bond at {bonded[dev]}; a device joins one bond"
            bonded.setdefault(dev, f"{p}.bonds[{j}]")
    for j, v in enumerate(pool.vlans):
        if v.device in bonded:
            yield (f"{p}.vlans[{j}].device={v.device!r}: a member of the bond at {bonded[v.device]}; "
                   "XAPI refuses a VLAN on a bond member (put it on the bond's network)")
        low, high = guest_vlans
        if low <= v.tag <= high:
            yield (f"{p}.vlans[{j}].tag={v.tag}: inside the zone's guest VLAN range {low}-{high} "
                   "(zone.physicalNetwork.vlanRange), which CloudStack hands to tenants")


def _cephfs_sr_checks(i: int, sr: SharedSr, r: Region) -> Iterator[str]:
    path = f"hypervisorPools[{i}].sr"
    if sr.type != "cephfs":
        if sr.quota_gib is not None:
            yield f"{path}.quotaGib={sr.quota_gib}: only a cephfs SR has a quota here (its directory's)"
        return
    if r.storage.file_system is None:
        yield (f"{path}.type='cephfs': the region has no Ceph file system: declare storage.fileSystem "
               "(or use an nfs or lvmoiscsi SR)")
    if sr.quota_gib is None:
        yield f"{path}.quotaGib=(missing): a cephfs SR's directory needs a quota (GiB)"


def _sr_checks(i: int, sr: SharedSr) -> Iterator[str]:
    path = f"hypervisorPools[{i}].sr.deviceConfig"
    required, optional = SR_DEVICE_CONFIG[sr.type]
    for key in sorted(required - set(sr.device_config)):
        yield f"{path}.{key}=(missing): required for an SR of type {sr.type!r}"
    for key in sorted(set(sr.device_config) - required - optional):
        yield (f"{path}.{key}={sr.device_config[key]!r}: not a key of an SR of type {sr.type!r} "
               f"(it takes {sorted(required | optional)})")
    dc = sr.device_config
    for key in ("server", "target"):
        if key in dc and not re.fullmatch(r"[A-Za-z0-9.:-]+", dc[key]):
            yield f"{path}.{key}={dc[key]!r}: not a host name or IP address"
    if "serverpath" in dc and (not dc["serverpath"].startswith("/") or ".." in dc["serverpath"].split("/")):
        yield f"{path}.serverpath={dc['serverpath']!r}: an absolute export path without '..'"
    if "targetIQN" in dc and not re.fullmatch(r"iqn\.\d{4}-\d{2}\.[a-z0-9.-]+(:\S+)?", dc["targetIQN"]):
        yield f"{path}.targetIQN={dc['targetIQN']!r}: not an iSCSI qualified name (iqn.yyyy-mm.authority:name)"
    if "SCSIid" in dc and not re.fullmatch(r"[0-9A-Za-z_-]{1,64}", dc["SCSIid"]):
        yield f"{path}.SCSIid={dc['SCSIid']!r}: not a SCSI id (the LUN's WWID, e.g. 36001405...)"


def _pool_checks(r: Region) -> Iterator[str]:
    yield from _duplicates([(f"hypervisorPools[{i}].name", p.name) for i, p in enumerate(r.hypervisor_pools)],
                           "pool name")
    yield from _duplicates([(f"hypervisorPools[{i}].sr.name", p.sr.name) for i, p in enumerate(r.hypervisor_pools)],
                           "SR name-label (PreSetup storage finds the SR by it)")
    guest_vlans = vlan_bounds(r.zone.physical_network.vlan_range)
    for i, pool in enumerate(r.hypervisor_pools):
        yield from _pool_network_checks(i, pool, guest_vlans)
        yield from _sr_checks(i, pool.sr)
        yield from _cephfs_sr_checks(i, pool.sr, r)


def _storage_checks(r: Region) -> Iterator[str]:
    yield from _duplicates([(f"storage.pools[{i}].name", p.name) for i, p in enumerate(r.storage.pools)],
                           "Ceph pool name")
    storage_hosts = len(r.servers_by_role("storage"))
    for i, p in enumerate(r.storage.pools):
        if p.size > storage_hosts:
            yield (
                f"storage.pools[{i}].size={p.size}: more replicas than storage servers ({storage_hosts}); "
                "Ceph could never place them"
            )
        if p.size == 1:
            yield (f"storage.pools[{i}].size=1: the program could never restore size 1 once it drifted (Ceph's "
                   "dashboard API cannot confirm size 1); declare 2 or more")
        if p.min_size is not None and p.min_size > p.size:
            yield f"storage.pools[{i}].minSize={p.min_size}: above size={p.size}"
        if p.pg_num is not None and p.pg_num & (p.pg_num - 1):
            yield f"storage.pools[{i}].pgNum={p.pg_num}: not a power of two (Ceph warns POOL_PG_NUM_NOT_POWER_OF_TWO)"


def _zone_storage_checks(z: Zone) -> Iterator[str]:
    ps = z.primary_storage
    if ps.type == "rbd":
        yield (
            "zone.primaryStorage.type='rbd': CloudStack supports RBD primary storage on KVM only; an "
            "XCP-ng (XenServer) cluster takes NFS, iSCSI or PreSetup, so present Ceph to the pool as an "
            "SR (NFS or iSCSI gateway) and register it as presetup"
        )
    kinds: dict[str, Any] = {"nfs": NfsUrl, "iscsi": IscsiUrl}
    if ps.type in kinds and not ps.url:
        yield f"zone.primaryStorage.url=None: required for type {ps.type!r}"
    elif ps.type in kinds and ps.url:
        try:
            _checked(kinds[ps.type], ps.url)
        except ValueError as e:
            yield f"zone.primaryStorage.url={ps.url!r}: {e}"
    elif ps.url:
        yield f"zone.primaryStorage.url={ps.url!r}: type {ps.type!r} takes no url (the pool's SR is named by sr.name)"
    if z.secondary_storage.type == "s3" and not z.staging_store_url:
        yield (
            "zone.stagingStoreUrl=None: S3 secondary storage needs an NFS secondary staging store in the "
            "zone (CloudStack: \"Can't find staging storage in zone\")"
        )
    if z.secondary_storage.type == "nfs" and not z.secondary_storage.nfs_url:
        yield "zone.secondaryStorage.nfsUrl=None: required for type 'nfs'"


def _traffic_checks(r: Region) -> Iterator[str]:
    for field_name, label in r.zone.physical_network.traffic.model_dump(exclude_none=True).items():
        for i, pool in enumerate(r.hypervisor_pools):
            if label not in pool.network_labels:
                yield (
                    f"zone.physicalNetwork.traffic.{to_camel(field_name)}={label!r}: pool "
                    f"hypervisorPools[{i}]={pool.name!r} has no network with this name-label "
                    f"(it has {sorted(pool.network_labels)})"
                )


def _pod_checks(r: Region) -> Iterator[str]:
    z = r.zone
    pod = z.pod
    if not (pod.start_ip in pod.network and pod.end_ip in pod.network):
        yield f"zone.pod: reserved range {pod.start_ip}-{pod.end_ip} is outside the pod network {pod.network}"
    if int(pod.start_ip) > int(pod.end_ip):
        yield f"zone.pod.startIp={pod.start_ip}: after endIp={pod.end_ip}"
    if pod.start_ip <= pod.gateway <= pod.end_ip:
        yield f"zone.pod.gateway={pod.gateway}: inside the reserved range {pod.start_ip}-{pod.end_ip}"
    if pod.gateway not in pod.network or pod.gateway in (pod.network.network_address, pod.network.broadcast_address):
        yield f"zone.pod.gateway={pod.gateway}: not a host address of the pod network {pod.network}"
    if z.guest_cidr.overlaps(pod.network):
        yield f"zone.guestCidr={z.guest_cidr}: overlaps the pod network {pod.network}"
    for i, s in enumerate(r.servers):
        if s.management_address is None:
            continue
        ip = ipaddress.ip_address(split_host_port(s.management_address)[0])
        if ip == pod.gateway:
            yield f"servers[{i}].managementAddress={s.management_address!r}: the pod gateway's address"
        elif ip.version == 4 and pod.start_ip <= ip <= pod.end_ip:
            yield (f"servers[{i}].managementAddress={s.management_address!r}: inside the pod's reserved range "
                   f"{pod.start_ip}-{pod.end_ip} (CloudStack hands it to system VMs)")


REGION_CHECKS: list[Callable[[Region], Iterator[str]]] = [
    _server_checks,
    _pool_membership_checks,
    _pool_checks,
    _storage_checks,
    lambda r: _zone_storage_checks(r.zone),
    _traffic_checks,
    _pod_checks,
    lambda r: zone_day0_problems(r.zone),  # public and storage ranges, settings (end of this module)
]


def region_problems(r: Region) -> Iterator[str]:
    """Cross-layer invariants, each as `<path>=<value>: <reason>` (paths as in the stack file)."""
    for check in REGION_CHECKS:
        yield from check(r)


# --- day 0 of the cloud zone (issue 14): public and storage ranges, settings ----------------

SETTING_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def _in_range(ip: ipaddress.IPv4Address, start: ipaddress.IPv4Address, end: ipaddress.IPv4Address) -> bool:
    return int(start) <= int(ip) <= int(end)


def _range_problems(path: str, r: IpRange, pod: Pod) -> Iterator[str]:
    if r.start_ip not in r.network or r.end_ip not in r.network:
        yield f"{path}: range {r.start_ip}-{r.end_ip} is outside its network {r.network}"
    if int(r.start_ip) > int(r.end_ip):
        yield f"{path}.startIp={r.start_ip}: after endIp={r.end_ip}"
    if _in_range(r.gateway, r.start_ip, r.end_ip):
        yield f"{path}.gateway={r.gateway}: inside the range {r.start_ip}-{r.end_ip}"
    if int(r.start_ip) <= int(pod.end_ip) and int(pod.start_ip) <= int(r.end_ip):
        yield f"{path}: range {r.start_ip}-{r.end_ip} overlaps the pod's reserved range {pod.start_ip}-{pod.end_ip}"


def zone_day0_problems(z: Zone) -> Iterator[str]:
    """Public and storage ranges against the pod range, the guest CIDR and each other; settings names."""
    for i, r in enumerate(z.public_ip_ranges):
        path = f"zone.publicIpRanges[{i}]"
        yield from _range_problems(path, r, z.pod)
        if r.network.overlaps(z.guest_cidr):
            yield f"{path}: network {r.network} overlaps the guest CIDR {z.guest_cidr}"
        for j, other in enumerate(z.public_ip_ranges[:i]):
            if int(r.start_ip) <= int(other.end_ip) and int(other.start_ip) <= int(r.end_ip):
                yield f"{path}: range {r.start_ip}-{r.end_ip} overlaps zone.publicIpRanges[{j}]"
    s = z.storage_ip_range
    if s is not None:
        yield from _range_problems("zone.storageIpRange", s, z.pod)
        if z.physical_network.traffic.storage is None:
            yield ("zone.storageIpRange: a storage network range needs storage traffic "
                   "(zone.physicalNetwork.traffic.storage)")
        for i, r in enumerate(z.public_ip_ranges):
            if int(s.start_ip) <= int(r.end_ip) and int(r.start_ip) <= int(s.end_ip):
                yield f"zone.storageIpRange: range {s.start_ip}-{s.end_ip} overlaps zone.publicIpRanges[{i}]"
    for name in z.settings:
        if not SETTING_NAME.match(name):
            yield f"zone.settings.{name}: not a CloudStack setting name (lower-case, dots, e.g. expunge.delay)"
