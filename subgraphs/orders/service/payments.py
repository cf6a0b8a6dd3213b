"""The payments service as the orders service sees it: every payment attempt of some orders.

Asked through payments' ``Order`` entity (``_entities`` with the service token), so one call
answers a whole batch of orders. Any error, or an answer this service cannot read, raises:
the sweep then takes no order to be without payment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shopkit.errors import Unavailable
from shopkit.money import Money
from shopkit.service_client import ServiceClient
from subgraphs.orders.domain.payments import PaymentAttempt, PaymentState

PAYMENTS_OF_ORDERS = """
query OrdersPayments($orders: [_Any!]!) {
  _entities(representations: $orders) {
    ... on Order {
      id
      payments(first: 100) {
        edges { node { id status amount { amount currency } refunded { amount currency } } }
        pageInfo { hasNextPage }
      }
    }
  }
}
"""


def _attempt(raw: dict[str, Any]) -> PaymentAttempt:
    return PaymentAttempt(
        id=str(raw["id"]),
        state=PaymentState.parse(raw["status"]),
        amount=Money(_integer(raw["amount"]["amount"]), str(raw["amount"]["currency"])),
        refunded=_integer(raw["refunded"]["amount"]),
    )


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"not an amount in minor units: {value!r}")
    return value


class PaymentsClient:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def attempts(self, order_ids: Sequence[str]) -> dict[str, list[PaymentAttempt]]:
        representations = [{"__typename": "Order", "id": order_id} for order_id in order_ids]
        data = await self.client.execute(PAYMENTS_OF_ORDERS, {"orders": representations})
        try:
            entities = data["_entities"]
            if len(entities) != len(order_ids):
                raise ValueError("not one entity per order")
            answer: dict[str, list[PaymentAttempt]] = {}
            for order_id, entity in zip(order_ids, entities, strict=True):
                if entity is None or str(entity["id"]) != order_id:
                    raise ValueError(f"no answer for order {order_id}")
                page = entity["payments"]
                if page["pageInfo"]["hasNextPage"]:
                    # An order has far fewer attempts than a page (payments' own limit).
                    raise ValueError(f"more than a page of attempts for order {order_id}")
                answer[order_id] = [_attempt(edge["node"]) for edge in page["edges"]]
            return answer
        except (KeyError, TypeError, ValueError) as exc:
            raise Unavailable("The payments service answered payments we cannot read.") from exc
