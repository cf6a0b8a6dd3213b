"""Who may read which account: itself, an admin, a service; nobody else gets any data."""

from __future__ import annotations

import uuid

from tests.accounts.conftest import Service
from tests.support.answers import error_codes

ACCOUNT = "query($id: ID!) { account(id: $id) { id email name } }"
ENTITIES = """
query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Account { id email } } }"""
SOURCE = """
query($a: ID!, $p: ID!) { paymentMethodSource(accountId: $a, paymentMethodId: $p) {
  token brand last4 expMonth expYear } }"""


async def make_admin(service: Service) -> dict[str, str]:
    admin = await service.register()
    await service.sql("UPDATE accounts SET role = 'ADMIN' WHERE id = :id", id=admin["id"])
    return admin


async def test_an_account_reads_itself(service: Service) -> None:
    user = await service.register()
    body = await service.gql(ACCOUNT, {"id": user["id"]}, token=user["token"])
    assert body["data"]["account"]["email"] == user["email"]


async def test_another_account_reads_as_null_like_a_missing_one(
    service: Service,
) -> None:
    alice, bob = await service.register(), await service.register()
    response = await service.post(ACCOUNT, {"id": bob["id"]}, token=alice["token"])
    body = response.json()
    assert body == {"data": {"account": None}}
    missing = await service.gql(ACCOUNT, {"id": str(uuid.uuid4())}, token=alice["token"])
    assert missing == body
    assert bob["email"] not in response.text


async def test_a_customer_token_claiming_admin_does_not_make_an_admin(service: Service) -> None:
    alice, bob = await service.register(), await service.register()
    token, _ = service.app.state.tokens.issue(alice["id"], "ADMIN")
    body = await service.gql(ACCOUNT, {"id": bob["id"]}, token=token)
    assert body == {"data": {"account": None}}


async def test_an_admin_reads_any_account(service: Service) -> None:
    admin, bob = await make_admin(service), await service.register()
    body = await service.gql(ACCOUNT, {"id": bob["id"]}, token=admin["token"])
    assert body["data"]["account"]["email"] == bob["email"]


async def test_anonymous_callers_read_an_account_as_null(service: Service) -> None:
    bob = await service.register()
    body = await service.gql(ACCOUNT, {"id": bob["id"]})
    assert body == {"data": {"account": None}}


async def test_entity_references_resolve_only_for_self_admin_or_service(service: Service) -> None:
    alice, bob = await service.register(), await service.register()
    reps = [
        {"__typename": "Account", "id": alice["id"]},
        {"__typename": "Account", "id": bob["id"]},
    ]

    as_alice = await service.gql(ENTITIES, {"reps": reps}, token=alice["token"])
    assert as_alice == {"data": {"_entities": [{"id": alice["id"], "email": alice["email"]}, None]}}
    alone = await service.gql(ENTITIES, {"reps": reps[:1]}, token=alice["token"])
    assert alone == {"data": {"_entities": [{"id": alice["id"], "email": alice["email"]}]}}
    bob_alone = await service.gql(ENTITIES, {"reps": reps[1:]}, token=alice["token"])
    assert bob_alone == {"data": {"_entities": [None]}}

    anonymous = await service.gql(ENTITIES, {"reps": reps})
    assert anonymous == {"data": {"_entities": [None, None]}}

    as_service = await service.gql(ENTITIES, {"reps": reps}, service="orders")
    assert [e["email"] for e in as_service["data"]["_entities"]] == [alice["email"], bob["email"]]

    admin = await make_admin(service)
    as_admin = await service.gql(ENTITIES, {"reps": reps}, token=admin["token"])
    assert [e["id"] for e in as_admin["data"]["_entities"]] == [alice["id"], bob["id"]]


async def test_a_token_of_an_account_that_is_gone_reads_itself_as_null(service: Service) -> None:
    gone = str(uuid.uuid4())
    token, _ = service.app.state.tokens.issue(gone, "CUSTOMER")
    reps = [{"__typename": "Account", "id": gone}]
    body = await service.gql(ENTITIES, {"reps": reps}, token=token)
    assert body == {"data": {"_entities": [None]}}


async def test_requests_without_the_gateway_secret_are_refused(service: Service) -> None:
    response = await service.http.post("/graphql", json={"query": "{ me { id } }"})
    assert response.status_code == 403


async def test_payment_method_source_is_only_for_services(service: Service) -> None:
    user = await service.register()
    added = await service.gql(
        """mutation { addPaymentMethod(input: {number: "4242424242424242", expMonth: 12,
        expYear: 2099, cvc: "123"}) { id } }""".replace("2099", "2040"),
        token=user["token"],
    )
    method_id = added["data"]["addPaymentMethod"]["id"]
    variables = {"a": user["id"], "p": method_id}

    as_owner = await service.gql(SOURCE, variables, token=user["token"])
    assert as_owner["data"] == {"paymentMethodSource": None}
    assert error_codes(as_owner) == ["FORBIDDEN"]

    as_payments = await service.gql(SOURCE, variables, service="payments")
    source = as_payments["data"]["paymentMethodSource"]
    assert source["token"].startswith("tok_sim_ok_")
    assert (source["brand"], source["last4"], source["expMonth"], source["expYear"]) == (
        "visa",
        "4242",
        12,
        2040,
    )

    other = await service.register()
    wrong_owner = await service.gql(SOURCE, {"a": other["id"], "p": method_id}, service="payments")
    assert wrong_owner == {"data": {"paymentMethodSource": None}}
