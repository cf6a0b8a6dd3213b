"""Running a request under an idempotency key: who does the work, and what repeats get.

The store decides who wins a key (a UNIQUE constraint) and retries what the database rolled
back for contention itself; this module only reads its answers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shopkit.errors import ShopError, Unavailable
from shopkit.idempotency import IN_PROGRESS, key_reused, validate_key
from subgraphs.payments.domain.idempotency import (
    COMPLETED,
    STARTED,
    IdempotencyRecord,
    RequestInProgress,
    error_from_dict,
    error_to_dict,
    is_transient,
    request_hash,
)
from subgraphs.payments.domain.model import Payment
from subgraphs.payments.service.ports import IdempotencyStore

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Replay:
    response: str


def payment_response(payment: Payment) -> str:
    return json.dumps({"payment": payment.to_dict()}, sort_keys=True)


def error_response(error: ShopError) -> str:
    return json.dumps(error_to_dict(error), sort_keys=True)


class IdempotencyKeys:
    def __init__(
        self,
        store: IdempotencyStore,
        *,
        secret: str,
        ttl: timedelta,
        lease: timedelta,
        clock: Clock,
    ) -> None:
        self.store = store
        self.secret = secret
        self.ttl = ttl
        self.lease = lease
        self.clock = clock

    async def run(
        self,
        caller_id: str,
        key: str,
        operation: str,
        params: dict[str, Any],
        work: Callable[[IdempotencyRecord], Awaitable[Payment]],
    ) -> Payment:
        """Runs ``work`` once per (caller, key); ``work`` completes the record itself, in the
        transaction that records its result. Final errors are stored; transient ones leave the
        key unfinished for a retry."""
        began = await self.begin(caller_id, key, operation, params)
        if isinstance(began, Replay):
            return self.replay(began.response)
        try:
            return await work(began)
        except ShopError as error:
            if is_transient(error):
                await self.store.release(began.id, self.clock())
            else:
                await self.store.complete_alone(began.id, error_response(error), self.clock())
            raise
        except BaseException:
            await self.store.release(began.id, self.clock())
            raise

    async def begin(
        self, caller_id: str, key: str, operation: str, params: dict[str, Any]
    ) -> IdempotencyRecord | Replay:
        validate_key(key)
        digest = request_hash(self.secret, operation, params)
        for _ in range(5):
            now = self.clock()
            record = IdempotencyRecord(
                id=str(uuid.uuid4()),
                caller_id=caller_id,
                key=key,
                operation=operation,
                request_hash=digest,
                status=STARTED,
                expires_at=now + self.ttl,
            )
            if await self.store.insert(record, now, now + self.lease):
                return record
            existing = await self.store.get(caller_id, key)
            if existing is None:
                continue  # expired and cleaned up meanwhile
            if existing.expires_at <= now:
                await self.store.delete_if_expired(existing.id, now)
                continue
            if existing.request_hash != digest:
                raise key_reused()
            if existing.status == COMPLETED and existing.response is not None:
                return Replay(existing.response)
            if await self.store.take_over(existing.id, now, now + self.lease):
                return existing
            raise RequestInProgress(
                "A request with this idempotency key is still in progress; retry shortly.",
                reason=IN_PROGRESS,
            )
        raise Unavailable("The request could not be started; retry with the same key.")

    @staticmethod
    def replay(response: str) -> Payment:
        stored = json.loads(response)
        if "error" in stored:
            raise error_from_dict(stored["error"])
        return Payment.from_dict(stored["payment"])
