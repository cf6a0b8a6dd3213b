"""The automatic refunds (service/automatic_refunds.py), on fakes of the ports: a cancelled
order's payment, a charge that lands on an order cancelled meanwhile, and a payment orders
refused (``order.payment_refused``), each refunded once."""

from __future__ import annotations

from shopkit.money import Money
from subgraphs.payments.domain.model import PaymentStatus
from tests.payments.service.conftest import World


async def test_a_cancelled_orders_payment_is_refunded_once(world: World) -> None:
    world.order()
    paid = await world.pay()

    for event_id in ("e1", "e2", "e1"):
        await world.service.order_cancelled("o1", event_id)

    assert world.processor.refund_calls == 1
    assert world.store.payments[paid.id].status is PaymentStatus.REFUNDED


async def test_a_charge_landing_on_an_order_cancelled_meanwhile_is_refunded(world: World) -> None:
    world.order()
    world.processor.on_charge = lambda: world.orders.set("o1", status="CANCELLED")

    paid = await world.pay()

    assert paid.status is PaymentStatus.SUCCEEDED  # the answer to the charge
    assert world.store.payments[paid.id].status is PaymentStatus.REFUNDED
    assert world.processor.refund_calls == 1


async def test_a_refused_payment_is_refunded_once_and_the_order_may_be_paid_again(
    world: World,
) -> None:
    world.order(amount=1000)
    refused = await world.pay(key="a")
    world.orders.set("o1", total=Money(5000, "EUR"))  # the order changed while it was being paid

    for _ in range(2):  # a redelivery changes nothing
        await world.service.payment_refused("o1", refused.id)
    paid = await world.pay(key="b")

    assert world.store.payments[refused.id].status is PaymentStatus.REFUNDED
    assert world.processor_refunded(refused.charge_id) == 1000
    assert world.processor.refund_calls == 1
    assert paid.status is PaymentStatus.SUCCEEDED
    assert paid.amount == 5000
    assert world.store.claims["o1"].payment_id == paid.id


async def test_a_refused_payment_already_refunded_only_frees_the_order(world: World) -> None:
    world.order()
    refused = await world.pay(key="a")
    await world.refund(refused.id, "admin")

    await world.service.payment_refused("o1", refused.id)

    assert "o1" not in world.store.claims
    assert world.processor.refund_calls == 1


async def test_a_refusal_naming_another_orders_payment_changes_nothing(world: World) -> None:
    world.order()
    paid = await world.pay()

    assert await world.service.payment_refused("another-order", paid.id) is None
    assert world.store.claims["o1"].payment_id == paid.id
    assert world.processor.refund_calls == 0
