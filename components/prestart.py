"""Start the dynamic-provider process while the program is still importing its modules.

The engine starts the process that serves every dynamic resource (`python -m pulumi.dynamic`, with
its own imports of the SDK) when something first needs the package's default provider: normally
the program's first dynamic resource, which comes after the program's imports, the config's
validation and the first components (0.9 s into the program on a quiet machine). Until then the
engine and the second core wait.

An invoke of a function of the same package needs the same default provider, so the engine loads
it (the process the resources use later: one process, as before) and asks it; the dynamic provider
implements no function and answers UNIMPLEMENTED, which is all this asks of it. Nothing is
registered (the default provider is registered as before, only earlier), nothing reaches the
preview's output (the engine returns the error to the caller only), and the program's registrations
are unchanged. It runs in a thread of its own: the program goes on importing meanwhile.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future

from pulumi.runtime import settings
from pulumi.runtime.proto import resource_pb2, resource_pb2_grpc

# A function of the dynamic provider's package (`pulumi-python:dynamic:Resource` is its resources'
# type): an invoke of it is routed to the package's default provider, which implements none.
TOKEN = "pulumi-python:dynamic:startProvider"


def _invoke(monitor: resource_pb2_grpc.ResourceMonitorStub, done: Future[str]) -> None:
    try:
        monitor.Invoke(resource_pb2.ResourceInvokeRequest(tok=TOKEN))
        done.set_result("answered")
    except Exception as e:  # a warm-up only: should the provider not start, the first resource starts it
        details = getattr(e, "details", None)  # a grpc.RpcError: the provider's "not implemented"
        done.set_result(str(details()) if callable(details) else f"not started: {e}")


def start_dynamic_provider() -> Future[str] | None:
    """Have the engine start the dynamic-provider process now (in the background); the future
    holds the provider's answer (its "not implemented" for the invoke). None, and nothing done,
    when there is no engine (Pulumi's mocks, a plain import)."""
    monitor = settings.get_monitor()
    if not isinstance(monitor, resource_pb2_grpc.ResourceMonitorStub):
        return None
    done: Future[str] = Future()
    threading.Thread(target=_invoke, args=(monitor, done), name="start-dynamic-provider", daemon=True).start()
    return done
