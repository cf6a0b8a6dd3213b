"""The processor adapter for a Stripe-like REST API.

``POST /v1/tokens``, ``/v1/charges`` and ``/v1/refunds``, form-encoded, authenticated with
``Authorization: Bearer <api key>``, each with an ``Idempotency-Key`` header. A request is
retried (bounded, with backoff) only where that is safe, i.e. always with the same key, and
only when its outcome is unknown or the API says to try again: connection errors, timeouts,
429, 409 (a request with that key still running) and 5xx. A 402 card error is a decline
(``ChargeResult(status="failed")``); a card error while tokenizing is the customer's input
(``InvalidInput``); another 4xx is a refusal (``ProcessorRefused``: nothing happened); an
answer that does not parse raises ``ProcessorError`` (outcome unknown: the caller may retry
with the same key).

Finding work again by its key: ``GET /v1/charges?idempotency_key=<key>`` and
``GET /v1/refunds?idempotency_key=<key>`` answer a Stripe list object (``{"object": "list",
"data": [...]}``) holding the charge or refund made with that key, or nothing. This lookup is
this API's own (Stripe has no lookup by idempotency key; against Stripe itself one would put
the key in the charge's ``metadata`` and use its search API). ``stack/fake_processor.py``
serves exactly this API for the local stack and the tests.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import httpx

from shopkit.errors import InvalidInput
from shopkit.processor.cards import Card, CardToken
from shopkit.processor.interface import (
    ChargeResult,
    ProcessorError,
    ProcessorRefused,
    RefundResult,
)

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({409, 429})
ATTEMPTS = 3  # per call: the first and two retries, each bounded by the timeout


class _CardError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class HttpProcessor:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        http: httpx.AsyncClient,
        *,
        timeout: float = 10.0,
        attempts: int = ATTEMPTS,
        backoff: float = 0.25,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.http = http
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff

    async def tokenize(self, card: Card) -> CardToken:
        form = {
            "card[number]": card.number,
            "card[exp_month]": str(card.exp_month),
            "card[exp_year]": str(card.exp_year),
            "card[cvc]": card.cvc,
        }
        try:
            body = await self._post("/v1/tokens", form, f"tok_{uuid.uuid4().hex}")
        except _CardError as error:
            raise InvalidInput(error.message, field="card", declineCode=error.code) from None
        try:
            details = body["card"]
            return CardToken(
                token=_text(body["id"]),
                brand=_text(details["brand"]).lower(),
                last4=_text(details["last4"]),
                exp_month=int(details["exp_month"]),
                exp_year=int(details["exp_year"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProcessorError("malformed token response") from exc

    async def charge(
        self, *, source: str, amount: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        form = {"amount": str(amount), "currency": currency.lower(), "source": source}
        try:
            body = await self._post("/v1/charges", form, idempotency_key)
        except _CardError as error:
            return ChargeResult(
                status="failed", failure_code=error.code, failure_message=error.message
            )
        return _charge_result(body)

    async def refund(self, *, charge_id: str, amount: int, idempotency_key: str) -> RefundResult:
        form = {"charge": charge_id, "amount": str(amount)}
        try:
            body = await self._post("/v1/refunds", form, idempotency_key)
        except _CardError as error:
            raise ProcessorRefused(f"refund refused: {error.code}") from None
        result = _refund_result(body)
        if result.amount != amount:
            raise ProcessorError(f"refund of {amount} answered with {result.amount}")
        return result

    async def find_charge(self, idempotency_key: str) -> ChargeResult | None:
        found = await self._find("/v1/charges", idempotency_key)
        return None if found is None else _charge_result(found)

    async def find_refund(self, idempotency_key: str) -> RefundResult | None:
        found = await self._find("/v1/refunds", idempotency_key)
        return None if found is None else _refund_result(found)

    async def _find(self, path: str, idempotency_key: str) -> dict[str, Any] | None:
        """The object of ``path`` made with this key, or None; a lookup is safe to retry."""
        body = await self._send("GET", path, params={"idempotency_key": idempotency_key})
        found = body.get("data")
        if not isinstance(found, list) or len(found) > 1:
            raise ProcessorError(f"{path} answered a lookup that is not a list of at most one")
        if not found:
            return None
        if not isinstance(found[0], dict) or found[0].get("idempotency_key") != idempotency_key:
            raise ProcessorError(f"{path} answered another key's object")
        return found[0]

    async def _post(self, path: str, form: dict[str, str], idempotency_key: str) -> Any:
        return await self._send("POST", path, form=form, idempotency_key=idempotency_key)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        url = f"{self.base_url}{path}"
        for attempt in range(1, self.attempts + 1):
            retry_reason: str
            try:
                response = await self.http.request(
                    method, url, data=form, params=params, headers=headers, timeout=self.timeout
                )
            except httpx.TransportError as exc:  # connect errors and timeouts
                retry_reason = type(exc).__name__
            else:
                if response.status_code == 402:
                    raise _CardError(*_card_error(response))
                if response.status_code < 300:
                    try:
                        body = response.json()
                    except ValueError as exc:
                        raise ProcessorError(f"{path} answered something that is not JSON") from exc
                    if not isinstance(body, dict):
                        raise ProcessorError(f"{path} answered JSON that is not an object")
                    return body
                if response.status_code < 500 and response.status_code not in RETRY_STATUSES:
                    raise ProcessorRefused(f"{path} refused the request: {response.status_code}")
                retry_reason = f"HTTP {response.status_code}"
            log.warning(
                "processor call failed",
                extra={"path": path, "attempt": attempt, "reason": retry_reason},
            )
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        raise ProcessorError(f"{path} did not answer after {self.attempts} attempts")


def _card_error(response: httpx.Response) -> tuple[str, str]:
    try:
        error = response.json()["error"]
        return str(error.get("decline_code") or error.get("code") or "card_declined"), str(
            error.get("message") or "The card was declined."
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return "card_declined", "The card was declined."


def _charge_result(body: dict[str, Any]) -> ChargeResult:
    try:
        status = body["status"]
        charge_id = _text(body["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ProcessorError("malformed charge response") from exc
    if status == "succeeded":
        return ChargeResult(status="succeeded", charge_id=charge_id)
    if status == "failed":
        return ChargeResult(
            status="failed",
            charge_id=charge_id,
            failure_code=str(body.get("failure_code") or "card_declined"),
            failure_message=str(body.get("failure_message") or "The card was declined."),
        )
    raise ProcessorError(f"unexpected charge status {status!r}")


def _refund_result(body: dict[str, Any]) -> RefundResult:
    try:
        return RefundResult(refund_id=_text(body["id"]), amount=int(body["amount"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ProcessorError("malformed refund response") from exc


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("expected a non-empty string")
    return value
