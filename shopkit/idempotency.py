"""The one idempotency-key rule of the shop's money-moving and order-placing commands
(createOrder, submitPayment, updatePayment, refundPayment; docs/api-conventions.md).

A key is 1 to ``MAX_KEY_LENGTH`` characters, not blank, opaque (kept as sent), and scoped to
its caller: two customers may use the same key. A repeat with the same parameters answers
what the first request answered; a repeat with other parameters is refused with
``IDEMPOTENCY_KEY_REUSED`` and changes nothing; a repeat while the first request still runs is
a ``CONFLICT`` whose ``extensions.reason`` is ``IDEMPOTENCY_IN_PROGRESS``. How each service
remembers the first request's parameters is its own (payments: a keyed hash per record;
orders: a fingerprint stored with the key's claim), the rule is this one.

Standard library only, so any ``domain/`` may import it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from shopkit.errors import InvalidInput

MAX_KEY_LENGTH = 255
FIELD = "idempotencyKey"
# ``extensions.reason`` of the CONFLICT a repeat gets while the first request with its key is
# still running (the catalogue's CONFLICT): retry shortly with the same key.
IN_PROGRESS = "IDEMPOTENCY_IN_PROGRESS"


class IdempotencyKeyReused(InvalidInput):
    code = "IDEMPOTENCY_KEY_REUSED"


def validate_key(key: str) -> str:
    """``key`` if it is a key the shop accepts; ``BAD_USER_INPUT`` naming the field else."""
    if not key or not key.strip():
        raise InvalidInput("The idempotency key must not be empty.", field=FIELD)
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"The idempotency key must be at most {MAX_KEY_LENGTH} characters.", field=FIELD
        )
    return key


def key_reused() -> IdempotencyKeyReused:
    return IdempotencyKeyReused(
        "This idempotency key was already used with other parameters; "
        "use a new key for a new request.",
        field=FIELD,
    )


def fingerprint(operation: str, params: dict[str, Any]) -> str:
    """A digest of a request's parameters (for parameters that hold no secret: payments
    keys its hash, as card numbers may be among them)."""
    canonical = json.dumps({"op": operation, **params}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
