"""Idempotency keys (Stripe / IETF ``Idempotency-Key`` semantics).

The key's rule (length, scope, reuse refused) is the kit's, shared with orders
(``shopkit.idempotency``). A key is scoped to its caller. The first request with a key does the
work and its outcome (payment or error) is stored; a repeat with the same parameters gets the
stored outcome; a repeat with other parameters is refused; a repeat while the first still runs
is a conflict. Errors from validating the input before any work starts are not stored (as with
Stripe), nor are transient ones (a dependency down, the order busy with another attempt): those
leave the key unfinished so that a retry with it does the work.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shopkit import errors
from shopkit.errors import Conflict, ShopError, Unavailable
from shopkit.idempotency import IdempotencyKeyReused

STARTED = "started"
COMPLETED = "completed"


class RequestInProgress(Conflict):
    """The first request with this key is still running; retry later."""

    retryable = True


class RetryableConflict(Conflict):
    """A conflict that resolves by itself (another attempt for the order is running)."""

    retryable = True


def request_hash(secret: str, operation: str, params: dict[str, Any]) -> str:
    """A keyed hash of the request (keyed because parameters may include a card number)."""
    canonical = json.dumps({"op": operation, **params}, sort_keys=True, separators=(",", ":"))
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def is_transient(error: BaseException) -> bool:
    return isinstance(error, Unavailable) or bool(getattr(error, "retryable", False))


_ERRORS: dict[str, type[ShopError]] = {
    cls.__name__: cls
    for cls in (
        errors.InvalidInput,
        errors.NotFound,
        errors.Conflict,
        errors.Forbidden,
        errors.Unauthenticated,
        IdempotencyKeyReused,
    )
}


def error_to_dict(error: ShopError) -> dict[str, Any]:
    name = next((c.__name__ for c in type(error).__mro__ if c.__name__ in _ERRORS), "Conflict")
    return {"error": {"class": name, "message": error.message, "details": error.details}}


def error_from_dict(raw: dict[str, Any]) -> ShopError:
    cls = _ERRORS.get(raw["class"], errors.Conflict)
    return cls(raw["message"], **raw.get("details", {}))


@dataclass(frozen=True)
class IdempotencyRecord:
    id: str
    caller_id: str
    key: str
    operation: str
    request_hash: str
    status: str
    expires_at: datetime
    payment_id: str | None = None
    response: str | None = None
