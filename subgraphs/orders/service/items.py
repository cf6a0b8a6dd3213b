"""The items service as the orders service sees it: ``reserveStock`` and ``releaseStock``."""

from __future__ import annotations

from collections.abc import Sequence

from shopkit.errors import Conflict, NotFound, Unavailable
from shopkit.money import Money
from shopkit.service_client import ServiceClient
from subgraphs.orders.domain.model import LineRequest, OrderLine

RESERVE = """
mutation Reserve($orderId: ID!, $lines: [StockLineInput!]!) {
  reserveStock(orderId: $orderId, lines: $lines) {
    orderId status
    lines { itemId name upc quantity unitPrice { amount currency } }
  }
}
"""

RELEASE = """
mutation Release($orderId: ID!) { releaseStock(orderId: $orderId) { orderId status } }
"""


class ItemsStock:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def reserve(self, order_id: str, lines: Sequence[LineRequest]) -> list[OrderLine]:
        variables = {
            "orderId": order_id,
            "lines": [{"itemId": line.item_id, "quantity": line.quantity} for line in lines],
        }
        try:
            data = await self.client.execute(RESERVE, variables)
        except Conflict as exc:
            item_id = exc.details.get("itemId")
            available = exc.details.get("available")
            if item_id is None:
                raise
            # items answers the id normalised (lower case): match the line the same way.
            wanted = next(
                (line.quantity for line in lines if line.item_id.lower() == str(item_id).lower()),
                None,
            )
            raise Conflict(
                f"Not enough stock of item {item_id}: {wanted} wanted, {available} available.",
                itemId=item_id,
                available=available,
            ) from exc
        except NotFound as exc:
            item_id = exc.details.get("itemId")
            message = f"Item {item_id} does not exist." if item_id else exc.message
            raise NotFound(message, **exc.details) from exc
        try:
            return [
                OrderLine(
                    item_id=str(line["itemId"]),
                    quantity=int(line["quantity"]),
                    unit_price=Money(
                        int(line["unitPrice"]["amount"]), str(line["unitPrice"]["currency"])
                    ),
                    name=line.get("name"),
                    upc=line.get("upc"),
                )
                for line in data["reserveStock"]["lines"]
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise Unavailable("The items service answered a reservation we cannot read.") from exc

    async def release(self, order_id: str) -> None:
        await self.client.execute(RELEASE, {"orderId": order_id})
