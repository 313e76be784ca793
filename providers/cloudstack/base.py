"""What every CloudStack resource provider shares: settings, the client, lookups by name.

The management server's endpoint and keys reach a provider one of two ways: the stack config
(`<project>:cloudstack`, read in `configure()`), or the `connection` property every CloudStack
resource takes (`CloudStackResource`): the secret outputs of a `cloudstack.ManagementServer`
(endpoint, apiKey, secretKey), so a bootstrapped region's stack config holds no keys. The
connection is not part of the object: a change of it (a key rotation) is an in-place update that
makes no API call but keeps the new keys in state for later reads and deletes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, NamedTuple, TypeVar

import pulumi
from pulumi.dynamic import CheckResult, DiffResult, ReadResult, UpdateResult
from typing_extensions import override

from providers._core import REAL_CLOCK, Change, Clock, InputError
from providers._core.declare import Args
from providers._core.diff import diff_fields, is_unknown
from providers._core.lifecycle import Lifecycle, Obj
from providers._core.normalize import as_bool, as_int, lower
from providers._core.resource import Declared
from providers._core.wait import Policy

from .api import Api
from .settings import Settings

__all__ = ["CONNECTION", "CloudStackProvider", "CloudStackResource", "Commands", "as_bool", "as_int", "lower",
           "tag_list"]

CONNECTION = "connection"  # {"endpoint", "apiKey", "secretKey"}: a ManagementServer's outputs
A = TypeVar("A", bound=Args)
NO_ACCESS = ("no CloudStack API keys: set the stack config object '<project>:cloudstack' = {'endpoint', 'apiKey', "
             "'secretKey'} (secrets with --secret), or give the resource a cloudstack.ManagementServer's connection")


def _strip(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k != CONNECTION}


def _carry(out: dict[str, Any], source: Mapping[str, Any]) -> dict[str, Any]:
    """`out` with the connection of `source`, if it has one."""
    if source.get(CONNECTION) is not None:
        out[CONNECTION] = source[CONNECTION]
    return out


def tag_list(value: Any) -> list[str]:
    """Tags as declared (a sorted list) from CloudStack's comma-separated string, or a list."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return sorted(str(t).strip() for t in items if str(t).strip())


class Commands(NamedTuple):
    """A resource's CloudStack commands (an async one is followed to its end)."""

    list: str  # by id (`fetch`), and by `label_field` within `scope` (`find`: adoption)
    create: str = ""  # with the table's payload and `create_params`
    update: str = ""  # id= and the changed fields that change in place; none: nothing does
    delete: str = ""  # id=


