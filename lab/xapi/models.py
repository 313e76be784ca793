"""State and rules of the emulated XCP-ng hosts.

Each host starts as the master of its own pool: its own pool database (`Db`) holding a pool
object, the host, PIFs eth0..eth3 on networks xenbr0..xenbr3 (eth0 is the management PIF), the
host-internal management network and a local SR with its PBD. `pool.join` merges the joining
host's objects into the master's database as real XAPI does (physical PIFs are attached to the
master's network with the same bridge, pool VLANs and bonds are copied onto the new host, and a
PBD is created and plugged for every shared SR); from then on the host shares the master's
database and answers with HOST_IS_SLAVE. `pool.eject` removes the host's objects and reinstalls
it as a fresh master of a new pool (an eject wipes the host); `pool.designate_new_master` moves
the master role.

The state machines (host role, task status, PBD attachment) are tables below; handlers look up
the transition and raise the real error when it is not there.
"""

from __future__ import annotations

import math
import threading
import uuid as uuidlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lab.xapi.control import Clock, Faults
from lab.xapi.datamodel import NULL_REF, Datamodel, datamodel
from lab.xapi.errors import XapiError, handle_invalid, not_allowed
from lab.xapi.events import EventLog, Registration

# --- state machines as data -------------------------------------------------------------------

# A host's role in its pool: (role, event) -> new role. A master may join another pool only
# while it is alone in its own (JOINING_HOST_CANNOT_BE_MASTER_OF_OTHER_HOSTS otherwise).
ROLE_TRANSITIONS: dict[tuple[str, str], str] = {
    ("master", "join"): "member",
    ("member", "eject"): "master",
    ("member", "designated"): "master",
    ("master", "superseded"): "member",
}

# task.status: (status, event) -> status. Terminal states have no outgoing transitions.
TASK_TRANSITIONS: dict[tuple[str, str], str] = {
    ("pending", "complete"): "success",
    ("pending", "fail"): "failure",
    ("pending", "cancel"): "cancelled",
}
TASK_TERMINAL = frozenset({"success", "failure", "cancelled"})

# PBD.currently_attached: plugging a plugged PBD (or unplugging an unplugged one) is a no-op.
PBD_TRANSITIONS: dict[tuple[bool, str], bool] = {
    (False, "plug"): True,
    (True, "plug"): True,
    (True, "unplug"): False,
    (False, "unplug"): False,
}

# SR drivers the emulator knows, with the device_config keys SR.create needs.
SR_DRIVERS: dict[str, tuple[str, ...]] = {
    "nfs": ("server", "serverpath"),
    "lvmoiscsi": ("target", "targetIQN", "SCSIid"),
    "lvm": ("device",),
    "ext": ("device",),
    "iso": ("location",),
}
SR_DEFAULT_SIZE = 1 << 40
SR_SM_CONFIG: dict[str, dict[str, str]] = {
    "lvmoiscsi": {"allocation": "thick", "use_vhd": "true"},
    "lvm": {"allocation": "thick", "use_vhd": "true"},
}
BOND_PROPERTIES: dict[str, dict[str, str]] = {
    "balance-slb": {"hashing_algorithm": "src_mac"},
    "active-backup": {},
    "lacp": {"hashing_algorithm": "tcpudp_ports", "lacp_time": "slow"},
}
HOST_MEMORY = 256 << 30
DOM0_MEMORY = 8 << 30
PHYSICAL_NICS = ("eth0", "eth1", "eth2", "eth3")
MTU_RANGE = (68, 9216)
SOFTWARE_VERSION = {
    "product_version": "8.3.0",
    "product_version_text": "8.3",
    "product_version_text_short": "8.3",
    "platform_name": "XCP",
    "platform_version": "3.4.0",
    "product_brand": "XCP-ng",
    "build_number": "cloud",
    "xapi": "25.6",
    "xen": "4.17.5-3",
    "linux": "4.19.0+1",
    "xencenter_min": "2.21",
    "xencenter_max": "2.21",
    "network_backend": "openvswitch",
    "db_schema": "5.780",
}
API_VERSION = (2, 21)

