"""What payments asks other services: an order (orders) and a saved card's token (accounts)."""

from __future__ import annotations

from typing import Any

from shopkit.errors import NotFound, Unavailable
from shopkit.money import Money
from shopkit.processor import CardToken
from shopkit.service_client import ServiceClient
from subgraphs.payments.domain.orders import OrderView

ORDER_QUERY = """
query PaymentsOrder($id: ID!) {
  order(id: $id) { id status customer { id } total { amount currency } }
}
"""

PAYMENT_SOURCE_QUERY = """
query PaymentsSource($accountId: ID!, $paymentMethodId: ID!) {
  paymentMethodSource(accountId: $accountId, paymentMethodId: $paymentMethodId) {
    token brand last4 expMonth expYear
  }
}
"""


def _minor_units(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("not an amount")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise ValueError(f"not an integer amount: {value!r}")


class OrdersClient:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def get(self, order_id: str) -> OrderView:
        data = await self.client.execute(ORDER_QUERY, {"id": order_id})
        order = data.get("order")
        if order is None:
            raise NotFound("No such order.", orderId=order_id)
        try:
            return OrderView(
                id=str(order["id"]),
                status=str(order["status"]),
                customer_id=str(order["customer"]["id"]),
                total=Money(
                    _minor_units(order["total"]["amount"]), str(order["total"]["currency"])
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise Unavailable("The orders service answered an order payments cannot read.") from exc


class AccountsClient:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def payment_source(self, account_id: str, payment_method_id: str) -> CardToken:
        data = await self.client.execute(
            PAYMENT_SOURCE_QUERY, {"accountId": account_id, "paymentMethodId": payment_method_id}
        )
        source = data.get("paymentMethodSource")
        if source is None:
            raise NotFound("No such saved payment method.", paymentMethodId=payment_method_id)
        try:
            return CardToken(
                token=str(source["token"]),
                brand=str(source["brand"]),
                last4=str(source["last4"]),
                exp_month=int(source["expMonth"]),
                exp_year=int(source["expYear"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise Unavailable("The accounts service answered a card payments cannot read.") from exc
