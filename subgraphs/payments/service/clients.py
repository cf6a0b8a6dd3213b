"""What payments asks other services: an order (orders) and a saved card's token (accounts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

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


T = TypeVar("T")


async def _ask(
    client: ServiceClient,
    query: str,
    variables: dict[str, Any],
    answer: str,
    *,
    missing: NotFound,
    read: Callable[[Any], T],
    unreadable: str,
) -> T:
    """The ``answer`` field of the query's data, read by ``read``: ``missing`` when it is
    null, ``SERVICE_UNAVAILABLE`` (``unreadable``) when it is not what ``read`` expects."""
    data = await client.execute(query, variables)
    value = data.get(answer)
    if value is None:
        raise missing
    try:
        return read(value)
    except (KeyError, TypeError, ValueError) as exc:
        raise Unavailable(unreadable) from exc


def _order(order: Any) -> OrderView:
    return OrderView(
        id=str(order["id"]),
        status=str(order["status"]),
        customer_id=str(order["customer"]["id"]),
        total=Money(_minor_units(order["total"]["amount"]), str(order["total"]["currency"])),
    )


def _card_token(source: Any) -> CardToken:
    return CardToken(
        token=str(source["token"]),
        brand=str(source["brand"]),
        last4=str(source["last4"]),
        exp_month=int(source["expMonth"]),
        exp_year=int(source["expYear"]),
    )


class OrdersClient:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def get(self, order_id: str) -> OrderView:
        return await _ask(
            self.client,
            ORDER_QUERY,
            {"id": order_id},
            "order",
            missing=NotFound("No such order.", orderId=order_id),
            read=_order,
            unreadable="The orders service answered an order payments cannot read.",
        )


class AccountsClient:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def payment_source(self, account_id: str, payment_method_id: str) -> CardToken:
        return await _ask(
            self.client,
            PAYMENT_SOURCE_QUERY,
            {"accountId": account_id, "paymentMethodId": payment_method_id},
            "paymentMethodSource",
            missing=NotFound("No such saved payment method.", paymentMethodId=payment_method_id),
            read=_card_token,
            unreadable="The accounts service answered a card payments cannot read.",
        )
