"""What a charge and a refund both work with (``charges.py``, ``refunds.py``).

Both move money at the processor for a request made under an idempotency key, record the
outcome in the payments store, ask orders about the order, wake the live-status streams and
read one clock: one declaration of these, so the two stay wired alike (``payments.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shopkit.processor import PaymentProcessor
from subgraphs.payments.service.idempotency import IdempotencyKeys
from subgraphs.payments.service.ports import Orders, PaymentStore


@dataclass(eq=False, kw_only=True)
class MoneyMovement:
    payments: PaymentStore
    keys: IdempotencyKeys
    processor: PaymentProcessor
    orders: Orders
    notify: Callable[[], None]  # wakes the live-status streams after a recorded outcome
    clock: Callable[[], datetime]
