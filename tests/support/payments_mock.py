"""A stand-in for the payments service's HTTP answers (respx): each order's payment attempts
as payments' ``Order`` entity answers them, or an outage (``down``)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import httpx

PAYMENTS_URL = "http://payments.test/graphql"


@dataclass
class PaymentsMock:
    by_order: dict[str, list[dict]] = field(default_factory=dict)
    down: bool = False
    asked: list[list[str]] = field(default_factory=list)

    def add(
        self, order_id: str, status: str, amount: int, currency: str = "EUR", refunded: int = 0
    ) -> str:
        payment_id = str(uuid.uuid4())
        self.by_order.setdefault(order_id, []).append(
            {
                "id": payment_id,
                "status": status,
                "amount": {"amount": amount, "currency": currency},
                "refunded": {"amount": refunded, "currency": currency},
            }
        )
        return payment_id

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert "_entities" in body["query"]
        assert request.headers.get("x-service-token")
        ids = [r["id"] for r in body["variables"]["orders"]]
        self.asked.append(ids)
        if self.down:
            return httpx.Response(503, text="payments is down")
        entities = [
            {
                "id": i,
                "payments": {
                    "edges": [{"node": p} for p in self.by_order.get(i, [])],
                    "pageInfo": {"hasNextPage": False},
                },
            }
            for i in ids
        ]
        return httpx.Response(200, json={"data": {"_entities": entities}})
