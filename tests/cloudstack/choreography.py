"""The idempotency choreography, run against a live backend through a provider's own methods.

create -> create again (adopts: same id, no second create command) -> update (in place) ->
update again (no change) -> refresh after an out-of-band change (the drift shows, an update
repairs it) -> delete -> delete again (quiet) -> read (gone: empty id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from providers._core import diff, diff_fields
from providers.cloudstack.base import CloudStackProvider


@dataclass
class Outcome:
    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any]


def normalised(provider: CloudStackProvider, props: dict[str, Any]) -> dict[str, Any]:
    result = provider.check({}, props)
    assert result.failures == [], [f.reason for f in result.failures]
    return dict(result.inputs)


def commands(log: list[Any], name: str) -> int:
    return sum(1 for r in log if r.command == name and r.error is None)


def choreography(
    provider: CloudStackProvider,
    props: dict[str, Any],
    *,
    create_command: str,
    update: dict[str, Any],
    out_of_band: Callable[[str], None],
    drifted: list[str],
    log: list[Any],
    delete: bool = True,
) -> Outcome:
    inputs = normalised(provider, props)

    # create
    created = provider.create(inputs)
    assert created.id
    id_, outs = str(created.id), dict(created.outs or {})
    assert diff(outs, inputs, provider.table).changes is False, diff_fields(outs, inputs, provider.table)
    made = commands(log, create_command)
    assert made == 1

    # create again: adopted by name, not duplicated
    again = provider.create(inputs)
    assert again.id == id_
    assert commands(log, create_command) == made
    assert diff(dict(again.outs or {}), inputs, provider.table).changes is False

    # refresh with nothing changed: no phantom diff
    read = provider.read(id_, outs)
    assert read.id == id_
    assert diff(dict(read.outs or {}), inputs, provider.table).changes is False
    assert diff(dict(read.outs or {}), dict(read.inputs or {}), provider.table).changes is False

    # update, in place
    wanted = normalised(provider, {**props, **update})
    planned = provider.diff(id_, outs, wanted)
    assert planned.changes is True and not planned.replaces, planned.replaces
    outs = dict(provider.update(id_, outs, wanted).outs or {})
    assert diff(outs, wanted, provider.table).changes is False, diff_fields(outs, wanted, provider.table)
    seen = dict(provider.read(id_, outs).outs or {})
    assert diff(seen, wanted, provider.table).changes is False, diff_fields(seen, wanted, provider.table)

    # update again: nothing to do
    assert provider.diff(id_, outs, wanted).changes is False

    # refresh after an out-of-band change: the drift shows, an update repairs it
    out_of_band(id_)
    read = provider.read(id_, outs)
    assert read.id == id_
    drift = [c.path for c in diff_fields(dict(read.outs or {}), wanted, provider.table)]
    assert drift == drifted
    assert not provider.diff(id_, dict(read.outs or {}), wanted).replaces
    outs = dict(provider.update(id_, dict(read.outs or {}), wanted).outs or {})
    read = provider.read(id_, outs)
    assert diff(dict(read.outs or {}), wanted, provider.table).changes is False

    if delete:
        provider.delete(id_, outs)
        provider.delete(id_, outs)  # delete again: quiet
        assert provider.read(id_, outs).id in ("", None)  # gone: the engine would recreate it
    return Outcome(id_, outs, wanted)