class CloudStackProvider(Lifecycle[Settings, Api]):
    """The generic lifecycle over the CloudStack API. A typical resource is its Args and

        class PodProvider(CloudStackProvider):
            args = PodArgs
            commands = Commands("listPods", "createPod", "updatePod", "deletePod")
            scope = ("zone_id", "name")  # adopted by name within its zone

    and writes as hooks only what differs (see `providers._core.lifecycle`)."""

    settings_model = Settings
    clock: ClassVar[Clock] = REAL_CLOCK
    commands: ClassVar[Commands] = Commands("")
    scope: ClassVar[tuple[str, ...]] = ("name",)  # the inputs a lookup by name filters the listing on
    list_params: ClassVar[Mapping[str, Any]] = {}  # fixed filters of every listing (listall=True)
    create_params: ClassVar[Mapping[str, Any]] = {}  # fixed parameters of the create
    delete_params: ClassVar[Mapping[str, Any]] = {}  # and of the delete
    kept: ClassVar[tuple[str, ...]] = ()  # inputs CloudStack never answers (credentials): outputs as declared

    @override
    def fetch(self, api: Api, obj_id: str) -> Obj | None:
        return api.find(self.commands.list, id=obj_id, **self.list_params)

    @override
    def find(self, api: Api, wanted: Obj) -> Obj | None:
        found = api.list(self.commands.list, **self.table.to_api(wanted, list(self.scope)), **self.list_params)
        return self.named(found, wanted[self.label_field], self.table[self.label_field].api_name)

    @override
    def outputs(self, api: Api, obj: Obj, carried: Obj) -> Obj:
        out = {k: v for k, v in super().outputs(api, obj, carried).items() if k not in self.kept}
        return {**out, **{k: carried[k] for k in self.kept if carried.get(k) is not None}}

    @override
    def make(self, api: Api, wanted: Obj) -> Obj:
        return api.job(self.commands.create, **self.create_params, **self.table.to_api(wanted))

    @override
    def apply(self, api: Api, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        if not self.commands.update:
            return super().apply(api, obj_id, changed, current, wanted)
        return self.update_call(api, self.commands.update, obj_id, changed, wanted)

    @override
    def destroy(self, api: Api, obj: Obj) -> None:
        api.job(self.commands.delete, id=obj["id"], **self.delete_params)

    # --- the connection property ------------------------------------------------------------------

    def settings(self, props: Mapping[str, Any] | None = None) -> Settings:
        """The connection given with the resource (deadlines from the stack config), else the config's
        keys; neither: an `InputError` that says where keys come from."""
        conn = (props or {}).get(CONNECTION)
        if conn and self._settings is None:
            return Settings.model_validate(dict(conn))
        try:
            configured = super().settings(props)
        except InputError:
            raise InputError(self.label(props or {}), "config", None, NO_ACCESS) from None
        if conn:
            base = {k: v for k, v in configured.model_dump(by_alias=True).items()
                    if k not in ("endpoint", "apiKey", "secretKey") and v is not None}
            return Settings.model_validate({**base, **dict(conn)})
        if configured.api_key is None or configured.secret_key is None:
            raise InputError(self.label(props or {}), "config", None, NO_ACCESS)
        return configured

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(olds, _strip(news))
        _carry(result.inputs, news)
        return result

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """The object's diff; a connection that alone changed (new keys) is an in-place update."""
        result = super().diff(_id, olds, news)
        if not result.changes and news.get(CONNECTION) is not None and (
            is_unknown(news[CONNECTION]) or olds.get(CONNECTION) != news[CONNECTION]
        ):
            return DiffResult(changes=True, replaces=[], stables=result.stables, delete_before_replace=None)
        return result

    def inputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return _carry(super().inputs(_strip(props)), props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """A new connection alone (a key rotation) is kept in state without calling CloudStack."""
        wanted = self.inputs(news)
        rotated = wanted.get(CONNECTION) is not None and olds.get(CONNECTION) != wanted[CONNECTION]
        if rotated and not diff_fields(olds, wanted, self.table):
            return UpdateResult(self.managed(olds, wanted))
        return super().update(id_, olds, news)

    def read_result(self, obj_id: str, outputs: Mapping[str, Any],
                    declared: Mapping[str, Any] | None = None) -> ReadResult:
        """Refresh keeps the connection among the inputs too, so it never shows as drift."""
        result = super().read_result(obj_id, outputs, declared)
        if declared is not None and result.inputs is not None:
            _carry(result.inputs, declared)
        return result

    def managed(self, outputs: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
        """The outputs, with the connection they were made (or last read) with."""
        return _carry(super().managed(_strip(outputs), declared), declared)

    def client(self, props: Mapping[str, Any]) -> Api:
        return Api(self.settings(props), self.label(props), self.clock)

    def policy(self, client: Api) -> Policy:
        return client.policy

    @staticmethod
    def named(objs: Iterable[Obj], name: str, key: str = "name") -> Obj | None:
        """The object whose `key` is exactly `name` (CloudStack's name= filters match loosely)."""
        return next((o for o in objs if o.get(key) == name), None)

    def update_call(self, api: Api, command: str, obj_id: str, changed: set[str], wanted: Obj) -> Obj | None:
        """`command id=... <changed in-place fields with a value>`; its answer's object (None if nothing sent).

        An optional value removed from the program is left as CloudStack has it: most update
        commands cannot clear one. A replace-only field (of an adopted object) is never sent.
        """
        names = [f.name for f in self.table.inputs
                 if f.name in changed and f.change is Change.UPDATE and wanted.get(f.name) is not None]
        if not names:
            return None
        return api.job(command, id=obj_id, **self.table.to_api(wanted, names)) or None


class CloudStackResource(Declared[A]):
    """A declared CloudStack resource that may take its `connection` (a ManagementServer's
    outputs) instead of the stack config's keys; the connection is secret in state."""

    def __init__(self, resource_name: str, args: A, opts: pulumi.ResourceOptions | None = None, *,
                 connection: pulumi.Input[Mapping[str, Any]] | None = None) -> None:
        self._connection = connection
        super().__init__(resource_name, args, opts)

    def extra_properties(self, props: dict[str, Any], opts: pulumi.ResourceOptions | None
                         ) -> tuple[dict[str, Any], pulumi.ResourceOptions | None]:
        if self._connection is None:
            return props, opts
        return ({**props, CONNECTION: pulumi.Output.secret(self._connection)},
                pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=[CONNECTION])))
