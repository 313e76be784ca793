"""`ironic.Node`: a bare-metal server enrolled in Ironic and walked to the state the program wants.

The node's hardware description (driver, BMC credentials, properties, interfaces, ports) is
changed in place where Ironic allows it. Ironic refuses a new driver, hardware interface or
resource class once a node is deployed (conductor `update_node`), so such a change on a node
that is not resting in enroll/manageable/available is a replace, and preview says so.

Create adopts a node that already has the program's name (what a crashed or failed earlier run
left) instead of duplicating it, and walks it on from whatever state it is in. Read reports the
node's state as its `target_state` (its stable state, where it is heading, or the failed state
it is stuck in), so an out-of-band undeploy or a failure is drift the next `up` walks back.

Maps (`driver_info`, `properties`, `instance_info`) are managed key by key: the keys the
program declares are set, keys it stops declaring are removed, and keys Ironic or inspection add
are left alone and not reported as drift. Ironic masks passwords as `******` when read back: a
masked value is taken to be the declared one (Ironic cannot tell us otherwise).
"""

from __future__ import annotations

import re
import uuid as uuidlib
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args

import pulumi
import pydantic
from pulumi.dynamic import DiffResult
from typing_extensions import override

from providers._core import (
    LISTINGS,
    Field,
    Lifecycle,
    NotFound,
    Obj,
    Permanent,
    Policy,
    Table,
    diff_fields,
    diff_result,
)
from providers._core.cache import current_read
from providers._core.declare import Args, PulumiInputsBase, arg, output
from providers._core.resource import Declared

from . import _states as st
from . import _walk
from ._api import Once, client, errors
from ._walk import ConfigDrive, Power, Timeouts
from .settings import Settings

MASK = "******"
ADOPTED = "(adopted)"  # marks the node `make` found under its name instead of creating it

Interface = Literal[
    "bios", "boot", "console", "deploy", "firmware", "inspect", "management", "network", "power",
    "raid", "rescue", "storage", "vendor",
]


_MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
_NAME = re.compile(r"^[A-Za-z0-9\-._~]+$")  # Ironic's logical names (API >= 1.10)


