"""What items asks the orders service: the status and lines of an order (with the service
credential, through ``order(id)``)."""

from __future__ import annotations

from shopkit.errors import NotFound, Unavailable
from shopkit.service_client import ServiceClient
from subgraphs.items.domain.holds import OrderState

ORDER_QUERY = """
query ItemsOrderHold($id: ID!) {
  order(id: $id) { id status lines { item { id } quantity } }
}
"""


class OrdersClient:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def find(self, order_id: str) -> OrderState | None:
        """The order, or None when orders says it does not exist. Raises ``ShopError``
        (``Unavailable`` and the like) when the answer is anything less certain."""
        try:
            data = await self.client.execute(ORDER_QUERY, {"id": order_id})
        except NotFound:
            return None
        if "order" not in data:
            raise Unavailable("The orders service answered without the order.")
        order = data["order"]
        if order is None:
            return None
        try:
            return OrderState(
                status=str(order["status"]),
                lines=[(str(line["item"]["id"]), int(line["quantity"])) for line in order["lines"]],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise Unavailable("The orders service answered an order items cannot read.") from exc
