"""Dispatch: from a method name and positional parameters to a typed XenAPI answer.

Every message is looked up in the datamodel first: a name real XAPI does not know gets
MESSAGE_METHOD_UNKNOWN, one it knows but the emulator does not model gets NOT_IMPLEMENTED, a
wrong parameter count MESSAGE_PARAMETER_COUNT_MISMATCH [method, expected, received] (counts
without the session and without defaulted parameters); then the handler (messages.py) runs with
the decoded parameters, at once or, for `Async.*`, as a task; every call goes to the request log.
"""

from __future__ import annotations

import logging
import time
import xmlrpc.client
from collections.abc import Callable
from typing import Any, NamedTuple

from lab.xapi.control import base_method
from lab.xapi.datamodel import Datamodel, MessageSpec, Wire
from lab.xapi.errors import XapiError
from lab.xapi.messages import HANDLERS, MODELLED, Ctx, check_conformance, handler_for, served_messages
from lab.xapi.models import Node, World

__all__ = ["HANDLERS", "MODELLED", "Call", "Dispatcher", "Drop", "check_conformance", "served_messages"]

log = logging.getLogger("lab.xapi")
SECRET_PARAMS = frozenset({"pwd", "master_password", "password", "old_pwd", "new_pwd"})
TASK_READS = frozenset({"get_status", "get_record", "get_progress", "get_result", "get_error_info"})


class Call(NamedTuple):
    """One served call: host name, wire method, parameters by datamodel name (no session, secrets masked)."""

    host: str
    method: str
    params: dict[str, Any]


class Drop(Exception):
    """The server closes the connection without answering (a dropped-connection fault)."""


# --- dispatch ---------------------------------------------------------------------------------

# XML-RPC introspection, answered without a session as xapi does (api_server.ml). Xen Orchestra's
# xen-api reads the classes to watch from it (every `<class>.get_all_records` listed).
LIST_METHODS = "system.listMethods"


def list_methods(dm: Datamodel) -> list[str]:
    """The messages the emulator answers (real xapi lists all of its own), sorted, and itself."""
    return sorted([*served_messages(dm), LIST_METHODS])


def unknown(dm: Datamodel, method: str) -> XapiError:
    """NOT_IMPLEMENTED for a message real XAPI knows but the emulator does not model (VM, VDI...);
    where the Async flags are known (modelled classes), a bad Async form is unknown."""
    name = base_method(method)
    if dm.exists(name) and (dm.message(name) is None or not method.startswith("Async.")):
        return XapiError("NOT_IMPLEMENTED", method)
    return XapiError("MESSAGE_METHOD_UNKNOWN", method)



