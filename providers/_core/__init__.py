"""What every backend module shares: the field table, the pure diff, errors and waiting."""

from .diff import FieldChange, diff, diff_fields, diff_result, is_unknown
from .errors import InputError, NotFound, Permanent, ProviderError, Retryable, Timeout
from .fields import Change, Field, Table, args_props
from .provider import TableProvider, config_section, parse, validate
from .wait import REAL_CLOCK, Clock, retry, wait_for

__all__ = [
    "REAL_CLOCK",
    "Change",
    "Clock",
    "Field",
    "FieldChange",
    "InputError",
    "NotFound",
    "Permanent",
    "ProviderError",
    "Retryable",
    "Table",
    "TableProvider",
    "Timeout",
    "args_props",
    "config_section",
    "diff",
    "diff_fields",
    "diff_result",
    "is_unknown",
    "parse",
    "retry",
    "validate",
    "wait_for",
]
