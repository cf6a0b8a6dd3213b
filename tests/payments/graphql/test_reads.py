"""Reading payments: the queries, the Payment entity and the fields payments adds to Order,
each visible only to the order's owner, an admin or a service."""

from __future__ import annotations

import uuid

from shopkit.auth import mint_service_token
from tests.payments.conftest import Harness, customer
from tests.support.documents import PAYMENT_IDS_FOR_ORDER

ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Order { id payment { id status } payments { edges { node { id } } } }
  ... on Payment { id status order { id } } } }"""


async def _paid_order(harness: Harness) -> tuple[str, str, str]:
    buyer = customer()
    order_id = harness.services.add_order(buyer)
    payment = (await harness.submit(buyer, order_id, "k"))["data"]["submitPayment"]
    return buyer, order_id, payment["id"]


async def test_owner_sees_the_order_payment_through_the_order_entity(harness: Harness) -> None:
    buyer, order_id, payment_id = await _paid_order(harness)

    answer = await harness.gql(
        ENTITIES, {"r": [{"__typename": "Order", "id": order_id}]}, as_=buyer
    )

    order = answer["data"]["_entities"][0]
    assert order == {
        "id": order_id,
        "payment": {"id": payment_id, "status": "SUCCEEDED"},
        "payments": {"edges": [{"node": {"id": payment_id}}]},
    }


async def test_another_customers_order_looks_like_an_order_without_payments(
    harness: Harness,
) -> None:
    _, order_id, _ = await _paid_order(harness)

    answer = await harness.gql(
        ENTITIES, {"r": [{"__typename": "Order", "id": order_id}]}, as_=customer()
    )
    listed = await harness.gql(
        PAYMENT_IDS_FOR_ORDER,
        {"o": order_id},
        as_=customer(),
    )

    assert "errors" not in answer
    assert "errors" not in listed
    assert answer["data"]["_entities"] == [
        {"id": order_id, "payment": None, "payments": {"edges": []}}
    ]
    assert listed["data"]["paymentsForOrder"] == {"edges": []}


async def test_a_service_and_an_admin_see_any_order_payments(harness: Harness) -> None:
    _, order_id, payment_id = await _paid_order(harness)
    token = mint_service_token(harness.settings.service_secret, "orders")

    as_service = await harness.client.post(
        "/graphql",
        json={"query": ENTITIES, "variables": {"r": [{"__typename": "Order", "id": order_id}]}},
        headers={"x-service-token": token},
    )
    as_admin = await harness.gql(
        PAYMENT_IDS_FOR_ORDER,
        {"o": order_id},
        as_="admin",
        role="ADMIN",
    )

    assert as_service.json()["data"]["_entities"][0]["payment"]["id"] == payment_id
    assert as_admin["data"]["paymentsForOrder"]["edges"] == [{"node": {"id": payment_id}}]


async def test_payment_query_hides_other_customers_payments(harness: Harness) -> None:
    buyer, order_id, payment_id = await _paid_order(harness)
    query = "query($id: ID!) { payment(id: $id) { id order { id } } }"

    mine = await harness.gql(query, {"id": payment_id}, as_=buyer)
    theirs = await harness.gql(query, {"id": payment_id}, as_=customer())
    anonymous = await harness.gql(query, {"id": payment_id})

    assert mine["data"]["payment"] == {"id": payment_id, "order": {"id": order_id}}
    missing = await harness.gql(query, {"id": str(uuid.uuid4())}, as_=customer())
    assert theirs == anonymous == missing == {"data": {"payment": None}}


async def test_payment_entity_checks_the_caller(harness: Harness) -> None:
    buyer, _, payment_id = await _paid_order(harness)
    reps = {"r": [{"__typename": "Payment", "id": payment_id}]}

    mine = await harness.gql(ENTITIES, reps, as_=buyer)
    theirs = await harness.gql(ENTITIES, reps, as_=customer())

    assert mine["data"]["_entities"][0]["status"] == "SUCCEEDED"
    assert theirs == {"data": {"_entities": [None]}}


async def test_requests_without_the_gateway_secret_are_refused(harness: Harness) -> None:
    response = await harness.client.post("/graphql", json={"query": "{ __typename }"})

    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