# One-to-many relations XAPI computes rather than stores: (class, set field) is the set of
# objects of `other` whose `other_field` points back.
RELATIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("host", "PIFs"): ("PIF", "host"),
    ("host", "PBDs"): ("PBD", "host"),
    ("network", "PIFs"): ("PIF", "network"),
    ("SR", "PBDs"): ("PBD", "SR"),
    ("PIF", "VLAN_slave_of"): ("VLAN", "tagged_PIF"),
    ("PIF", "bond_master_of"): ("Bond", "master"),
    ("Bond", "slaves"): ("PIF", "bond_slave_of"),
    ("session", "tasks"): ("task", "session"),
    ("host", "resident_VMs"): ("VM", "resident_on"),
    ("SR", "VDIs"): ("VDI", "SR"),
    ("network", "VIFs"): ("VIF", "network"),
    ("VM", "VBDs"): ("VBD", "VM"),
    ("VM", "VIFs"): ("VIF", "VM"),
    ("VDI", "VBDs"): ("VBD", "VDI"),
}


def new_ref() -> str:
    return f"OpaqueRef:{uuidlib.uuid4()}"


def new_uuid() -> str:
    return str(uuidlib.uuid4())


class Db:
    """One pool's database: class -> ref -> record (a dict of every datamodel field)."""

    def __init__(self, dm: Datamodel) -> None:
        self.dm = dm
        self.id = new_uuid()
        self.tables: dict[str, dict[str, dict[str, Any]]] = {c: {} for c in dm.classes if c != "event"}
        self.alive = True
        self.events = EventLog()

    def all_records(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(class, ref, record as XAPI returns it) for every object: what events are made of."""
        for cls, table in self.tables.items():
            for ref in table:
                yield cls, ref, self.record(cls, ref)

    def create(self, cls: str, ref: str | None = None, **fields: Any) -> str:
        rec = self.dm.default_record(cls)
        rec["uuid"] = new_uuid()
        unknown = set(fields) - set(rec) - {"session"}
        if unknown:
            raise KeyError(f"{cls} has no fields {sorted(unknown)}")
        rec.update(fields)
        ref = ref or new_ref()
        self.tables[cls][ref] = rec
        return ref

    def get(self, cls: str, ref: str) -> dict[str, Any]:
        try:
            return self.tables[cls][ref]
        except KeyError:
            raise handle_invalid(cls, ref) from None

    def has(self, cls: str, ref: str) -> bool:
        return ref in self.tables.get(cls, {})

    def where(self, cls: str, **eq: Any) -> list[tuple[str, dict[str, Any]]]:
        return [(r, rec) for r, rec in self.tables[cls].items() if all(rec.get(k) == v for k, v in eq.items())]

    def refs(self, cls: str, **eq: Any) -> list[str]:
        return [r for r, _ in self.where(cls, **eq)]

    def delete(self, cls: str, ref: str) -> None:
        self.tables[cls].pop(ref, None)

    def related(self, cls: str, ref: str, fname: str) -> list[str]:
        other, back = RELATIONS[(cls, fname)]
        return self.refs(other, **{back: ref})

    def record(self, cls: str, ref: str) -> dict[str, Any]:
        """The record as XAPI returns it, with the computed one-to-many fields filled in."""
        rec = dict(self.get(cls, ref))
        rec.pop("session", None)
        for (c, fname) in RELATIONS:
            if c == cls:
                rec[fname] = self.related(cls, ref, fname)
        return rec

    @property
    def pool_ref(self) -> str:
        return next(iter(self.tables["pool"]))

    @property
    def pool(self) -> dict[str, Any]:
        return self.tables["pool"][self.pool_ref]

    @property
    def master_ref(self) -> str:
        return str(self.pool["master"])


@dataclass
class Node:
    """One emulated host: its endpoint and root credentials, and the pool database it sees."""

    name: str
    index: int
    address: str
    username: str
    password: str
    db: Db = field(repr=False)
    host_ref: str
    uuid: str
    # The database the host served before it joined a pool: its sessions may still read the
    # tasks they started there (the join task among them), as during xapi's restart fuse.
    retired_db: Db | None = field(default=None, repr=False)

    @property
    def role(self) -> str:
        return "master" if self.db.master_ref == self.host_ref else "member"


@dataclass
class TaskRun:
    """A pending task: what it runs when it completes, and when it may."""

    ref: str
    db: Db
    method: str
    run: Callable[[], str]
    due: float
    polls_left: int
    failure: XapiError | None = None


class World:
    """All emulated hosts, their pool databases, sessions and tasks. One lock serialises calls."""

    def __init__(self, clock: Clock | None = None, faults: Faults | None = None) -> None:
        self.dm = datamodel()
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        self.faults = faults or Faults()
        self.nodes: dict[str, Node] = {}
        self.pending: dict[str, TaskRun] = {}
        # Notified at the end of every call and task completion: event.from/next wait on it.
        self.changed = threading.Condition(self.lock)
        self.registrations: dict[str, Registration] = {}  # session -> event.register state
        self.clock.on_change(self.settle)

    # --- hosts --------------------------------------------------------------------------------
    def add_host(self, name: str, address: str, password: str, username: str = "root") -> Node:
        with self.lock:
            index = len(self.nodes) + 1
            db = Db(self.dm)
            node = Node(name, index, address, username, password, db, new_ref(), new_uuid())
            self.nodes[name] = node
            self._install(node)
            return node

    def node_by_address(self, address: str) -> Node | None:
        return next((n for n in self.nodes.values() if n.address == address), None)

    def node_of_host(self, db: Db, host_ref: str) -> Node:
        for n in self.nodes.values():
            if n.db is db and n.host_ref == host_ref:
                return n
        raise handle_invalid("host", host_ref)

    def master_address(self, db: Db) -> str:
        return str(db.get("host", db.master_ref)["address"])

    def _install(self, node: Node) -> None:
        """A fresh installation: the host as master of a new pool with its own objects."""
        db = Db(self.dm)
        node.db = db
        node.retired_db = None
        host = node.host_ref = new_ref()
        db.create(
            "host", host, uuid=node.uuid, name_label=node.name, hostname=node.name, address=node.address,
            enabled=True, API_version_major=API_VERSION[0], API_version_minor=API_VERSION[1],
            API_version_vendor="XenSource", software_version=dict(SOFTWARE_VERSION), edition="xcp-ng",
            cpu_info={"cpu_count": "8", "vendor": "GenuineIntel", "features": "emulated"},
            capabilities=["xen-3.0-x86_64", "hvm-3.0-x86_64"], sched_policy="credit",
            iscsi_iqn=f"iqn.2026-01.org.xcp-ng:{node.name}",
            other_config={"iscsi_iqn": f"iqn.2026-01.org.xcp-ng:{node.name}", "agent_start_time": "0."},
        )
        db.create("pool", master=host, name_label="", other_config={})
        db.get("host", host)["metrics"] = db.create(
            "host_metrics", memory_total=HOST_MEMORY, memory_free=HOST_MEMORY - DOM0_MEMORY, live=True,
            last_updated=self.clock.stamp(),
        )
        for n, dev in enumerate(PHYSICAL_NICS):
            net = db.create(
                "network", name_label=f"Pool-wide network associated with {dev}", bridge=f"xenbr{n}",
                MTU=1500, other_config={},
            )
            mgmt = dev == "eth0"
            db.create(
                "PIF", device=dev, network=net, host=host, MAC=self.mac(node, n), MTU=1500, VLAN=-1,
                physical=True, currently_attached=mgmt, management=mgmt,
                ip_configuration_mode="DHCP" if mgmt else "None",
                IP=node.address.split(":")[0] if mgmt else "", netmask="255.0.0.0" if mgmt else "",
                properties={"gro": "on"},
            )
        db.create(
            "network", name_label="Host internal management network", bridge="xenapi", MTU=1500,
            other_config={"is_guest_installer_network": "true", "is_host_internal_management_network": "true"},
        )
        sr = db.create(
            "SR", name_label="Local storage", type="lvm", content_type="user", shared=False,
            physical_size=500 * (1 << 30), sm_config=dict(SR_SM_CONFIG["lvm"]),
            other_config={"i18n-key": "local-storage"},
        )
        db.create("PBD", host=host, SR=sr, device_config={"device": "/dev/sda3"}, currently_attached=True)
        db.pool["default_SR"] = sr
        db.pool["suspend_image_SR"] = sr
        db.pool["crash_dump_SR"] = sr

    @staticmethod
    def mac(node: Node, n: int) -> str:
        return f"02:00:00:{node.index // 256:02x}:{node.index % 256:02x}:{n:02x}"

    # --- sessions -----------------------------------------------------------------------------
    def check_not_slave(self, node: Node) -> None:
        if node.role != "master":
            raise XapiError("HOST_IS_SLAVE", self.master_address(node.db))

    def login(self, node: Node, uname: str, pwd: str, originator: str = "") -> str:
        self.check_not_slave(node)
        if uname != node.username or pwd != node.password:
            raise XapiError("SESSION_AUTHENTICATION_FAILED")
        return node.db.create(
            "session", this_host=node.host_ref, last_active=self.clock.stamp(), is_local_superuser=True,
            validation_time=self.clock.stamp(), originator=originator,
            rbac_permissions=[], auth_user_name=uname,
        )

    def session_db(self, node: Node, session: str) -> Db:
        if not node.db.has("session", session):
            raise XapiError("SESSION_INVALID", session)
        node.db.get("session", session)["last_active"] = self.clock.stamp()
        return node.db

    def member_task_db(self, node: Node, session: str) -> Db | None:
        """On a member, the database in which `session` (opened on this host) may read its tasks."""
        for db in (node.retired_db, node.db):
            if db is None or not db.has("session", session):
                continue
            if db.get("session", session)["this_host"] == node.host_ref:
                return db
        return None

    def logout(self, db: Db, session: str) -> None:
        db.delete("session", session)
        self.registrations.pop(session, None)

    # --- events -------------------------------------------------------------------------------
    def sync_events(self, db: Db) -> None:
        """Stamp what changed in `db` since the last look (events are computed when asked for)."""
        db.events.sync(db.all_records, self.clock.stamp())

    def notify(self) -> None:
        """Something may have changed: wake event.from/next waiters to look."""
        self.changed.notify_all()

    # --- tasks --------------------------------------------------------------------------------
    def start_task(self, node: Node, session: str, method: str, run: Callable[[], str]) -> str:
        db = node.db
        ref = db.create(
            "task", name_label=method, name_description="", created=self.clock.stamp(), status="pending",
            resident_on=node.host_ref, progress=0.0, type="<none/>", result="", error_info=[],
            allowed_operations=["cancel"], session=session,
        )
        policy = self.clock.policy(method)
        fault = self.faults.take("task_failure", method, host=node.name)
        self.pending[ref] = TaskRun(
            ref, db, method, run, due=self.clock.now() + policy.seconds, polls_left=policy.polls,
            failure=fault.error if fault is not None and isinstance(fault.error, XapiError) else None,
        )
        self.settle()
        return ref

    def note_poll(self, task_ref: str) -> None:
        run = self.pending.get(task_ref)
        if run is not None:
            run.polls_left -= 1

    def settle(self) -> None:
        """Complete every pending task whose time (and poll count) has come, oldest first."""
        with self.lock:
            for ref, run in list(self.pending.items()):
                if not run.db.alive or not run.db.has("task", ref):
                    self.pending.pop(ref, None)
                    continue
                held = run.due == math.inf and not self.clock.released(ref)
                ready = (run.due <= self.clock.now() and run.polls_left <= 0) or (
                    run.due == math.inf and self.clock.released(ref)
                )
                if held or not ready:
                    continue
                self.pending.pop(ref, None)
                task = run.db.get("task", ref)
                if run.failure is not None:
                    self._finish(task, "fail", error=run.failure)
                    continue
                try:
                    result = run.run()
                except XapiError as e:
                    self._finish(task, "fail", error=e)
                except Exception as e:  # an emulator bug: xapi reports internal exceptions so
                    self._finish(task, "fail", error=XapiError("INTERNAL_ERROR", f"{type(e).__name__}: {e}"))
                else:
                    self._finish(task, "complete", result=result)
            self.clock.forget_release_all()
            self.notify()

    def _finish(self, task: dict[str, Any], event: str, *, result: str = "", error: XapiError | None = None) -> None:
        task["status"] = TASK_TRANSITIONS[(task["status"], event)]
        task["finished"] = self.clock.stamp()
        task["progress"] = 1.0
        task["allowed_operations"] = []
        task["result"] = result
        task["error_info"] = error.description if error else []

    def cancel_task(self, db: Db, ref: str) -> None:
        task = db.get("task", ref)
        if (task["status"], "cancel") not in TASK_TRANSITIONS:
            raise not_allowed(f"task is {task['status']}")
        self.pending.pop(ref, None)
        self._finish(task, "cancel", error=XapiError("TASK_CANCELLED", ref))

    def destroy_task(self, db: Db, ref: str) -> None:
        db.get("task", ref)
        self.pending.pop(ref, None)
        db.delete("task", ref)

    # --- pool ---------------------------------------------------------------------------------
    def pool_join(self, node: Node, master_address: str, master_username: str, master_password: str) -> None:
        """`pool.join` on the joining host, with real XAPI's pre-join checks in its order."""
        master = self.node_by_address(master_address)
        if master is None:
            raise XapiError("JOINING_HOST_CONNECTION_FAILED")
        self.check_not_slave(master)  # the login to the remote master answers HOST_IS_SLAVE
        if master_username != master.username or master_password != master.password:
            raise XapiError("SESSION_AUTHENTICATION_FAILED")
        db = node.db
        if master.db is db:
            reason = "Host is already part of a pool" if len(db.tables["host"]) > 1 else (
                "Host cannot become slave of itself")
            raise not_allowed(reason)
        if len(db.tables["host"]) > 1:
            raise XapiError("JOINING_HOST_CANNOT_BE_MASTER_OF_OTHER_HOSTS")
        if any(sr["shared"] and not sr["is_tools_sr"] for sr in db.tables["SR"].values()):
            raise XapiError("JOINING_HOST_CANNOT_CONTAIN_SHARED_SRS")
        if any(p["management"] and not p["physical"] for p in db.tables["PIF"].values()):
            raise XapiError("POOL_JOINING_HOST_MUST_HAVE_PHYSICAL_MANAGEMENT_NIC")
        if db.tables["Bond"]:
            raise XapiError("POOL_JOINING_HOST_HAS_BONDS")
        if any(not db.get("PIF", v["untagged_PIF"])["management"] for v in db.tables["VLAN"].values()):
            raise XapiError("POOL_JOINING_HOST_HAS_NON_MANAGEMENT_VLANS")
        self._transition_role(node, "join")
        self._merge(node, master.db)

    def _transition_role(self, node: Node, event: str) -> None:
        if (node.role, event) not in ROLE_TRANSITIONS:
            raise not_allowed(f"a {node.role} cannot {event}")

    def _merge(self, node: Node, into: Db) -> None:
        """Move the joining host's objects into the master's database (create_or_get_*_on_master)."""
        old = node.db
        host = node.host_ref
        into.tables["host"][host] = old.tables["host"][host]
        for ref, rec in old.tables["host_metrics"].items():
            into.tables["host_metrics"][ref] = rec
        by_bridge = {rec["bridge"]: ref for ref, rec in into.tables["network"].items()}
        net_map: dict[str, str] = {}
        for ref, rec in old.tables["network"].items():
            if rec["bridge"] in by_bridge:
                net_map[ref] = by_bridge[rec["bridge"]]
            else:
                into.tables["network"][ref] = rec
                net_map[ref] = ref
        for ref, rec in old.tables["PIF"].items():
            rec["network"] = net_map.get(rec["network"], rec["network"])
            into.tables["PIF"][ref] = rec
        for ref, rec in old.tables["SR"].items():  # local SRs only (shared ones were refused)
            into.tables["SR"][ref] = rec
        for ref, rec in old.tables["PBD"].items():
            into.tables["PBD"][ref] = rec
        old.alive = False
        node.retired_db = old
        node.db = into
        self._sync_new_member(node)

    def _sync_new_member(self, node: Node) -> None:
        """What a new member does on its first start: copy bonds and VLANs, plug shared SRs."""
        db = node.db
        host = node.host_ref
        pifs = {rec["device"]: ref for ref, rec in db.where("PIF", host=host, physical=True)}
        for bond_ref, bond in list(db.tables["Bond"].items()):
            master_pif = db.get("PIF", bond["master"])
            if master_pif["host"] == host:
                continue
            devices = [db.get("PIF", s)["device"] for s in db.refs("PIF", bond_slave_of=bond_ref)]
            if devices and all(d in pifs for d in devices) and not any(
                db.get("PIF", pifs[d])["bond_slave_of"] != NULL_REF for d in devices
            ) and not db.where("PIF", host=host, network=master_pif["network"]):
                self.bond_create(db, master_pif["network"], [pifs[d] for d in devices], "", bond["mode"],
                                 dict(bond["properties"]))
        pifs_all = {rec["device"]: ref for ref, rec in db.where("PIF", host=host, VLAN=-1)}
        for _, vlan in list(db.tables["VLAN"].items()):
            tagged = db.get("PIF", vlan["tagged_PIF"])
            if tagged["host"] == host or tagged["device"] not in pifs_all:
                continue
            network = db.get("PIF", vlan["untagged_PIF"])["network"]
            if db.where("PIF", host=host, network=network):
                continue
            self.vlan_create(db, pifs_all[tagged["device"]], vlan["tag"], network)
        for sr_ref, sr in list(db.tables["SR"].items()):
            if not sr["shared"] or db.where("PBD", SR=sr_ref, host=host):
                continue
            existing = db.where("PBD", SR=sr_ref)
            config = dict(existing[0][1]["device_config"]) if existing else {}
            db.create("PBD", host=host, SR=sr_ref, device_config=config, currently_attached=True)

    def pool_eject(self, db: Db, host: str) -> None:
        db.get("host", host)
        if host == db.master_ref:
            raise not_allowed("Cannot eject the pool master: designate a new master first")
        node = self.node_of_host(db, host)
        self._transition_role(node, "eject")
        for ref, _ in db.where("PBD", host=host):
            db.delete("PBD", ref)
        for ref, sr in list(db.tables["SR"].items()):
            if not sr["shared"] and not db.where("PBD", SR=ref):
                db.delete("SR", ref)
        for ref, _ in db.where("PIF", host=host):
            for v in db.refs("VLAN", untagged_PIF=ref) + db.refs("VLAN", tagged_PIF=ref):
                db.delete("VLAN", v)
            for b in db.refs("Bond", master=ref):
                db.delete("Bond", b)
            db.delete("PIF", ref)
        for ref, _ in db.where("session", this_host=host):
            db.delete("session", ref)
        db.delete("host_metrics", db.get("host", host)["metrics"])
        db.delete("host", host)
        self._install(node)  # the ejected host comes back as a fresh installation

    def designate_new_master(self, db: Db, host: str) -> None:
        db.get("host", host)
        if host == db.master_ref:
            return
        new = self.node_of_host(db, host)
        old = self.node_of_host(db, db.master_ref)
        self._transition_role(new, "designated")
        self._transition_role(old, "superseded")
        db.pool["master"] = host

    # --- networks -----------------------------------------------------------------------------
    def network_create(self, db: Db, args: dict[str, Any]) -> str:
        fields = {k: v for k, v in args.items() if k not in ("uuid", "PIFs", "VIFs")}
        if not fields.get("bridge"):
            used = {n["bridge"] for n in db.tables["network"].values()}
            fields["bridge"] = next(f"xapi{i}" for i in range(10_000) if f"xapi{i}" not in used)
        mtu = int(fields.get("MTU") or 1500)
        self.check_mtu(mtu)
        fields["MTU"] = mtu
        return db.create("network", **fields)

    def network_destroy(self, db: Db, ref: str) -> None:
        db.get("network", ref)
        pifs = db.refs("PIF", network=ref)
        if pifs:
            raise XapiError("NETWORK_CONTAINS_PIF", ",".join(pifs))
        db.delete("network", ref)

    @staticmethod
    def check_mtu(mtu: int) -> None:
        if not MTU_RANGE[0] <= mtu <= MTU_RANGE[1]:
            raise XapiError("INVALID_VALUE", "MTU", str(mtu))

    def network_set_mtu(self, db: Db, ref: str, mtu: int) -> None:
        self.check_mtu(mtu)
        db.get("network", ref)["MTU"] = mtu

    def _check_network_free(self, db: Db, network: str, host: str) -> None:
        db.get("network", network)
        connected = db.refs("PIF", network=network, host=host)
        if connected:
            raise XapiError("NETWORK_ALREADY_CONNECTED", network, connected[0])

    def vlan_create(self, db: Db, tagged_pif: str, tag: int, network: str) -> str:
        if not 0 <= tag <= 4094:
            raise XapiError("VLAN_TAG_INVALID", str(tag))
        pif = db.get("PIF", tagged_pif)
        db.get("network", network)
        if pif["bond_slave_of"] != NULL_REF:
            raise XapiError("CANNOT_ADD_VLAN_TO_BOND_SLAVE", tagged_pif)
        if pif["VLAN"] != -1:
            raise XapiError("PIF_IS_VLAN", tagged_pif)
        for _, _v in db.where("VLAN", tagged_PIF=tagged_pif, tag=tag):
            raise XapiError("PIF_VLAN_EXISTS", pif["device"])
        self._check_network_free(db, network, pif["host"])
        untagged = db.create(
            "PIF", device=pif["device"], network=network, host=pif["host"], MAC=pif["MAC"],
            MTU=db.get("network", network)["MTU"], VLAN=tag, physical=False,
            currently_attached=pif["currently_attached"], ip_configuration_mode="None",
        )
        vlan = db.create("VLAN", tagged_PIF=tagged_pif, untagged_PIF=untagged, tag=tag)
        db.get("PIF", untagged)["VLAN_master_of"] = vlan
        return vlan

    def vlan_destroy(self, db: Db, ref: str) -> None:
        vlan = db.get("VLAN", ref)
        untagged = vlan["untagged_PIF"]
        if db.has("PIF", untagged):
            if db.get("PIF", untagged)["management"]:
                raise XapiError("PIF_IS_MANAGEMENT_INTERFACE", untagged)
            db.delete("PIF", untagged)
        db.delete("VLAN", ref)

    def pool_create_vlan(self, db: Db, device: str, network: str, tag: int) -> list[str]:
        """pool.create_VLAN: a VLAN on `device` of every host; returns the new VLAN PIFs."""
        if not 0 <= tag <= 4094:
            raise XapiError("VLAN_TAG_INVALID", str(tag))
        db.get("network", network)
        out: list[str] = []
        for host in list(db.tables["host"]):
            tagged = db.refs("PIF", host=host, device=device, VLAN=-1)
            candidates = [p for p in tagged if db.get("PIF", p)["bond_slave_of"] == NULL_REF] or tagged
            if not candidates:
                continue
            vlan = self.vlan_create(db, candidates[0], tag, network)
            out.append(db.get("VLAN", vlan)["untagged_PIF"])
        return out

    def pif_destroy(self, db: Db, ref: str) -> None:
        pif = db.get("PIF", ref)
        if pif["physical"]:
            raise XapiError("PIF_IS_PHYSICAL", ref)
        if pif["VLAN_master_of"] != NULL_REF and db.has("VLAN", pif["VLAN_master_of"]):
            self.vlan_destroy(db, pif["VLAN_master_of"])
        else:
            db.delete("PIF", ref)

    def pif_plug(self, db: Db, ref: str, plug: bool) -> None:
        pif = db.get("PIF", ref)
        if not plug and pif["management"]:
            raise XapiError("PIF_IS_MANAGEMENT_INTERFACE", ref)
        if not plug and pif["disallow_unplug"]:
            raise XapiError("PIF_DOES_NOT_ALLOW_UNPLUG", ref)
        if plug and pif["bond_slave_of"] != NULL_REF:
            raise XapiError("CANNOT_PLUG_BOND_SLAVE", ref)
        pif["currently_attached"] = plug
        if plug:  # a PIF takes its network's MTU when it is (re)plugged
            pif["MTU"] = db.get("network", pif["network"])["MTU"]

    def bond_create(self, db: Db, network: str, members: list[str], mac: str, mode: str,
                    properties: dict[str, str]) -> str:
        db.get("network", network)
        if len(members) < 2:
            raise XapiError("PIF_BOND_NEEDS_MORE_MEMBERS")
        recs = [db.get("PIF", m) for m in members]
        if len({r["host"] for r in recs}) != 1:
            raise XapiError("PIF_CANNOT_BOND_CROSS_HOST")
        for m, r in zip(members, recs, strict=True):
            if r["bond_slave_of"] != NULL_REF:
                raise XapiError("PIF_ALREADY_BONDED", m)
            if r["VLAN"] != -1 or not r["physical"]:
                raise XapiError("PIF_IS_VLAN", m)
        host = recs[0]["host"]
        self._check_network_free(db, network, host)
        used = {p["device"] for _, p in db.where("PIF", host=host)}
        device = next(f"bond{i}" for i in range(100) if f"bond{i}" not in used)
        primary_i = next((i for i, r in enumerate(recs) if r["management"]), 0)
        primary = recs[primary_i]
        master = db.create(
            "PIF", device=device, network=network, host=host, MAC=mac or primary["MAC"],
            MTU=db.get("network", network)["MTU"], VLAN=-1, physical=False, currently_attached=True,
            management=primary["management"], ip_configuration_mode=primary["ip_configuration_mode"],
            IP=primary["IP"], netmask=primary["netmask"], gateway=primary["gateway"], DNS=primary["DNS"],
        )
        props = dict(BOND_PROPERTIES.get(mode, {}))
        props.update(properties)
        bond = db.create(
            "Bond", master=master, primary_slave=members[primary_i], mode=mode, properties=props,
            links_up=len(members), auto_update_mac=not mac,
        )
        for m, r in zip(members, recs, strict=True):
            for v in db.refs("VLAN", tagged_PIF=m):  # VLANs on a member move to the bond
                db.get("VLAN", v)["tagged_PIF"] = master
            r.update(bond_slave_of=bond, currently_attached=False, management=False,
                     ip_configuration_mode="None", IP="", netmask="", gateway="", DNS="")
        return bond

    def bond_destroy(self, db: Db, ref: str) -> None:
        bond = db.get("Bond", ref)
        master = db.get("PIF", bond["master"])
        members = db.refs("PIF", bond_slave_of=ref)
        primary = bond["primary_slave"] if bond["primary_slave"] in members else (members or [NULL_REF])[0]
        for m in members:
            db.get("PIF", m).update(bond_slave_of=NULL_REF, currently_attached=m == primary or False)
        if db.has("PIF", primary):
            db.get("PIF", primary).update(
                management=master["management"], currently_attached=True,
                ip_configuration_mode=master["ip_configuration_mode"], IP=master["IP"],
                netmask=master["netmask"], gateway=master["gateway"], DNS=master["DNS"],
            )
            for v in db.refs("VLAN", tagged_PIF=bond["master"]):
                db.get("VLAN", v)["tagged_PIF"] = primary
        db.delete("PIF", bond["master"])
        db.delete("Bond", ref)

    def bond_set_mode(self, db: Db, ref: str, mode: str) -> None:
        bond = db.get("Bond", ref)
        bond["mode"] = mode
        bond["properties"] = dict(BOND_PROPERTIES.get(mode, {}))

    # --- storage ------------------------------------------------------------------------------
    def sr_create(self, db: Db, host: str, device_config: dict[str, str], physical_size: int, name_label: str,
                  name_description: str, type: str, content_type: str, shared: bool,
                  sm_config: dict[str, str] | None) -> str:
        db.get("host", host)
        if type not in SR_DRIVERS:
            raise XapiError("SR_UNKNOWN_DRIVER", type)
        for key in SR_DRIVERS[type]:
            if not device_config.get(key):
                raise XapiError("SR_BACKEND_FAILURE", "101", "", f"The request is missing the {key} parameter")
        sm = dict(SR_SM_CONFIG.get(type, {}))
        sm.update(sm_config or {})
        sr = db.create(
            "SR", name_label=name_label, name_description=name_description, type=type,
            content_type=content_type or "user", shared=shared, physical_size=physical_size or SR_DEFAULT_SIZE,
            physical_utilisation=0, virtual_allocation=0, sm_config=sm, other_config={},
            allowed_operations=["forget", "destroy", "scan", "plug", "unplug", "update"],
        )
        for h in (list(db.tables["host"]) if shared else [host]):
            db.create("PBD", host=h, SR=sr, device_config=dict(device_config), currently_attached=True)
        return sr

    def sr_introduce(self, db: Db, uuid: str, name_label: str, name_description: str, type: str,
                     content_type: str, shared: bool, sm_config: dict[str, str] | None) -> str:
        if type not in SR_DRIVERS:
            raise XapiError("SR_UNKNOWN_DRIVER", type)
        for ref, rec in db.tables["SR"].items():
            if rec["uuid"] == uuid:
                return ref
        sr = db.create("SR", name_label=name_label, name_description=name_description, type=type,
                       content_type=content_type, shared=shared, sm_config=dict(sm_config or {}),
                       physical_size=SR_DEFAULT_SIZE, other_config={})
        db.get("SR", sr)["uuid"] = uuid or new_uuid()
        return sr

    def _assert_unplugged(self, db: Db, sr: str) -> None:
        if any(p["currently_attached"] for _, p in db.where("PBD", SR=sr)):
            raise XapiError("SR_HAS_PBD", sr)

    def sr_forget(self, db: Db, sr: str) -> None:
        db.get("SR", sr)
        self._assert_unplugged(db, sr)
        for ref in db.refs("PBD", SR=sr):
            db.delete("PBD", ref)
        for fld in ("default_SR", "suspend_image_SR", "crash_dump_SR"):
            if db.pool[fld] == sr:
                db.pool[fld] = NULL_REF
        db.delete("SR", sr)

    def sr_destroy(self, db: Db, sr: str) -> None:
        db.get("SR", sr)
        self._assert_unplugged(db, sr)
        self.sr_forget(db, sr)

    def pbd_create(self, db: Db, args: dict[str, Any]) -> str:
        host, sr = args.get("host", NULL_REF), args.get("SR", NULL_REF)
        db.get("host", host)
        db.get("SR", sr)
        for ref, _ in db.where("PBD", host=host, SR=sr):
            raise XapiError("PBD_EXISTS", sr, host, ref)
        return db.create("PBD", host=host, SR=sr, device_config=dict(args.get("device_config", {})),
                         other_config=dict(args.get("other_config", {})), currently_attached=False)

    def pbd_transition(self, db: Db, ref: str, event: str) -> None:
        pbd = db.get("PBD", ref)
        sr = db.get("SR", pbd["SR"])
        if event == "plug" and sr["type"] not in SR_DRIVERS:
            raise XapiError("SR_UNKNOWN_DRIVER", sr["type"])
        pbd["currently_attached"] = PBD_TRANSITIONS[(bool(pbd["currently_attached"]), event)]

    def pbd_destroy(self, db: Db, ref: str) -> None:
        if db.get("PBD", ref)["currently_attached"]:
            raise not_allowed("PBD is currently attached")
        db.delete("PBD", ref)
