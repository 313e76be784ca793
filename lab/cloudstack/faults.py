"""Faults on demand: latency, an error answer, a failing async job, a dropped connection.

Each fault matches a command (None = any) and fires `times` times (None = until cleared). They
are consulted after the signature check, so a faulted request is still a well-formed, signed
request in the request log, with the error it was answered with.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from lab.cloudstack.errors import CloudStackError, cs_code


@dataclass
class Fault:
    kind: str  # "latency" | "error" | "job" | "drop"
    command: str | None
    times: int | None
    seconds: float = 0.0
    error: CloudStackError | None = None
    fired: int = 0

    def matches(self, kind: str, command: str) -> bool:
        return self.kind == kind and (self.command is None or self.command == command) and (
            self.times is None or self.fired < self.times
        )


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def latency(self, seconds: float, command: str | None = None, times: int | None = None) -> Fault:
        """Delay the answer to `command` (or every command) by `seconds`."""
        return self._add(Fault("latency", command, times, seconds=seconds))

    def error(
        self,
        command: str,
        errortext: str = "Internal error executing command, please contact your system administrator",
        errorcode: int = 530,
        cserrorcode: int | None = None,
        times: int | None = 1,
    ) -> Fault:
        """Answer `command` with this error instead of running it (cserrorcode: 4250 for 530, else 9999)."""
        if cserrorcode is None:
            cserrorcode = cs_code("CloudRuntimeException") if errorcode == 530 else 9999
        return self._add(Fault("error", command, times, error=CloudStackError(errorcode, errortext, cserrorcode)))

    def fail_job(
        self,
        command: str,
        errortext: str = "Failed to complete the job",
        errorcode: int = 530,
        times: int | None = 1,
    ) -> Fault:
        """The next async job(s) of `command` end FAILED (jobstatus 2) with this code and text."""
        return self._add(Fault("job", command, times, error=CloudStackError(errorcode, errortext, None)))

    def drop(self, command: str | None = None, times: int | None = 1) -> Fault:
        """Close the connection without an answer (the command is not run)."""
        return self._add(Fault("drop", command, times))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if f.times is None or f.fired < f.times]

    def take(self, kind: str, command: str) -> Fault | None:
        """The first matching fault of `kind`, counted as fired."""
        with self._lock:
            for f in self._faults:
                if f.matches(kind, command):
                    f.fired += 1
                    return f
            return None

    def _add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault
