"""CloudStack API errors as the management server answers them.

ApiServer turns every failure into an ExceptionResponse: `errorcode` (= the HTTP status, from
ApiErrorCode), `cserrorcode` (from CSExceptionErrorCode: 9999 for a bare ServerApiException, the
cause's code when one is attached, absent for the 401 built from an int) and `errortext`. The
constructors below name the Java exception the real server would raise, so the codes follow from
the table in reference/cloudstack-error-codes.json instead of being chosen per call site.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lab.emu.errors import ApiError, reference

REFERENCE = Path(__file__).resolve().parent / "reference"

# ApiErrorCode (HTTP status = errorcode)
UNAUTHORIZED = 401
PARAM_ERROR = 431
UNSUPPORTED_ACTION_ERROR = 432
INTERNAL_ERROR = 530
ACCOUNT_ERROR = 531
RESOURCE_UNAVAILABLE_ERROR = 534
RESOURCE_ALLOCATION_ERROR = 535
RESOURCE_IN_USE_ERROR = 536

BAD_CREDENTIALS = "unable to verify user credentials and/or request signature"


def error_table() -> dict[str, Any]:
    return dict(reference(REFERENCE / "cloudstack-error-codes.json"))


def cs_code(exception: str) -> int:
    """CSExceptionErrorCode of a Java exception class by simple or qualified name."""
    table: dict[str, int] = error_table()["CSExceptionErrorCode"]
    for qualified, code in table.items():
        if qualified == exception or qualified.rsplit(".", 1)[-1] == exception:
            return code
    raise ValueError(f"{exception} is not in CSExceptionErrorCode")


class CloudStackError(ApiError):
    """One ExceptionResponse (`code` = errorcode). `response_name` None means `<command>response`."""

    def __init__(
        self,
        errorcode: int,
        errortext: str,
        cserrorcode: int | None = 9999,
        *,
        response_name: str | None = None,
    ) -> None:
        super().__init__(errorcode, errortext)
        self.errorcode = errorcode
        self.errortext = errortext
        self.cserrorcode = cserrorcode
        self.response_name = response_name

    @classmethod
    def check(cls, code: Any, _args: tuple[object, ...]) -> None:
        if code not in set(error_table()["ApiErrorCode_http_status"].values()):
            raise ValueError(f"{code} is not an ApiErrorCode HTTP status")

    def body(self) -> dict[str, Any]:
        """ExceptionResponse as Gson writes it (null fields left out)."""
        out: dict[str, Any] = {"uuidList": [], "errorcode": self.errorcode}
        if self.cserrorcode is not None:
            out["cserrorcode"] = self.cserrorcode
        out["errortext"] = self.errortext
        return out

    def __repr__(self) -> str:
        return f"CloudStackError({self.errorcode}, {self.cserrorcode}, {self.errortext!r})"


def unauthorized() -> CloudStackError:
    """ApiServlet's answer to a failed verifyRequest: built from an int, so no cserrorcode."""
    return CloudStackError(UNAUTHORIZED, BAD_CREDENTIALS, None)


def param_error(text: str) -> CloudStackError:
    """ServerApiException(PARAM_ERROR, text) from the dispatcher: cserrorcode 9999."""
    return CloudStackError(PARAM_ERROR, text, 9999)


def invalid_parameter(text: str) -> CloudStackError:
    """InvalidParameterValueException from a service, wrapped by ApiServer: 431 / 4350."""
    return CloudStackError(PARAM_ERROR, text, cs_code("InvalidParameterValueException"))


def permission_denied(text: str) -> CloudStackError:
    return CloudStackError(ACCOUNT_ERROR, text, cs_code("PermissionDeniedException"))


def cloud_runtime(text: str) -> CloudStackError:
    """CloudRuntimeException from a service: ApiServer's catch-all gives 530 with the cause's 4250."""
    return CloudStackError(INTERNAL_ERROR, text, cs_code("CloudRuntimeException"))


def internal_error(text: str) -> CloudStackError:
    """ServerApiException(INTERNAL_ERROR, text) raised by a command's execute(): 530 / 9999."""
    return CloudStackError(INTERNAL_ERROR, text, 9999)


def resource_unavailable(text: str) -> CloudStackError:
    return CloudStackError(RESOURCE_UNAVAILABLE_ERROR, text, cs_code("ResourceUnavailableException"))


def resource_in_use(text: str) -> CloudStackError:
    return CloudStackError(RESOURCE_IN_USE_ERROR, text, cs_code("ResourceInUseException"))


def unsupported(text: str) -> CloudStackError:
    """UNSUPPORTED_ACTION_ERROR answered under `errorresponse`."""
    return CloudStackError(UNSUPPORTED_ACTION_ERROR, text, 9999, response_name="errorresponse")
