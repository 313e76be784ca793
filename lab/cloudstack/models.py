"""Every object of one management server and the rules between them, composed as collaborators.

The store (store.py) holds the objects, the job table and the lock; each rule set takes the
store and the rule sets it needs, so nothing inherits from anything:

    zones = Zones(store)                       # zones, physical networks, traffic types, providers
    compute = Compute(store, zones)            # pods, clusters, hosts (discovered over XAPI)
    storage = Storage(store, zones, compute)   # primary storage, image and staging stores

What the rules model (and what they leave out) is in README.md.
"""

from __future__ import annotations

from lab.cloudstack.compute import Compute
from lab.cloudstack.objects import (
    Cluster,
    Host,
    ImageStore,
    PhysicalNetwork,
    Pod,
    Resource,
    RouterElement,
    ServiceProvider,
    StoragePool,
    TrafficType,
    Zone,
)
from lab.cloudstack.offerings import Offerings
from lab.cloudstack.storage import Storage
from lab.cloudstack.store import Store
from lab.cloudstack.templates import Templates
from lab.cloudstack.tenants import Tenants
from lab.cloudstack.vms import Guests
from lab.cloudstack.zones import Zones
from lab.emu.clock import Clock


class Backend:
    """One management server's state: the store and the three rule sets on it."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.store = Store(clock)
        self.zones = Zones(self.store)
        self.compute = Compute(self.store, self.zones)
        self.storage = Storage(self.store, self.zones, self.compute)
        self.tenants = Tenants(self.store)  # domains, accounts, users, roles, keys, limits
        self.offerings = Offerings(self.store, self.zones, self.tenants)
        self.templates = Templates(self.store, self.zones, self.tenants)
        self.guests = Guests(self.store, self.zones, self.tenants, self.offerings, self.templates)
        self.lock = self.store.lock
        self.jobs = self.store.jobs

    def problems(self) -> list[str]:
        """What a real zone would complain about later (template copies, system VMs), in its words."""
        return self.storage.problems()


__all__ = [
    "Backend", "Cluster", "Host", "ImageStore", "PhysicalNetwork", "Pod", "Resource", "RouterElement",
    "ServiceProvider", "StoragePool", "TrafficType", "Zone",
]
