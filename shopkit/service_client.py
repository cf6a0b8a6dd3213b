"""Calls from one service to another's GraphQL endpoint, with the service credential.

The gateway's request id goes on with the call (``x-request-id``); the trace context goes in
``traceparent`` when tracing is on (the httpx instrumentation). Timeouts on every call;
bounded retries with backoff on connection failures and 5xx answers (the internal operations
called this way are idempotent by design). A GraphQL error that
carries a ``ShopError`` code is raised again here as that error, so the caller's domain sees
"not found" or "conflict", not an HTTP detail.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from shopkit import errors
from shopkit.auth import SERVICE_TOKEN_HEADER, mint_service_token
from shopkit.settings import ServiceSettings
from shopkit.tracing import request_id_headers

log = logging.getLogger(__name__)

_BY_CODE: dict[str, type[errors.ShopError]] = {
    cls.code: cls
    for cls in (
        errors.InvalidInput,
        errors.NotFound,
        errors.Conflict,
        errors.Unauthenticated,
        errors.Forbidden,
        errors.RateLimited,
        errors.Unavailable,
    )
}


@dataclass(eq=False, kw_only=True)
class ServiceClient:
    url: str
    caller: str
    secret: str = field(repr=False)  # the shared service secret stays out of any log
    http: httpx.AsyncClient
    timeout: float = 5.0
    attempts: int = 3
    backoff: float = 0.2

    @classmethod
    def calling(cls, url: str, settings: ServiceSettings, http: httpx.AsyncClient) -> ServiceClient:
        """A client that calls ``url`` as this service (its name, the shared service secret)."""
        return cls(url=url, caller=settings.service_name, secret=settings.service_secret, http=http)

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {
            SERVICE_TOKEN_HEADER: mint_service_token(self.secret, self.caller),
            **request_id_headers(),
        }
        body = {"query": query, "variables": variables or {}}
        last: Exception | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                response = await self.http.post(
                    self.url, json=body, headers=headers, timeout=self.timeout
                )
                if response.status_code >= 500:
                    raise httpx.HTTPStatusError(
                        f"{response.status_code} from {self.url}",
                        request=response.request,
                        response=response,
                    )
                payload = response.json()
            except (httpx.TransportError, httpx.HTTPStatusError, ValueError) as exc:
                last = exc
                log.warning("service call failed", extra={"url": self.url, "attempt": attempt})
                if attempt < self.attempts:
                    await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            return self._data_or_raise(payload)
        raise errors.Unavailable(f"The service at {self.url} did not answer.") from last

    @staticmethod
    def _data_or_raise(payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise errors.Unavailable("A service answered something that is not GraphQL.")
        for error in payload.get("errors") or []:
            extensions = error.get("extensions") or {}
            code = extensions.get("code")
            details = {k: v for k, v in extensions.items() if k != "code"}
            cls = _BY_CODE.get(code or "")
            if cls is not None:
                raise cls(error.get("message", "Service error."), **details)
            raise errors.Unavailable(f"A service failed: {error.get('message', 'unknown error')}")
        data = payload.get("data")
        if not isinstance(data, dict):
            raise errors.Unavailable("A service answered without data.")
        return data
