"""Async jobs and lazy state transitions, advanced only under the test's control.

A job is created PENDING (jobstatus 0) by an async command and completes (1) or fails (2) when
the test lets it: after `pending_polls` queryAsyncJobResult polls of that job (0 = the first poll
already sees it done), or at once on `advance()`. `hold()` keeps every job pending until
`advance()`. Nothing runs in a background thread and nothing depends on the clock, so a test
sees the same sequence of answers every time.

The job's work (`run`) executes at completion, under the model lock, so the effect of an async
update is not visible in list* answers until the job is done, as on a real management server.
Transitions that the real server makes by itself after a job (a host reaching Maintenance once
its VMs are gone) are `Transition`s: declared as data, applied when next read.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lab.cloudstack.errors import CloudStackError

# JobInfo.Status ordinal = jobstatus
PENDING, SUCCEEDED, FAILED, CANCELLED = 0, 1, 2, 3

# The Java command class of each async command we serve (queryAsyncJobResult's `cmd`).
CMD_CLASS = {
    "createPhysicalNetwork": "org.apache.cloudstack.api.command.admin.network.CreatePhysicalNetworkCmd",
    "updatePhysicalNetwork": "org.apache.cloudstack.api.command.admin.network.UpdatePhysicalNetworkCmd",
    "deletePhysicalNetwork": "org.apache.cloudstack.api.command.admin.network.DeletePhysicalNetworkCmd",
    "addTrafficType": "org.apache.cloudstack.api.command.admin.usage.AddTrafficTypeCmd",
    "updateTrafficType": "org.apache.cloudstack.api.command.admin.usage.UpdateTrafficTypeCmd",
    "deleteTrafficType": "org.apache.cloudstack.api.command.admin.usage.DeleteTrafficTypeCmd",
    "addNetworkServiceProvider": "org.apache.cloudstack.api.command.admin.network.AddNetworkServiceProviderCmd",
    "updateNetworkServiceProvider": "org.apache.cloudstack.api.command.admin.network.UpdateNetworkServiceProviderCmd",
    "deleteNetworkServiceProvider": "org.apache.cloudstack.api.command.admin.network.DeleteNetworkServiceProviderCmd",
    "createVirtualRouterElement": "org.apache.cloudstack.api.command.admin.router.CreateVirtualRouterElementCmd",
    "configureVirtualRouterElement": "org.apache.cloudstack.api.command.admin.router.ConfigureVirtualRouterElementCmd",
    "createManagementNetworkIpRange":
        "org.apache.cloudstack.api.command.admin.network.CreateManagementNetworkIpRangeCmd",
    "deleteManagementNetworkIpRange":
        "org.apache.cloudstack.api.command.admin.network.DeleteManagementNetworkIpRangeCmd",
    "updatePodManagementNetworkIpRange":
        "org.apache.cloudstack.api.command.admin.network.UpdatePodManagementNetworkIpRangeCmd",
    "prepareHostForMaintenance": "org.apache.cloudstack.api.command.admin.host.PrepareForMaintenanceCmd",
    "cancelHostMaintenance": "org.apache.cloudstack.api.command.admin.host.CancelMaintenanceCmd",
    "reconnectHost": "org.apache.cloudstack.api.command.admin.host.ReconnectHostCmd",
    "enableStorageMaintenance":
        "org.apache.cloudstack.api.command.admin.storage.PreparePrimaryStorageForMaintenanceCmd",
    "cancelStorageMaintenance": "org.apache.cloudstack.api.command.admin.storage.CancelPrimaryStorageMaintenanceCmd",
}


DATE_FORMAT = "%Y-%m-%dT%H:%M:%S+0000"  # CloudStack's dates in responses: 2024-01-31T12:00:00+0000


def now() -> str:
    """The wall clock in CloudStack's date format (objects made outside the emulator's rules)."""
    return datetime.now(UTC).strftime(DATE_FORMAT)


@dataclass
class Job:
    id: str
    command: str
    instance_type: str
    instance_id: str | None
    run: Callable[[], dict[str, Any]]
    status: int = PENDING
    resultcode: int = 0
    result: dict[str, Any] | None = None
    polls: int = 0
    created: str = field(default_factory=now)
    completed: str | None = None
    fail_with: CloudStackError | None = None
    on_fail: Callable[[], None] | None = None
    clock: Callable[[], str] = now  # the date stamps come from the lab's clock

    def finish(self) -> None:
        """Run the job's work now: SUCCEEDED with its response, or FAILED with the error's code."""
        if self.status != PENDING:
            return
        try:
            if self.fail_with is not None:
                raise self.fail_with
            self.result = self.run()
            self.status, self.resultcode = SUCCEEDED, 0
        except CloudStackError as e:
            # ApiAsyncJobDispatcher: a ServerApiException (cserrorcode 9999) keeps its code; any
            # other exception from the service layer fails the job with INTERNAL_ERROR 530.
            # (An injected failure, cserrorcode None, keeps the code the test chose.)
            code = e.errorcode if e.cserrorcode in (9999, None) else 530
            self.status, self.resultcode = FAILED, code
            self.result = {"errorcode": code, "errortext": e.errortext}
            if self.on_fail is not None:
                self.on_fail()
        self.completed = self.clock()

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "accountid": ADMIN_ACCOUNT_ID,
            "userid": ADMIN_USER_ID,
            "cmd": CMD_CLASS.get(self.command, self.command),
            "jobstatus": self.status,
            "jobprocstatus": 0,
            "jobresultcode": self.resultcode,
            "jobinstancetype": self.instance_type,
            "created": self.created,
            "jobid": self.id,
        }
        if self.instance_id:
            out["jobinstanceid"] = self.instance_id
        if self.status != PENDING:
            out["jobresulttype"] = "object"
            out["jobresult"] = self.result
            out["completed"] = self.completed
        return out


ADMIN_ACCOUNT_ID = "f3c3a6e2-0000-4000-8000-000000000001"
ADMIN_USER_ID = "f3c3a6e2-0000-4000-8000-000000000002"


@dataclass
class Transition:
    """A state change the server makes on its own: `obj.state_attr` goes from `source` to `target`
    after `reads` further reads of the object (0 = the next read already shows `target`)."""

    obj: Any
    attr: str
    source: str
    target: str
    reads: int


class Jobs:
    """The job table and the knobs a test turns: `pending_polls`, `hold()`, `advance()`."""

    def __init__(self, lock: threading.RLock, stamp: Callable[[], str] = now) -> None:
        self._lock = lock
        self._stamp = stamp
        self._jobs: dict[str, Job] = {}
        self._transitions: list[Transition] = []
        self.pending_polls = 0
        self.settle_reads = 0
        self._held = False

    # --- knobs --------------------------------------------------------------------------------
    def hold(self) -> None:
        """Keep every job pending (polls answer jobstatus 0) until advance()."""
        with self._lock:
            self._held = True

    def release(self) -> None:
        """Back to completing jobs after `pending_polls` polls."""
        with self._lock:
            self._held = False

    def complete_after(self, polls: int) -> None:
        """Each new and pending job answers `polls` pending polls before completing."""
        with self._lock:
            self.pending_polls = polls

    def advance(self, jobid: str | None = None) -> list[str]:
        """Complete one job (or all pending ones) and settle pending transitions; returns job ids."""
        with self._lock:
            done = []
            for job in list(self._jobs.values()):
                if job.status == PENDING and (jobid is None or job.id == jobid):
                    job.finish()
                    done.append(job.id)
            if jobid is None:
                for t in self._transitions:
                    t.reads = 0
                self.settle()
            return done

    def pending(self) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if j.status == PENDING]

    def all(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def get(self, jobid: str) -> Job | None:
        with self._lock:
            return self._jobs.get(jobid)

    # --- used by the model --------------------------------------------------------------------
    def submit(
        self,
        command: str,
        instance_type: str,
        instance_id: str | None,
        run: Callable[[], dict[str, Any]],
        *,
        fail_with: CloudStackError | None = None,
        on_fail: Callable[[], None] | None = None,
    ) -> Job:
        with self._lock:
            job = Job(str(uuid.uuid4()), command, instance_type, instance_id, run, fail_with=fail_with,
                      on_fail=on_fail, created=self._stamp(), clock=self._stamp)
            self._jobs[job.id] = job
            return job

    def poll(self, jobid: str) -> Job | None:
        """One queryAsyncJobResult: counts the poll and completes the job when policy allows."""
        with self._lock:
            job = self._jobs.get(jobid)
            if job is None:
                return None
            if job.status == PENDING and not self._held and job.polls >= self.pending_polls:
                job.finish()
            job.polls += 1
            return job

    def later(self, obj: Any, attr: str, source: str, target: str) -> None:
        """Declare that `obj.attr` moves from `source` to `target` after `settle_reads` reads."""
        with self._lock:
            self._transitions.append(Transition(obj, attr, source, target, self.settle_reads))

    def settle(self, obj: Any = None) -> None:
        """Called on every read of `obj` (None: all): apply transitions whose reads ran out."""
        with self._lock:
            keep = []
            for t in self._transitions:
                if obj is not None and t.obj is not obj:
                    keep.append(t)
                    continue
                if getattr(t.obj, t.attr) != t.source:
                    continue  # overtaken by another change: dropped
                if t.reads <= 0:
                    setattr(t.obj, t.attr, t.target)
                else:
                    t.reads -= 1
                    keep.append(t)
            self._transitions = keep
