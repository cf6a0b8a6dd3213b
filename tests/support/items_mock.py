"""A stand-in for the items service's HTTP answers (respx), with a small catalogue.

Faults: ``lose_reserve_answers`` makes a reservation take effect and its answer fail (a
timeout after items committed it), ``release_down`` makes ``releaseStock`` fail."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx

ITEMS_URL = "http://items.test/graphql"


@dataclass
class ItemsMock:
    prices: dict[str, tuple[int, str]] = field(default_factory=dict)
    stock: dict[str, int] = field(default_factory=dict)
    reserved: dict[str, dict[str, int]] = field(default_factory=dict)
    calls: list[tuple[str, dict]] = field(default_factory=list)
    lose_reserve_answers: bool = False
    release_down: bool = False

    def add(self, item_id: str, amount: int, stock: int = 100, currency: str = "EUR") -> None:
        self.prices[item_id] = (amount, currency)
        self.stock[item_id] = stock

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        variables = body["variables"]
        if "reserveStock" in body["query"]:
            self.calls.append(("reserve", variables))
            answer = self._reserve(variables)
            if self.lose_reserve_answers:
                return httpx.Response(503, text="upstream timed out")
            return httpx.Response(200, json=answer)
        self.calls.append(("release", variables))
        if self.release_down:
            return httpx.Response(503, text="upstream timed out")
        for item_id, quantity in self.reserved.pop(variables["orderId"], {}).items():
            self.stock[item_id] += quantity
        return httpx.Response(
            200,
            json={
                "data": {"releaseStock": {"orderId": variables["orderId"], "status": "RELEASED"}}
            },
        )

    def _reserve(self, variables: dict) -> dict:
        order_id = variables["orderId"]
        held = self.reserved.get(order_id, {})
        for line in variables["lines"]:
            item_id = line["itemId"]
            if item_id not in self.prices:
                return _error(f"Item {item_id} not found.", "NOT_FOUND", itemId=item_id)
            available = self.stock[item_id] + held.get(item_id, 0)
            if line["quantity"] > available:
                return _error("Not enough stock.", "CONFLICT", itemId=item_id, available=available)
        for item_id, quantity in held.items():
            self.stock[item_id] += quantity
        self.reserved[order_id] = {x["itemId"]: x["quantity"] for x in variables["lines"]}
        for item_id, quantity in self.reserved[order_id].items():
            self.stock[item_id] -= quantity
        lines = [
            {
                "itemId": x["itemId"],
                "name": f"name of {x['itemId']}",
                "upc": "000000000000",
                "quantity": x["quantity"],
                "unitPrice": {
                    "amount": self.prices[x["itemId"]][0],
                    "currency": self.prices[x["itemId"]][1],
                },
            }
            for x in variables["lines"]
        ]
        return {
            "data": {"reserveStock": {"orderId": order_id, "status": "RESERVED", "lines": lines}}
        }

    def reserve_calls(self) -> int:
        return sum(1 for kind, _ in self.calls if kind == "reserve")

    def held(self) -> dict[str, dict[str, int]]:
        """Reservations that hold something, by order id."""
        return {order_id: lines for order_id, lines in self.reserved.items() if lines}


def _error(message: str, code: str, **extensions: object) -> dict:
    return {
        "data": None,
        "errors": [{"message": message, "extensions": {"code": code, **extensions}}],
    }
