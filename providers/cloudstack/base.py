"""What every CloudStack resource provider shares: settings, the client, lookups by name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from providers._core import REAL_CLOCK, Clock
from providers._core.lifecycle import Lifecycle, Obj
from providers._core.normalize import as_bool, as_int, lower
from providers._core.wait import Policy

from .api import Api, single
from .settings import Settings

__all__ = ["Api", "CloudStackProvider", "as_bool", "as_int", "lower", "single"]


class CloudStackProvider(Lifecycle[Settings, Api]):
    """The generic lifecycle over the CloudStack API: resources write their calls as hooks."""

    settings_model = Settings
    clock: ClassVar[Clock] = REAL_CLOCK

    def api(self, props: Mapping[str, Any]) -> Api:
        return Api(self.settings(props), self.label(props), self.clock)

    def client(self, props: Mapping[str, Any]) -> Api:
        return self.api(props)

    def policy(self, client: Api) -> Policy:
        return client.policy

    @staticmethod
    def named(objs: Iterable[Obj], name: str) -> Obj | None:
        """The object called exactly `name` (CloudStack's name= filters match loosely)."""
        return next((o for o in objs if o.get("name") == name), None)

    def update_call(self, api: Api, command: str, obj_id: str, changed: set[str], wanted: Obj) -> Obj | None:
        """`command id=... <changed fields with a value>`; its answer's object (None if nothing sent).

        An optional value removed from the program is left as CloudStack has it: most update
        commands cannot clear one.
        """
        names = [f.name for f in self.table.inputs if f.name in changed and wanted.get(f.name) is not None]
        if not names:
            return None
        return single(api.call(command, id=obj_id, **self.table.to_api(wanted, names))) or None
