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
from collections.abc import Mapping
from typing import Any, Literal

import pulumi
import pydantic
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, UpdateResult

from providers._core import (
    LISTINGS,
    NotFound,
    Provider,
    diff_fields,
    diff_result,
    parse,
    retry,
)
from providers._core.cache import current_read
from providers._core.declare import Args, PulumiInputsBase, arg, output
from providers._core.resource import Declared

from . import _states as st
from . import _walk
from ._api import client, errors
from .settings import Settings

MASK = "******"

INTERFACES = (
    "bios", "boot", "console", "deploy", "firmware", "inspect", "management", "network", "power",
    "raid", "rescue", "storage", "vendor",
)
Interface = Literal[
    "bios", "boot", "console", "deploy", "firmware", "inspect", "management", "network", "power",
    "raid", "rescue", "storage", "vendor",
]

Target = Literal["manageable", "available", "active"]  # the states a node is walked to
Power = Literal["on", "off"]
ConfigDrive = str | dict[str, Any]  # a URL, a gzipped base64 ISO, or {meta_data, user_data}

_MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
Want = dict[str, Any]  # validated inputs, as `check` stores them
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


class Timeouts(pydantic.BaseModel):
    """Deadlines per phase, in seconds. The defaults fit real servers: a BMC check takes minutes,
    automated cleaning (disk erase) and an image deploy each up to an hour."""

    model_config = pydantic.ConfigDict(extra="forbid")
    manage: float = pydantic.Field(default=600, gt=0, description="enroll -> manageable (BMC verification)")
    clean: float = pydantic.Field(default=3600, gt=0, description="manageable -> available (automated cleaning)")
    deploy: float = pydantic.Field(default=3600, gt=0, description="available -> active (deploy, or rebuild)")
    undeploy: float = pydantic.Field(default=3600, gt=0, description="active -> available (tear down and clean)")
    poll_interval: float = pydantic.Field(default=10, gt=0, description="seconds between state polls")


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
    target_state: pulumi.Input[str] = arg(default="available", check=Target)
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
NodeInputs = NodeArgs.model()  # the validated inputs (check)

# Fields a node is created with, and the plain ones a patch replaces as they are.
CREATE_FIELDS = ("name", "driver", "driver_info", "properties", "resource_class")
PLAIN_FIELDS = ("name", "driver", "resource_class")
# Fields read back as Ironic reports them (the maps, ports and states are read key by key).
READ_AS_IS = ("name", "driver", "uuid", "provision_state", "power_state", "last_error")
# Fields Ironic refuses to change on a deployed node.
RECONFIGURE_ONLY = ("driver", "interfaces", "resource_class")


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


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _map_patch(path: str, live: Mapping[str, Any], want: Mapping[str, Any],
               before: Mapping[str, Any], masked_ok: bool) -> list[dict[str, Any]]:
    """Per-key ops: set declared keys that differ, remove keys the program stopped declaring.

    A masked live value cannot be compared: it is sent again when the declared value changed
    since `before`, or when there is no `before` (an adopted node: its password is unknown)."""
    ops: list[dict[str, Any]] = []
    for key, value in want.items():
        current = live.get(key)
        if current == MASK and masked_ok and key in before and before[key] == value:
            continue
        if key not in live or current != value:
            ops.append({"op": "add", "path": f"{path}/{_escape(key)}", "value": value})
    for key in before:
        if key not in want and key in live:
            ops.append({"op": "remove", "path": f"{path}/{_escape(key)}"})
    return ops


