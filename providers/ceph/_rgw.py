"""RGW through maintained clients: Admin Ops with `rgwadmin`, S3 with `boto3`.

Both libraries sign their requests themselves (AWS signature v4), so the project keeps no
signer of its own. They are imported when a provider first talks to RGW, never at import time.
`map_error` is the one place where their errors become the provider's taxonomy, keeping RGW's
own code (`NoSuchUser`, `SignatureDoesNotMatch`, `BucketAlreadyExists`) in the message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlsplit

from providers._core import NotFound, Permanent, ProviderError, Retryable, retry

from ._http import READ_RETRY, TIMEOUT

if TYPE_CHECKING:
    from rgwadmin import RGWAdmin

T = TypeVar("T")
NOT_FOUND_CODES = {"NoSuchUser", "NoSuchBucket", "NoSuchKey", "NoSuchObject"}
RETRYABLE_CODES = {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout"}


def _classify(status: int | None, code: str) -> type[ProviderError]:
    if status == 404 or code in NOT_FOUND_CODES:
        return NotFound
    if status in (408, 429) or (status is not None and status >= 500) or code in RETRYABLE_CODES:
        return Retryable
    return Permanent


def map_error(resource: str, what: str, error: Exception) -> ProviderError:
    """THE mapping of an rgwadmin, botocore or transport error (the only one for RGW)."""
    import requests
    from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, EndpointConnectionError
    from rgwadmin.exceptions import RGWAdminException, ServerDown

    if isinstance(error, ProviderError):
        return error
    if isinstance(error, (requests.ConnectionError, requests.Timeout, ServerDown, EndpointConnectionError,
                          ConnectionError)):
        return Retryable(resource, f"{what}: {type(error).__name__}: {error}")
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = str(info.get("Code") or "")
        words = f"{code}: {info['Message']}" if info.get("Message") else code
        return _classify(status, code)(resource, f"{what}: HTTP {status}: {words}")
    if isinstance(error, RGWAdminException):
        # rgwadmin raises its named exceptions with the answer as `code`, the others with the code
        raw = error.code if isinstance(error.code, dict) else error.raw if isinstance(error.raw, dict) else {}
        code = str(raw.get("Code") or (error.code if isinstance(error.code, str) else type(error).__name__))
        words = f"{code}: {raw['Message']}" if raw.get("Message") else code
        return _classify(None, code)(resource, f"{what}: {words}")
    if isinstance(error, BotoCoreError):
        return Permanent(resource, f"{what}: {error}")
    return Permanent(resource, f"{what}: {type(error).__name__}: {error}")


def _q(value: Any) -> str:
    """rgwadmin puts values into the query string as they are: quote them (spaces, '+', '&')."""
    return quote(str(value), safe="")


class AdminOps:
    """RGW's Admin Ops API for one provider process, every call mapped through `map_error`."""

    def __init__(self, url: str, access_key: str, secret_key: str, timeout: float = TIMEOUT) -> None:
        self._url, self._access_key, self._secret_key, self._timeout = url, access_key, secret_key, timeout
        self._client: RGWAdmin | None = None

    @property
    def client(self) -> RGWAdmin:
        if self._client is None:
            from rgwadmin import RGWAdmin

            parts = urlsplit(self._url)
            self._client = RGWAdmin(self._access_key, self._secret_key, parts.netloc,
                                    secure=parts.scheme == "https", timeout=self._timeout, pool_connections=True)
        return self._client

    def call(self, resource: str, what: str, fn: Callable[[RGWAdmin], T]) -> T:
        """One call, its errors mapped; not retried (a mutation never is blind: the caller looks again first)."""
        try:
            return fn(self.client)
        except Exception as e:
            raise map_error(resource, what, e) from e

    def read(self, resource: str, what: str, fn: Callable[[RGWAdmin], T]) -> T:
        """A safe call: retried on temporary errors."""
        return retry(lambda: self.call(resource, what, fn), resource=resource, what=what, timeout=READ_RETRY)

    # --- the calls the resources make ---------------------------------------------------------

    def get_user(self, resource: str, uid: str) -> Any:
        return self.read(resource, "get user", lambda c: c.get_user(uid=_q(uid)))

    def create_user(self, resource: str, uid: str, display_name: str, **kw: Any) -> Any:
        params = {k: _q(v) for k, v in kw.items() if v is not None}
        return self.call(resource, "create user",
                           lambda c: c.create_user(_q(uid), _q(display_name), generate_key=True, **params))

    def modify_user(self, resource: str, uid: str, **kw: Any) -> Any:
        params = {k: _q(v) for k, v in kw.items() if v is not None}
        return self.call(resource, "modify user", lambda c: c.modify_user(_q(uid), key_type=None, **params))

    def remove_user(self, resource: str, uid: str, *, purge_data: bool) -> Any:
        return self.call(resource, "remove user", lambda c: c.remove_user(_q(uid), purge_data=purge_data))

    def add_caps(self, resource: str, uid: str, caps: str) -> Any:
        return self.call(resource, "add caps", lambda c: c.add_capability(_q(uid), _q(caps)))

    def remove_caps(self, resource: str, uid: str, caps: str) -> Any:
        return self.call(resource, "remove caps", lambda c: c.remove_capability(_q(uid), _q(caps)))

    def set_quota(self, resource: str, uid: str, kind: str, body: dict[str, Any]) -> Any:
        """Set Quota with the size in bytes (`max-size`: rgwadmin's own call takes KiB only)."""
        params = "".join(f"&{k.replace('_', '-')}={_q(str(v).lower())}" for k, v in body.items()
                         if k in ("enabled", "max_size", "max_objects"))
        path = f"/admin/user?quota&format=json&uid={_q(uid)}&quota-type={kind}{params}"
        return self.call(resource, f"set {kind} quota", lambda c: c.request("put", path))

    def create_key(self, resource: str, uid: str) -> Any:
        return self.call(resource, "create key",
                           lambda c: c.create_key(_q(uid), key_type="s3", generate_key=True))

    def remove_key(self, resource: str, uid: str, access_key: str) -> Any:
        return self.call(resource, "remove key",
                           lambda c: c.remove_key(_q(access_key), key_type="s3", uid=_q(uid)))

    def bucket_owner(self, resource: str, name: str) -> str | None:
        try:
            info = self.read(resource, "get bucket", lambda c: c.get_bucket(bucket=_q(name)))
        except NotFound:
            return None
        return str(info.get("owner")) if isinstance(info, dict) else None


def s3_client(url: str, access_key: str, secret_key: str, timeout: float = TIMEOUT) -> Any:
    """A boto3 S3 client on RGW with the given user's keys (path-style, no retries of its own)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=url, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, connect_timeout=timeout,
                      read_timeout=timeout),
    )


def s3(resource: str, what: str, call: Callable[[], T]) -> T:
    """One S3 call, its errors mapped."""
    try:
        return call()
    except Exception as e:
        raise map_error(resource, what, e) from e
