"""The generic lifecycle: create (adopting by name), read, update, delete, outputs.

A resource supplies the differences as small hooks, the way openstacksdk's `Resource` writes
`create/fetch/commit/delete` once and a resource names its paths:

| hook | what it does | default |
|---|---|---|
| `client(props)` | a client for one operation (built from the settings) | required |
| `connect(props)` | the client as a context, closed after the operation (a session logged out) | `client` |
| `policy(client)` | how safe calls are retried (`Policy`) | required |
| `fetch(client, id)` | the object by id, or None when it is gone | required |
| `find(client, wanted)` | the object by name, to adopt it (None: create) | None |
| `make(client, wanted)` | create it; the new object | required |
| `apply(client, id, changed, current, wanted)` | change `changed` in place; the object or None | refuse |
| `destroy(client, obj)` | delete it | required |
| `outputs(client, obj, carried)` | outputs of an API object (`carried`: inputs it never returns) | the table |
| `converged(client, obj, wanted)` | outputs once an update brought `obj` to `wanted` | `outputs` |
| `settle(created, wanted)` | converge right after create? | when adopted |
| `outstanding(changed)` | does `converge` call `apply` (state beyond the fields to repair)? | when changed |
| `undo(client, obj)` | remove an object made by this create that could not be settled | keep it |

`create` = `ensure(find, make)` (a retried create looks again first, so nothing is duplicated),
then `converge` when adopted (an object this create made that fails there goes to `undo`);
`update` = `converge`: `apply` with the changed fields, then read the object again; `read` =
`fetch` + `outputs` (an empty id when gone); `delete` = `remove(fetch, destroy)` (gone already is
fine).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from .diff import diff_fields
from .errors import Permanent
from .fields import Change
from .provider import Provider, S
from .wait import Policy, ensure, remove

C = TypeVar("C")
Obj = dict[str, Any]


class Lifecycle(Provider[S], Generic[S, C]):
    """A provider whose create/read/update/delete come from the hooks above."""

    # --- hooks ---------------------------------------------------------------------------------

    def client(self, props: Mapping[str, Any]) -> C:
        raise NotImplementedError

    def connect(self, props: Mapping[str, Any]) -> AbstractContextManager[C]:
        """The client of one operation, as a context that closes it afterwards."""
        return contextlib.nullcontext(self.client(props))

    def policy(self, client: C) -> Policy:
        raise NotImplementedError

    def fetch(self, client: C, obj_id: str) -> Obj | None:
        raise NotImplementedError

    def find(self, client: C, wanted: Obj) -> Obj | None:
        del client, wanted  # no lookup by name: every create makes a new object
        return None

    def make(self, client: C, wanted: Obj) -> Obj:
        raise NotImplementedError

    def apply(self, client: C, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        del client, obj_id, current  # nothing changes in place unless the resource says how
        raise Permanent(self.label(wanted), f"cannot change {sorted(changed)} in place")

    def destroy(self, client: C, obj: Obj) -> None:
        raise NotImplementedError

    def outputs(self, client: C, obj: Obj, carried: Obj) -> Obj:
        del client, carried  # the table alone maps the object
        return {k: v for k, v in self.table.from_api(obj).items() if v is not None}

    def converged(self, client: C, obj: Obj, wanted: Obj) -> Obj:
        """The outputs once `apply` brought `obj` to `wanted`: what `outputs` reads from it, unless
        the object gets there later (an Ironic node whose walk a Fleet finishes reports `wanted`)."""
        return self.outputs(client, obj, wanted)

    def obj_id(self, obj: Obj) -> str:
        return str(obj["id"])

    def settle(self, created: bool, wanted: Obj) -> bool:
        """Whether a just-made (or adopted) object is converged to `wanted` at once."""
        del wanted
        return not created

    def outstanding(self, changed: set[str]) -> bool:
        """Whether `converge` applies: by default when a declared field differs; a resource with
        state beyond its fields (a network that every host must carry) applies every time."""
        return bool(changed)

    def undo(self, client: C, obj: Obj) -> None:
        """Best effort, after a failure right after `make`: by default the object stays (the next
        create adopts it by name)."""
        del client, obj

    # --- the lifecycle ------------------------------------------------------------------------

    def create(self, props: dict[str, Any]) -> CreateResult:
        wanted = self.inputs(props)
        with self.connect(wanted) as client:
            obj, created = ensure(
                self.policy(client), f"create {self.table.resource}",
                lambda: self.find(client, wanted), lambda: self.make(client, wanted),
            )
            obj_id = self.obj_id(obj)
            try:
                outputs = self.created(client, obj_id, obj, created, wanted)
            except Exception:
                if created:
                    self.undo(client, obj)
                raise
            return CreateResult(obj_id, self.managed(outputs, wanted))

    def created(self, client: C, obj_id: str, obj: Obj, created: bool, wanted: Obj) -> Obj:
        """The outputs once the object exists; an adopted one is brought to what is declared."""
        outputs = self.outputs(client, obj, wanted)
        if self.settle(created, wanted):
            outputs = self.converge(client, obj_id, outputs, wanted)
        return outputs

    def converge(self, client: C, obj_id: str, current: Obj, wanted: Obj) -> Obj:
        """Apply what differs between `current` outputs and `wanted`; the outputs after."""
        changed = {c.path for c in diff_fields(current, wanted, self.table)}
        if not self.outstanding(changed):
            return dict(current)
        obj = self.apply(client, obj_id, changed, current, wanted) or self.fetch(client, obj_id)
        if obj is None:
            raise Permanent(self.label(wanted), f"{obj_id} vanished during the update")
        return self.converged(client, obj, wanted)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.connect(props) as client:
            obj = self.fetch(client, id_)
            return self.gone() if obj is None else self.read_result(id_, self.outputs(client, obj, props), props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        wanted = self.inputs(news)
        if all(f.change is Change.REPLACE for f in self.table.inputs):
            raise Permanent(self.label(wanted), "nothing of it changes in place (every change is a replace)")
        with self.connect(wanted) as client:
            return UpdateResult(self.managed(self.converge(client, id_, olds, wanted), wanted))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.connect(props) as client:
            remove(self.policy(client), f"delete {self.table.resource}", lambda: self.fetch(client, id_),
                   lambda obj: self.destroy(client, obj))