def node_patch(live: Mapping[str, Any], wanted: Mapping[str, Any] | pydantic.BaseModel,
               before: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Pure: the JSON patch (sorted by path) taking the live node to the declared one.

    `live` is the node as Ironic returns it; `before` the inputs the program declared last time
    (None for an adopted node)."""
    want = dump(wanted) if isinstance(wanted, pydantic.BaseModel) else wanted
    prev = before or {}
    ops: list[dict[str, Any]] = []
    for key, value in TABLE.to_api(want, list(PLAIN_FIELDS)).items():
        if live.get(key) != value:
            ops.append({"op": "replace", "path": f"/{key}", "value": value})
    for family, iface in (want.get("interfaces") or {}).items():
        if live.get(f"{family}_interface") != iface:
            ops.append({"op": "replace", "path": f"/{family}_interface", "value": iface})
    ops += _map_patch("/driver_info", live.get("driver_info") or {}, want.get("driver_info") or {},
                      prev.get("driver_info") or {}, masked_ok=before is not None)
    ops += _map_patch("/properties", live.get("properties") or {}, want.get("properties") or {},
                      prev.get("properties") or {}, masked_ok=True)
    if want.get("target_state") == "active" and want.get("instance_info") is not None:
        ops += _map_patch("/instance_info", live.get("instance_info") or {}, want["instance_info"],
                          prev.get("instance_info") or {}, masked_ok=True)
    return sorted(ops, key=lambda op: op["path"])


def dump(model: pydantic.BaseModel) -> dict[str, Any]:
    """Validated inputs as the plain dict `check` stores (defaults filled in, Nones dropped)."""
    return model.model_dump(mode="json", exclude_none=True)


def managed(live: Mapping[str, Any] | None, declared: Mapping[str, Any] | None,
            masked_from: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The declared keys of a live map (what the program manages), masked values unmasked."""
    live = live or {}
    out: dict[str, Any] = {}
    for key in declared or {}:
        if key in live:
            value = live[key]
            if value == MASK and masked_from is not None and key in masked_from:
                value = masked_from[key]
            out[key] = value
    return out


def every_field(outs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs with every field present (None when unset): in preview the SDK takes a missing
    output to be unknown, which would make everything built from it (a Fleet) look changed."""
    return {f.name: outs.get(f.name) for f in TABLE}


# ---------------------------------------------------------------------------------------------
# The provider


class NodeProvider(Provider[Settings]):
    args = NodeArgs
    settings_model = Settings

    def _client(self) -> Any:
        settings = self.settings()
        return client(settings.endpoint, settings.http_timeout)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return node_diff(olds, news)

    # -- helpers --

    @staticmethod
    def _res(name: str) -> str:
        return f"ironic.Node {name}"

    @staticmethod
    def _ref(res: str, uuid: str, want: Want) -> _walk.NodeRef:
        return _walk.NodeRef(res, uuid, want["name"], want["timeouts"], want.get("config_drive"))

    def _wanted(self, props: Mapping[str, Any]) -> Want:
        """Validated inputs (an `InputError` naming field, value and reason)."""
        return dump(parse(self.input_model(), props, self._res(str(props.get("name")))))

    def _find(self, c: Any, res: str, ident: str) -> Any | None:
        try:
            with errors(res, f"look up node {ident}"):
                return c.node.get(ident)
        except NotFound:
            return None

    def _listed(self, c: Any, res: str, ident: str) -> tuple[Any, list[str]] | None:
        """Inside a refresh: the node and its MACs from the listings every node's read shares (two
        requests for the whole fleet); None when not in a read or not listed (then asked alone)."""
        if current_read() is None:
            return None
        endpoint = self.settings().endpoint

        def listed(what: str, call: Any) -> list[Any]:
            def attempt() -> list[Any]:
                with errors(res, what):
                    return list(call())

            return LISTINGS.get(("ironic", endpoint, what), lambda: retry(attempt, resource=res, what=what))

        node = next((n for n in listed("list nodes", lambda: c.node.list(detail=True, limit=0))
                     if ident in (n.uuid, n.name)), None)
        if node is None:
            return None
        ports = listed("list ports", lambda: c.port.list(fields=["address", "node_uuid"], limit=0))
        return node, sorted(p.address.lower() for p in ports if p.node_uuid == node.uuid)

    def _sync_ports(self, c: Any, res: str, uuid: str, macs: list[str], *, fresh: bool = False) -> list[str]:
        """Create missing ports and delete extra ones (`fresh`: a node just created has none)."""
        live: dict[str, str] = {}
        if not fresh:
            with errors(res, "list ports"):
                live = {p.address.lower(): p.uuid for p in c.port.list(node=uuid, fields=["uuid", "address"])}
        for mac in sorted(set(macs) - set(live)):
            with errors(res, f"create port {mac}"):
                c.port.create(node_uuid=uuid, address=mac)
        for mac in sorted(set(live) - set(macs)):
            with errors(res, f"delete port {mac}"):
                c.port.delete(live[mac])
        return sorted(macs)

    def _apply(self, c: Any, res: str, node: Any, want: Want, before: Mapping[str, Any] | None) -> None:
        patch = node_patch(node.to_dict(), want, before)
        if patch:
            driver_changes = any(op["path"] == "/driver" for op in patch)
            with errors(res, "update node"):
                c.node.update(node.uuid, patch, reset_interfaces=True if driver_changes else None)

    def _finish(self, c: Any, res: str, uuid: str, want: Want, *, first: str | None = None,
                walk_id: str = "", node: Any = None) -> dict[str, Any]:
        """Walk (or step) the node to its target; return the outputs."""
        ref = self._ref(res, uuid, want)
        if want["wait"]:
            node = _walk.walk(c, ref, want["target_state"], first=first)
        else:
            if first:
                _walk.act(c, ref, first)
                node, pending = _walk.get(c, ref), True
            else:
                node, pending = _walk.step(c, ref, want["target_state"], node=node)
            if pending:
                walk_id = uuidlib.uuid4().hex
        node = _walk.set_power(c, ref, node, want.get("power"))
        outs = dict(want)
        outs.update(uuid=uuid, provision_state=node.provision_state, power_state=node.power_state,
                    last_error=node.last_error, walk=walk_id or "")
        return every_field(outs)

    # -- CRUD --

    def create(self, props: dict[str, Any]) -> CreateResult:
        want = self._wanted(props)
        res = self._res(want["name"])
        c = self._client()
        node = self._find(c, res, want["name"])
        if node is not None:
            # Adopt what an earlier run left (or an operator enrolled): no twin, resume its walk.
            node = _walk.set_maintenance(c, self._ref(res, node.uuid, want), node, want.get("maintenance"))
            node = _walk.settle(c, self._ref(res, node.uuid, want))
            self._apply(c, res, node, want, None)
            self._sync_ports(c, res, node.uuid, want["ports"])
            return CreateResult(node.uuid, self._finish(c, res, node.uuid, want))
        # The creation attributes through the table (instance_info and ports come after).
        body = TABLE.to_api(want, list(CREATE_FIELDS))
        body.update({f"{fam}_interface": iface for fam, iface in want["interfaces"].items()})
        with errors(res, "create node"):
            node = c.node.create(**body)
        try:
            # instance_info is not a creation attribute: it is patched in (only for a deploy).
            self._apply(c, res, node, want, want)
            self._sync_ports(c, res, node.uuid, want["ports"], fresh=True)
        except Exception:
            # Transactional: a node without its ports is not what the program asked for.
            with errors(res, "delete the node just created (undo)"):
                c.node.delete(node.uuid)
            raise
        return CreateResult(node.uuid, self._finish(c, res, node.uuid, want, node=node))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        res = self._res(str(props.get("name") or id_))
        c = self._client()
        listed = self._listed(c, res, id_)
        if listed is not None:
            node, macs = listed
        else:
            node = self._find(c, res, id_)
            if node is None:
                return self.gone()
            with errors(res, "list ports"):
                macs = sorted(p.address.lower() for p in c.port.list(node=node.uuid, fields=["address"]))
        live = node.to_dict()
        outs = dict(props)
        # What Ironic reports under the table's names, through the table; the maps key by key.
        outs.update({k: v for k, v in TABLE.from_api(live).items() if k in READ_AS_IS})
        outs.update(
            driver_info=managed(live.get("driver_info"), props.get("driver_info"), props.get("driver_info")),
            properties=managed(live.get("properties"), props.get("properties")),
            interfaces={fam: live.get(f"{fam}_interface") for fam in props.get("interfaces") or {}},
            ports=macs,
            target_state=st.heading(node.provision_state, node.target_provision_state),
        )
        if props.get("power") is not None:
            outs["power"] = "on" if node.power_state == "power on" else "off"
        if props.get("maintenance") is not None:
            outs["maintenance"] = bool(node.maintenance)
        if props.get("resource_class") is not None or node.resource_class:
            outs["resource_class"] = node.resource_class
        # Ironic clears instance_info at undeploy: only a deployed node's is worth comparing.
        if node.provision_state in ("active", "deploying", "wait call-back", "deploy failed") and props.get(
            "instance_info"
        ):
            outs["instance_info"] = managed(live.get("instance_info"), props.get("instance_info"))
        return ReadResult(node.uuid, every_field(outs), inputs=TABLE.input_props(outs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        want = self._wanted(news)
        res = self._res(want["name"])
        c = self._client()
        ref = self._ref(res, id_, want)
        node = _walk.set_maintenance(c, ref, _walk.get(c, ref), want.get("maintenance"))
        node = _walk.settle(c, ref)
        live = node.to_dict()
        self._apply(c, res, node, want, olds)
        self._sync_ports(c, res, id_, want["ports"])
        # A deployed node whose image or config drive changed is rebuilt (Ironic's `rebuild`
        # redeploys with the new instance_info): the program asked for a different server.
        redeploy = (
            want["target_state"] == "active"
            and live.get("provision_state") == "active"
            and (
                integral(olds.get("instance_info")) != want.get("instance_info")
                or olds.get("config_drive") != want.get("config_drive")
            )
        )
        outs = self._finish(c, res, id_, want, first="rebuild" if redeploy else None,
                            walk_id=str(olds.get("walk") or ""))
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Undeploy, wait, delete. A node that is already gone is fine (delete again)."""
        res = self._res(str(props.get("name") or id_))
        c = self._client()
        timeouts = {**Timeouts.model_validate({}).model_dump(), **(props.get("timeouts") or {})}
        ref = _walk.NodeRef(res, id_, str(props.get("name") or id_), timeouts)
        try:
            node = _walk.settle(c, ref)
            if node.provision_state not in st.DELETABLE:
                node = _walk.walk(c, ref, "manageable")
            with errors(res, "delete node"):
                c.node.delete(id_)
        except NotFound:
            return


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
