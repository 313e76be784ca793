"""Faults on demand (lab.emu.faults) in CloudStack's words: latency, an error answer, a failing
async job, a dropped connection.

Each fault matches a command (None = any) and fires `times` times (None = until cleared). They
are consulted after the signature check, so a faulted request is still a well-formed, signed
request in the request log, with the error it was answered with.
"""

from __future__ import annotations

from lab.cloudstack.errors import CloudStackError, cs_code
from lab.emu import faults
from lab.emu.faults import Fault

__all__ = ["Fault", "Faults"]


class Faults(faults.Faults):
    def latency(self, seconds: float, command: str | None = None, times: int | None = None) -> Fault:
        """Delay the answer to `command` (or every command) by `seconds`."""
        return self.add(Fault("latency", command, times=times, seconds=seconds))

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
        return self.add(Fault("error", command, times=times, error=CloudStackError(errorcode, errortext, cserrorcode)))

    def fail_job(
        self,
        command: str,
        errortext: str = "Failed to complete the job",
        errorcode: int = 530,
        times: int | None = 1,
    ) -> Fault:
        """The next async job(s) of `command` end FAILED (jobstatus 2) with this code and text."""
        return self.add(Fault("job", command, times=times, error=CloudStackError(errorcode, errortext, None)))

    def drop(self, command: str | None = None, times: int | None = 1) -> Fault:
        """Close the connection without an answer (the command is not run)."""
        return self.add(Fault("drop", command, times=times))