class Dispatcher:
    """Answers the calls that reach one host's endpoint."""

    def __init__(self, world: World, node_name: str, log: list[Call], sink: Callable[[Call], None] | None = None,
                 limit: int | None = None) -> None:
        self.world = world
        self.node_name = node_name
        self.log = log
        self.sink = sink
        self.limit = limit

    @property
    def node(self) -> Node:
        return self.world.nodes[self.node_name]

    def call(self, method: str, args: list[Any], wire: Wire) -> Any:
        """The encoded value of a successful call; raises XapiError for a failure, Drop for a drop."""
        world = self.world
        host = self.node_name
        if world.faults.take("drop", method, host=host, after=False) is not None:
            self._log(method, args, self._spec(method))
            raise Drop(method)
        latency = world.faults.take("latency", method, host=host)
        if latency is not None:
            time.sleep(latency.seconds)
        with world.lock:
            world.settle()
            spec = self._spec(method)
            self._log(method, args, spec)
            fault = world.faults.take("error", method, host=host)
            if fault is not None and isinstance(fault.error, XapiError):
                raise fault.error
            try:
                value = self._run(method, spec, args, wire)
            except XapiError:
                raise
            except Exception as e:  # an emulator bug: answer as xapi does for an internal exception
                log.exception("%s on %s", method, host)
                raise XapiError("INTERNAL_ERROR", f"{type(e).__name__}: {e}") from e
            finally:
                world.notify()  # event.from/next waiters look again
                if world.faults.take("drop", method, host=host, after=True) is not None:
                    raise Drop(method)  # the reply is lost whatever it was
            return value

    def _spec(self, method: str) -> MessageSpec | None:
        is_async = method.startswith("Async.")
        spec = self.world.dm.message(base_method(method))
        if spec is None or (is_async and not spec.is_async):
            return None
        return spec

    def _run(self, method: str, spec: MessageSpec | None, args: list[Any], wire: Wire) -> Any:
        world, dm, node = self.world, self.world.dm, self.node
        if spec is None:
            if method == LIST_METHODS:
                return list_methods(dm)
            raise unknown(dm, method)
        received = len(args) - (1 if spec.takes_session else 0)
        if not spec.required_count <= received <= len(spec.call_params):
            raise XapiError("MESSAGE_PARAMETER_COUNT_MISMATCH", method, str(spec.required_count), str(max(received, 0)))
        if spec.wire_name == "session.login_with_password":
            kwargs = self._decode(spec, args)
            return world.login(node, kwargs["uname"], kwargs["pwd"], kwargs.get("originator", ""))
        handler = handler_for(dm, spec)
        if handler is None or not spec.takes_session:
            raise XapiError("NOT_IMPLEMENTED", method)
        session = args[0] if isinstance(args[0], str) else str(args[0])
        member_db = None
        if node.role != "master" and spec.cls == "task" and spec.name in TASK_READS | {"destroy"}:
            member_db = world.member_task_db(node, session)
        if member_db is None:
            world.check_not_slave(node)
        db = member_db or world.session_db(node, session)
        kwargs = self._decode(spec, args[1:])
        ctx = Ctx(world, node, db, session, wire)
        if spec.cls == "task" and spec.name in TASK_READS and "self" in kwargs:
            world.note_poll(kwargs["self"])
            world.settle()
        if method.startswith("Async."):
            def run() -> str:
                value = handler(ctx, *kwargs.values())
                return task_result(dm.encode(value, spec.result, "xml"), spec.result)
            return world.start_task(node, session, method, run)
        return dm.encode(handler(ctx, *kwargs.values()), spec.result, wire)

    def _decode(self, spec: MessageSpec, args: list[Any]) -> dict[str, Any]:
        params = spec.call_params if len(args) <= len(spec.call_params) else spec.params
        out: dict[str, Any] = {}
        for p, v in zip(params, args, strict=False):
            try:
                out[p.name] = self.world.dm.decode(v, p.type)
            except TypeError:
                raise XapiError("FIELD_TYPE_ERROR", p.name) from None
        return out

    def _log(self, method: str, args: list[Any], spec: MessageSpec | None) -> None:
        if spec is None:
            params = {f"${i}": v for i, v in enumerate(args)}
        else:
            names = [p.name for p in spec.params]
            params = {n: ("******" if n in SECRET_PARAMS else v) for n, v in zip(names, args, strict=False)
                      if n != "session_id"}
            if len(args) > len(names):
                params.update({f"${i}": v for i, v in enumerate(args) if i >= len(names)})
        call = Call(self.node_name, method, params)
        self.log.append(call)
        if self.limit is not None and len(self.log) > self.limit:
            del self.log[: len(self.log) - self.limit]
        if self.sink is not None:
            self.sink(call)


def task_result(encoded: Any, result_type: str) -> str:
    """task.result: the XML-RPC encoding of the async call's value ('' for void)."""
    if result_type == "void":
        return ""
    if isinstance(encoded, str):
        return f"<value>{xmlrpc.client.escape(encoded)}</value>"
    body = xmlrpc.client.dumps((encoded,), allow_none=True)
    inner = body.split("<param>\n", 1)[1].rsplit("</param>", 1)[0]
    return inner.strip()