def integral(value: Any) -> Any:
    """Numbers come from the engine as floats (4 -> 4.0): give whole numbers back as ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral(v) for v in value]
    return value


def _macs(value: Any) -> Any:
    return sorted(str(m).lower() for m in value) if isinstance(value, list) else value


def _floats(value: Any) -> Any:
    return {k: float(v) for k, v in value.items()} if isinstance(value, Mapping) else value


# ---------------------------------------------------------------------------------------------
# Inputs


class InstanceInfo(pydantic.BaseModel):
    """What a deploy writes: a disk image, or an installer ISO booted with kernel parameters
    (hypervisors such as XCP-ng install from their ISO with an answer file)."""

    model_config = pydantic.ConfigDict(extra="forbid")
    image_source: str | None = pydantic.Field(default=None, description="URL of a disk image")
    image_checksum: str | None = pydantic.Field(default=None, description="checksum (or its URL) of the image")
    image_disk_format: str | None = pydantic.Field(default=None, description="raw, qcow2, ...")
    root_gb: int | None = pydantic.Field(default=None, ge=1, description="root partition size (partition images)")
    boot_iso: str | None = pydantic.Field(default=None, description="URL of an installer or live ISO to boot")
    kernel_append_params: str | None = pydantic.Field(default=None, description="kernel command line for the ISO")

    @pydantic.model_validator(mode="after")
    def _one_source(self) -> InstanceInfo:
        if (self.image_source is None) == (self.boot_iso is None):
            raise ValueError("give exactly one of image_source (a disk image) or boot_iso (an ISO)")
        if self.kernel_append_params is not None and self.boot_iso is None:
            raise ValueError("kernel_append_params applies to a boot_iso deploy")
        return self


class NodeChecks(PulumiInputsBase):
    """Ironic's logical names, whole numbers in maps, MAC addresses, and an image to deploy."""

    @pydantic.field_validator("name", check_fields=False)
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("Ironic names may hold only letters, digits and -._~")
        return v

    @pydantic.field_validator("driver_info", "properties", mode="after", check_fields=False)
    @classmethod
    def _integral(cls, v: dict[str, Any]) -> dict[str, Any]:
        return dict(integral(v))

    @pydantic.field_validator("ports", check_fields=False)
    @classmethod
    def _ports(cls, v: list[str]) -> list[str]:
        macs = [m.strip().lower().replace("-", ":") for m in v]
        for m in macs:
            if not _MAC.match(m):
                raise ValueError(f"{m!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
        if len(set(macs)) != len(macs):
            raise ValueError("a MAC address is listed twice")
        return sorted(macs)

    @pydantic.model_validator(mode="after")
    def _deploy_needs_image(self) -> NodeChecks:
        if getattr(self, "target_state", None) == "active" and getattr(self, "instance_info", None) is None:
            raise ValueError("target_state 'active' needs instance_info (image_source or boot_iso)")
        return self


# A replacement must not adopt (by name) the very node it replaces: delete first.
class NodeArgs(Args, resource="ironic.Node", delete_before_replace=True, checks=NodeChecks):
    """Inputs of `ironic.Node`: each field declared once (validation, table, secrets, outputs)."""

    name: pulumi.Input[str] = arg(min_length=1, max_length=255)
    """The node's unique name in Ironic: a node already enrolled under it is adopted; renamed in place."""
    driver: pulumi.Input[str] = arg(min_length=1)
    """Hardware type: `ipmi`, `redfish`, `idrac`, ... (`fake-hardware` in the lab); changed in place
    unless deployed: then replaced (see `node_diff`)."""
    driver_info: pulumi.Input[Mapping[str, Any]] | None = arg(
        default=None, secret=True, check=dict[str, Any], default_factory=dict)
    """BMC address and credentials (secret)."""
    properties: pulumi.Input[Mapping[str, Any]] | None = arg(
        default=None, normalize=integral, check=dict[str, Any], default_factory=dict)
    """Hardware properties: cpus, memory_mb, local_gb, capabilities, ..."""
    resource_class: pulumi.Input[str] | None = arg(default=None, max_length=80)
    """Scheduling class; changed in place only while the node is not deployed."""
    interfaces: pulumi.Input[Mapping[str, str]] | None = arg(
        default=None, check=dict[Interface, str], default_factory=dict)
    """Hardware interfaces by family (`boot`, `deploy`, `power`, ...), e.g. {'boot': 'redfish-virtual-media'}."""
    ports: pulumi.Input[list[str]] | None = arg(default=None, normalize=_macs, check=list[str], default_factory=list)
    """MAC addresses of the node's NICs (one Ironic port each)."""
    target_state: pulumi.Input[str] = arg(default="available", check=st.Target)
    """The provision state to walk the node to: `manageable`, `available` or `active`."""
    instance_info: pulumi.Input[Mapping[str, Any]] | None = arg(default=None, normalize=integral, check=InstanceInfo)
    """What a deploy writes: `image_source` (+ checksum), or `boot_iso` + `kernel_append_params`."""
    config_drive: pulumi.Input[Any] | None = arg(default=None, secret=True, check=ConfigDrive)
    """Config drive for the deploy (secret): URL, gzipped base64 ISO, or {meta_data, user_data}."""
    timeouts: pulumi.Input[Mapping[str, float]] | None = arg(
        default=None, normalize=_floats, check=Timeouts, default_factory=Timeouts)
    """Deadline per phase in seconds (`manage`, `clean`, `deploy`, `undeploy`) and `poll_interval`."""
    wait: pulumi.Input[bool] = arg(default=True)
    """Wait for the target state (True), or return once Ironic accepted the next step, leaving the
    wait to an `ironic.Fleet` that waits for many at once (False)."""
    power: pulumi.Input[str] | None = arg(default=None, check=Power)
    """`on` (or `off`): the deployed node's power, kept (powered off by hand: drift that refresh shows
    and up repairs); unset: not managed. Read back as the live power state."""
    maintenance: pulumi.Input[bool] | None = arg(default=None)
    """The maintenance flag, kept (set by hand: drift, repaired); unset: not managed."""
    uuid: pulumi.Output[str] = output()
    """The node's UUID (its id)."""
    provision_state: pulumi.Output[str] = output()
    """Ironic's provision state."""
    power_state: pulumi.Output[str] = output()
    """Ironic's power state."""
    last_error: pulumi.Output[str] = output()
    """Ironic's last error."""
    walk: pulumi.Output[str] = output()
    """Changes whenever a walk starts: a Fleet waits for it."""


TABLE = NodeArgs.table()
# The hardware interfaces as Ironic names them: `interfaces={"boot": ...}` <-> `boot_interface`.
IFACES = Table("ironic.Node interfaces", tuple(Field(f, api=f"{f}_interface") for f in get_args(Interface)))

# Fields a node is created with, and the plain ones a patch replaces as they are.
CREATE_FIELDS = ["name", "driver", "driver_info", "properties", "resource_class"]
PLAIN_FIELDS = ["name", "driver", "resource_class"]
# Fields read back as Ironic reports them (the maps, ports and states are read key by key).
READ_AS_IS = ("name", "driver", "uuid", "provision_state", "power_state", "last_error")
# Fields Ironic refuses to change on a deployed node.
RECONFIGURE_ONLY = ("driver", "interfaces", "resource_class")
# States whose instance_info is worth comparing (Ironic clears it at undeploy).
DEPLOYED = ("active", "deploying", "wait call-back", "deploy failed")


# ---------------------------------------------------------------------------------------------
# Pure parts: diff and the JSON patch


def unmask(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """`old` outputs with masked `driver_info` values taken as the new declared ones."""
    old_info, new_info = old.get("driver_info"), new.get("driver_info")
    if not isinstance(old_info, Mapping) or not isinstance(new_info, Mapping):
        return dict(old)
    fixed = {k: (new_info[k] if v == MASK and k in new_info else v) for k, v in old_info.items()}
    return {**old, "driver_info": fixed}


def node_diff(olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffResult:
    """Pure: a driver, interface or resource-class change is a replace once the node is deployed."""
    changes = diff_fields(unmask(olds, news), news, TABLE)
    reconfigurable = olds.get("provision_state") in st.RECONFIGURABLE
    changes = [
        c if c.path not in RECONFIGURE_ONLY or reconfigurable else type(c)(c.op, c.path, c.old, c.new, True)
        for c in changes
    ]
    return diff_result(changes, TABLE)


def _enroll(nodes: Any, body: Obj) -> Obj:
    """POST /v1/nodes. Ironic takes `instance_info` at creation, python-ironicclient's `create`
    does not let it through: such a body is posted as it is (one request, not a create and a patch)."""
    if "instance_info" not in body:
        return dict(nodes.create(**body).to_dict())
    _resp, made = nodes.api.json_request("POST", "/v1/nodes", body=body)
    return dict(made)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _map_patch(path: str, live: Mapping[str, Any], want: Mapping[str, Any],
               before: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per-key ops: set declared keys that differ, remove keys the program stopped declaring.

    A masked live value cannot be compared: it is sent again unless `before` (what the program
    declared last time; empty for an adopted node, whose password is unknown) holds it unchanged."""
    ops: list[dict[str, Any]] = []
    for key, value in want.items():
        current = live.get(key)
        if current == MASK and key in before and before[key] == value:
            continue
        if key not in live or current != value:
            ops.append({"op": "add", "path": f"{path}/{_escape(key)}", "value": value})
    ops += [{"op": "remove", "path": f"{path}/{_escape(key)}"} for key in before if key not in want and key in live]
    return ops


def node_patch(live: Mapping[str, Any], wanted: Mapping[str, Any] | pydantic.BaseModel,
               before: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Pure: the JSON patch (sorted by path) taking the live node to the declared one.

    `live` is the node as Ironic returns it; `before` the inputs the program declared last time
    (None for an adopted node). The plain fields and interfaces go through their tables."""
    want = wanted.model_dump(mode="json", exclude_none=True) if isinstance(wanted, pydantic.BaseModel) else wanted
    prev = before or {}
    plain = {**TABLE.to_api(want, PLAIN_FIELDS), **IFACES.to_api(want.get("interfaces") or {})}
    ops = [{"op": "replace", "path": f"/{key}", "value": v} for key, v in plain.items() if live.get(key) != v]
    maps = ["driver_info", "properties"] + (["instance_info"] if want.get("target_state") == "active" else [])
    for m in maps:
        ops += _map_patch(f"/{m}", live.get(m) or {}, want.get(m) or {}, prev.get(m) or {})
    return sorted(ops, key=lambda op: op["path"])


def declared_keys(live: Mapping[str, Any] | None, declared: Mapping[str, Any] | None,
                  masked_from: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The declared keys of a live map (what the program manages), masked values unmasked."""
    live, masked_from = live or {}, masked_from or {}
    return {key: masked_from[key] if live[key] == MASK and key in masked_from else live[key]
            for key in declared or {} if key in live}


# ---------------------------------------------------------------------------------------------
# The provider: the core's lifecycle (providers._core.lifecycle) with the hooks below.
# create = `make` (enroll with ports, or adopt the node holding the name), then `created` walks
# it; update = `apply` (patch, ports, walk); read = `fetch` + `outputs`; delete = `destroy` (undeploy walk).


class NodeProvider(Lifecycle[Settings, _walk.NodeRef]):
    args = NodeArgs
    settings_model = Settings

    @override
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return node_diff(olds, news)

    @override
    def client(self, props: Mapping[str, Any]) -> _walk.NodeRef:
        s = self.settings(props)
        timeouts = {**Timeouts().model_dump(), **(props.get("timeouts") or {})}
        return _walk.NodeRef(client(s.endpoint, s.http_timeout), self.label(props), str(props.get("name")),
                             timeouts, props.get("config_drive"))

    @override
    def policy(self, client: _walk.NodeRef) -> Policy:
        return Once(client.resource)

    @override
    def obj_id(self, obj: Obj) -> str:
        return str(obj["uuid"])

    @override
    def fetch(self, client: _walk.NodeRef, obj_id: str) -> Obj | None:
        """The node by UUID or name (inside a refresh: with its MACs, from the shared listings)."""
        if current_read() is not None and (listed := self._listed(client, obj_id)) is not None:
            return listed
        try:
            return _walk.get(client.at(obj_id))
        except NotFound:
            return None

    @override
    def make(self, client: _walk.NodeRef, wanted: Obj) -> Obj:
        """Enroll the node with its ports, all or nothing (a node without its ports is not what
        the program asked for); a node already enrolled under the name is adopted instead: Ironic
        refuses a second node of that name, so no lookup comes first (`find`: a 404 per new node)."""
        body = {**TABLE.to_api(wanted, CREATE_FIELDS), **IFACES.to_api(wanted["interfaces"])}
        if wanted["target_state"] == "active" and wanted.get("instance_info"):
            body["instance_info"] = wanted["instance_info"]  # for the deploy
        try:
            with errors(client.resource, "create node"):
                node = _enroll(client.client.node, body)
        except Permanent as e:
            # Ironic's DuplicateName (409): what an earlier run left, or an operator enrolled.
            left = self.fetch(client, wanted["name"]) if f"name {wanted['name']} already exists" in e.message else None
            if left is None:
                raise
            return {**left, ADOPTED: True}
        ref = client.at(node["uuid"])
        try:
            # Made as declared, the patch is empty: no request.
            node = self._patch(ref, node, wanted, wanted)
            return {**node, "ports": self._ports(ref, wanted["ports"], {})}
        except Exception:
            with errors(ref.resource, "delete the node just created (undo)"):
                ref.client.node.delete(ref.uuid)
            raise

    @override
    def created(self, client: _walk.NodeRef, obj_id: str, obj: Obj, created: bool, wanted: Obj) -> Obj:
        # Made: enrolled as declared. Adopted (what an earlier run left, or an operator enrolled):
        # nothing about it is known, so masked values are sent again and it is never rebuilt.
        made = created and not obj.pop(ADOPTED, False)
        return self.converged(client, self._bring(client.at(obj_id), obj, wanted, wanted if made else {}), wanted)

    @override
    def apply(self, client: _walk.NodeRef, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj:
        ref = client.at(obj_id)
        return self._bring(ref, _walk.get(ref), wanted, current)

    @override
    def converged(self, client: _walk.NodeRef, obj: Obj, wanted: Obj) -> Obj:
        """What is declared, and where Ironic has the node: a Fleet may finish the walk later."""
        return {**wanted, **{f.name: obj.get(f.api_name) for f in TABLE.outputs}}

    @override
    def outputs(self, client: _walk.NodeRef, obj: Obj, carried: Obj) -> Obj:
        """What Ironic reports under the table's names; the maps key by key (masked values as
        `carried` has them); where the node is heading as its `target_state`."""
        state = obj["provision_state"]
        outs = {**carried, **{k: v for k, v in TABLE.from_api(obj).items() if k in READ_AS_IS}}
        outs.update(
            driver_info=declared_keys(obj.get("driver_info"), carried.get("driver_info"), carried.get("driver_info")),
            properties=declared_keys(obj.get("properties"), carried.get("properties")),
            interfaces={k: v for k, v in IFACES.from_api(obj).items() if k in (carried.get("interfaces") or {})},
            ports=obj["ports"] if "ports" in obj else sorted(self._live_ports(client.at(obj["uuid"]))),
            target_state=st.heading(state, obj["target_provision_state"]),
        )
        if carried.get("power") is not None:
            outs["power"] = "on" if obj["power_state"] == "power on" else "off"
        if carried.get("maintenance") is not None:
            outs["maintenance"] = bool(obj["maintenance"])
        if carried.get("resource_class") is not None or obj["resource_class"]:
            outs["resource_class"] = obj["resource_class"]
        if state in DEPLOYED and carried.get("instance_info"):
            outs["instance_info"] = declared_keys(obj.get("instance_info"), carried["instance_info"])
        return outs

    @override
    def managed(self, outputs: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
        """Every field present (None when unset): in preview the SDK takes a missing output to be
        unknown, which would make everything built from it (a Fleet) look changed."""
        return {f.name: outputs.get(f.name) for f in TABLE}

    @override
    def destroy(self, client: _walk.NodeRef, obj: Obj) -> None:
        """Undeploy (walk to manageable, a state Ironic deletes in), then delete."""
        ref = client.at(obj["uuid"])
        node = _walk.settle(ref, obj)
        if node["provision_state"] not in st.DELETABLE:
            _walk.walk(ref, "manageable")
        with errors(ref.resource, "delete node"):
            ref.client.node.delete(ref.uuid)

    # -- the steps --

    def _bring(self, ref: _walk.NodeRef, node: Obj, want: Obj, before: Mapping[str, Any]) -> Obj:
        """Bring the node to `want` (`before`: what was declared last time): maintenance flag,
        patch, ports, then the walk (or its next step) and the power."""
        known = node.get("ports")
        node = _walk.settle(ref, _walk.set_maintenance(ref, node, want.get("maintenance")))
        # A deployed node whose image or config drive changed is rebuilt (Ironic's `rebuild`
        # redeploys with the new instance_info): the program asked for a different server.
        rebuild = bool(before) and want["target_state"] == node["provision_state"] == "active" and (
            integral(before.get("instance_info")) != want.get("instance_info")
            or before.get("config_drive") != want.get("config_drive"))
        node = self._patch(ref, node, want, before)
        ports = want["ports"] if known == want["ports"] else self._ports(ref, want["ports"])
        first = "rebuild" if rebuild else None
        if want["wait"]:
            node, pending = _walk.walk(ref, want["target_state"], first=first), False
        else:
            node, pending = _walk.step(ref, want["target_state"], node=node, first=first)
        node = _walk.set_power(ref, node, want.get("power"))
        return {**node, "ports": ports, "walk": uuidlib.uuid4().hex if pending else str(before.get("walk") or "")}

    def _patch(self, ref: _walk.NodeRef, node: Obj, want: Obj, before: Mapping[str, Any]) -> Obj:
        patch = node_patch(node, want, before)
        if not patch:
            return node
        reset = True if any(op["path"] == "/driver" for op in patch) else None
        with errors(ref.resource, "update node"):
            return dict(ref.client.node.update(ref.uuid, patch, reset_interfaces=reset).to_dict())

    def _live_ports(self, ref: _walk.NodeRef) -> dict[str, str]:
        ports = ref.call("list ports", lambda: ref.client.port.list(node=ref.uuid, fields=["uuid", "address"]))
        return {p.address.lower(): p.uuid for p in ports}

    def _ports(self, ref: _walk.NodeRef, macs: list[str], live: Mapping[str, str] | None = None) -> list[str]:
        """Create missing ports and delete extra ones; `live` (MAC -> UUID): listed when not given."""
        live = self._live_ports(ref) if live is None else live
        for mac in sorted(set(macs) - set(live)):
            with errors(ref.resource, f"create port {mac}"):
                ref.client.port.create(node_uuid=ref.uuid, address=mac)
        for mac in sorted(set(live) - set(macs)):
            with errors(ref.resource, f"delete port {mac}"):
                ref.client.port.delete(live[mac])
        return sorted(macs)

    def _listed(self, ref: _walk.NodeRef, ident: str) -> Obj | None:
        """The node and its MACs from the listings every node's read in a refresh shares (two
        requests for the whole fleet); None when not listed (then it is asked for alone)."""
        endpoint = self.settings().endpoint

        def listed(what: str, fn: Callable[[], Any]) -> list[Any]:
            return LISTINGS.get(("ironic", endpoint, what), lambda: ref.call(what, lambda: list(fn())))

        node = next((n for n in listed("list nodes", lambda: ref.client.node.list(detail=True, limit=0))
                     if ident in (n.uuid, n.name)), None)
        if node is None:
            return None
        ports = listed("list ports", lambda: ref.client.port.list(fields=["address", "node_uuid"], limit=0))
        return {**node.to_dict(), "ports": sorted(p.address.lower() for p in ports if p.node_uuid == node.uuid)}


# ---------------------------------------------------------------------------------------------
# The resource


class Node(Declared[NodeArgs], module="ironic", name="Node"):
    """A bare-metal node in Ironic, walked to `target_state`."""

    provider_type = NodeProvider

    def __init__(self, resource_name: str, args: NodeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(resource_name, args, opts)
        # What a Fleet needs to walk this node, from the INPUTS: an unset (null) output reads as
        # unknown in preview, and `target_state` as an output is where the node is (drift).
        drive = args.config_drive
        self.fleet_inputs: dict[str, Any] = {
            "name": args.name, "target": args.target_state, "timeouts": args.timeouts,
            "config_drive": None if drive is None else pulumi.Output.secret(drive), "power": args.power,
        }
