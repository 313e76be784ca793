"""The SDK's debug messages, sent to the engine without the event loop waiting for each.

For every registration the SDK sends the engine four or five debug messages ("registering
resource", "resource registration prepared", ...: `pulumi.log.debug`), each a synchronous `Log`
RPC made on the event loop's thread (`pulumi.log._log`): the program's declarations and the
resolution of every output stop for one round trip to the engine per message, 0.2 s of a no-op
preview of the dev region (about 400 messages; `python -m benchmarks.startup` counts them).

`log_without_waiting` sends the same messages (same request, same order of sending) as futures:
the RPC goes out at once and the loop goes on; the program waits for the answers only when it
ends (atexit), so the engine has every message before the program exits. Messages of other
severities, and any message tied to a resource (whose URN the SDK awaits first), take the SDK's
own path unchanged. Nothing is done without an engine (Pulumi's mocks).
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pulumi.log
from pulumi.runtime import settings
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

WAIT_AT_EXIT_S = 30.0  # for the engine to answer the last messages

_installed = False
_sdk_log: Callable[..., None] = pulumi.log._log
_pending: list[Any] = []  # grpc futures of the messages not yet answered
_lock = threading.Lock()


def _log(engine: Any, severity: Any, message: str, resource: Any, stream_id: int | None,
         ephemeral: bool | None) -> None:
    if severity != engine_pb2.DEBUG or resource is not None or not isinstance(engine, engine_pb2_grpc.EngineStub):
        _sdk_log(engine, severity, message, resource, stream_id, ephemeral)
        return
    req = engine_pb2.LogRequest(severity=severity, message=message, urn="", streamId=stream_id or 0,
                                ephemeral=bool(ephemeral))
    future = engine.Log.future(req)
    with _lock:  # kept until the exit wait: a few thousand small futures in a large region
        _pending.append(future)


def wait_for_messages(timeout: float = WAIT_AT_EXIT_S) -> None:
    """Wait until the engine has answered every message sent so far (each at most `timeout`)."""
    with _lock:
        pending, _pending[:] = list(_pending), []
    for future in pending:
        with contextlib.suppress(Exception):  # a debug message the engine did not take: nothing to do
            future.result(timeout=timeout)


def log_without_waiting() -> None:
    """Send the SDK's debug messages without blocking the event loop (idempotent)."""
    global _installed
    if _installed or not isinstance(settings.get_engine(), engine_pb2_grpc.EngineStub):
        return
    _installed = True
    pulumi.log._log = _log
    atexit.register(wait_for_messages)
