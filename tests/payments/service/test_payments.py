"""``PaymentService`` (service/payments.py) decides who may pay, refund and read, before
any input or key is looked at; on fakes of the ports, no engine."""

from __future__ import annotations

import pytest

from shopkit.auth import Identity
from shopkit.errors import NotFound, Unauthenticated
from tests.payments.service.conftest import World


async def test_the_service_decides_who_may_pay_refund_and_read(world: World) -> None:
    """Paying and refunding need a logged-in account (a service credential alone is none),
    reading needs an account or a service; checked before any input or key is looked at."""
    world.order()
    paid = await world.pay()
    for caller in (Identity(), Identity(service="orders")):
        with pytest.raises(Unauthenticated):
            await world.service.pay(caller, order_id="o1", idempotency_key="", card=None)
        with pytest.raises(Unauthenticated):
            await world.service.pay_again(caller, payment_id=paid.id, idempotency_key="k2")
        with pytest.raises(Unauthenticated):
            await world.service.refund(caller, payment_id=paid.id, idempotency_key="r", amount=0)
    with pytest.raises(Unauthenticated):
        await world.service.get(Identity(), paid.id)
    with pytest.raises(Unauthenticated):
        await world.service.for_orders(Identity(), ["o1"])
    assert (await world.service.get(Identity(service="orders"), paid.id)).id == paid.id
    eve = Identity(account_id="eve", role="CUSTOMER")
    with pytest.raises(NotFound):
        await world.service.get(eve, paid.id)
    assert (await world.service.for_orders(eve, ["o1"])) == {"o1": []}
    assert await world.service.find(eve, paid.id) is None
    assert world.processor_refunded(paid.charge_id) == 0
    assert [p.id for p in world.store.payments.values()] == [paid.id]
