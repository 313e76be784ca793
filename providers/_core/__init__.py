"""What every backend module shares: declarations, the provider base, the lifecycle, diff, errors, waits.

How to add a resource (a CloudStack one; the other backends work the same way):

1. In `providers/cloudstack/<thing>.py`, declare its fields ONCE, in the Args class (the field's
   docstring is its documentation; `arg(...)` says how it reaches the API; `output(...)` declares
   what the backend computes):

       class ThingArgs(Args, resource="cloudstack.Thing", delete_before_replace=True):
           zone_id: pulumi.Input[str] = arg(api="zoneid", change=Change.REPLACE, min_length=1)
           \"\"\"Id of the zone; changing it replaces the thing.\"\"\"
           name: pulumi.Input[str] = arg(min_length=1)
           \"\"\"Name; renamed in place.\"\"\"
           password: pulumi.Input[str] | None = arg(None, secret=True)
           \"\"\"Secret: masked in previews, encrypted in state.\"\"\"
           state: pulumi.Output[str] = output()
           \"\"\"Computed by CloudStack.\"\"\"

   The validation type is the `T` of `pulumi.Input[T]` unless `check=` names another (an
   `ipaddress.IPv4Address`, a `Literal[...]`); keyword constraints (`min_length`, `pattern`,
   `ge`) go to pydantic; cross-field rules go on a pydantic base passed as `checks=`.

2. The provider names its commands; the CloudStack base (`providers/cloudstack/base.py`) turns
   them into the core's hooks (fetch by id, adoption by name within `scope`, create with the
   table's payload, update of what changes in place, delete; async commands followed to the end):

       class ThingProvider(CloudStackProvider):
           args = ThingArgs
           commands = Commands("listThings", "createThing", "updateThing", "deleteThing")
           scope = ("zone_id", "name")  # adopted by name within its zone

   A resource whose API does more overrides only the hook that differs (see
   `providers._core.lifecycle` for the list and the defaults: `apply`, `undo`, `outputs`...).

3. The resource (the type token is `pulumi-python:dynamic/cloudstack:Thing`):

       class Thing(CloudStackResource[ThingArgs], module="cloudstack", name="Thing"):
           \"\"\"What it is.\"\"\"
           provider_type = ThingProvider

4. The emulator's handlers if the API is new (lab/cloudstack), and the tests: a parametrised diff
   case and the choreography (`tests/cloudstack/choreography.py`) against the emulator. Nothing
   is exported or listed anywhere else: a resource is imported from its module.

Nothing else: the table, the input model, the secrets, check/diff/create/read/update/delete and
adoption by name all follow from the declaration and the hooks.
"""

from .cache import LISTINGS, SESSIONS, Listings, Sessions
from .declare import Args, arg, output
from .diff import FieldChange, diff, diff_fields, diff_result, is_unknown
from .errors import InputError, NotFound, Permanent, ProviderError, Retryable, Timeout
from .fields import Change, Field, Table, args_props
from .lifecycle import Lifecycle, Obj
from .normalize import as_bool, as_int, lower
from .provider import Provider, TableProvider, config_section, parse, validate
from .resource import Declared
from .settings import BackendSettings, parse_settings
from .wait import REAL_CLOCK, Clock, Policy, ensure, remove, retry, wait_for

__all__ = [
    "LISTINGS",
    "REAL_CLOCK",
    "SESSIONS",
    "Args",
    "BackendSettings",
    "Change",
    "Clock",
    "Declared",
    "Field",
    "FieldChange",
    "InputError",
    "Lifecycle",
    "Listings",
    "NotFound",
    "Obj",
    "Permanent",
    "Policy",
    "Provider",
    "ProviderError",
    "Retryable",
    "Sessions",
    "Table",
    "TableProvider",
    "Timeout",
    "arg",
    "args_props",
    "as_bool",
    "as_int",
    "config_section",
    "diff",
    "diff_fields",
    "diff_result",
    "ensure",
    "is_unknown",
    "lower",
    "output",
    "parse",
    "parse_settings",
    "remove",
    "retry",
    "validate",
    "wait_for",
]
