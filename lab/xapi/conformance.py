"""Checks of calls against the reference datamodel, for the emulator and for the providers' tests.

`check_calls(lab.request_log)` lists every logged call whose message does not exist in XenAPI
(`xenapi-datamodel.json`, all 72 classes), is not allowed in its Async form, or whose parameters
differ from the message's (names, and a count between the required and the total).
"""

from __future__ import annotations

from collections.abc import Iterable

from lab.xapi.control import base_method
from lab.xapi.datamodel import Datamodel, datamodel
from lab.xapi.responses import LIST_METHODS, Call


def check_call(call: Call, dm: Datamodel | None = None) -> str | None:
    dm = dm or datamodel()
    if call.method == LIST_METHODS and not call.params:
        return None  # XML-RPC introspection: outside the datamodel, answered by xapi all the same
    name = base_method(call.method)
    params = dm.all_messages.get(name)
    if params is None:
        return f"{call.method}: no such XenAPI message"
    if call.method.startswith("Async."):
        spec = dm.message(name)
        if spec is not None and not spec.is_async:
            return f"{call.method}: {name} has no Async form"
    names = [p.name for p in params if p.name != "session_id"]
    given = list(call.params)
    if any(g.startswith("$") for g in given) or given != names[: len(given)]:
        return f"{call.method}: parameters {given}, datamodel says {names}"
    required = sum(1 for p in params if p.required and p.name != "session_id")
    if len(given) < required:
        return f"{call.method}: {len(given)} parameters, {required} required ({names})"
    return None


def check_calls(calls: Iterable[Call]) -> list[str]:
    """Problems with any of `calls` (empty when every call is a valid XenAPI message)."""
    dm = datamodel()
    return [p for c in calls if (p := check_call(c, dm)) is not None]
