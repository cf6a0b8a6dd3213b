"""account.created / account.updated / account.registration_attempted: written to the outbox in the change's transaction,
valid against their JSON Schemas, free of secrets, and relayed to Kafka."""

from __future__ import annotations

import asyncio

from shopkit.events import CloudEvent
from shopkit.events.schemas import producer_schemas
from subgraphs.accounts.settings import AccountsSettings
from tests.accounts.conftest import ADD, CARD, PASSWORD, UPDATE, Service, running
from tests.support.answers import error_codes
from tests.support.kafka import read_events

SCHEMAS = producer_schemas("accounts")


async def outbox(service: Service) -> list[CloudEvent]:
    rows = await service.sql("SELECT payload FROM outbox ORDER BY seq")
    return [CloudEvent.from_json(payload) for (payload,) in rows]


def test_a_schema_exists_for_each_produced_type() -> None:
    assert SCHEMAS.types == [
        "account.created",
        "account.registration_attempted",
        "account.updated",
    ]


async def test_each_change_writes_one_valid_event_without_secrets(service: Service) -> None:
    user = await service.register()
    await service.gql(UPDATE, {"input": {"name": "Renamed"}}, token=user["token"])
    new_password = "another fine passphrase"
    await service.gql(
        UPDATE,
        {"input": {"password": new_password, "currentPassword": PASSWORD}},
        token=user["token"],
    )
    await service.gql(ADD, {"input": CARD}, token=user["token"])

    events = await outbox(service)
    assert [e.type for e in events] == ["account.created"] + ["account.updated"] * 3
    assert [e.data.get("changed") for e in events[1:]] == [
        ["name"],
        ["password"],
        ["paymentMethods"],
    ]
    [(password_hash,)] = await service.sql("SELECT password_hash FROM accounts")
    [(card_token,)] = await service.sql("SELECT token FROM payment_methods")
    for event in events:
        SCHEMAS.validate(event)
        assert event.subject == user["id"]
        assert event.data["accountId"] == user["id"]
        text = event.to_json()
        for secret in (PASSWORD, new_password, password_hash, card_token, "$argon2"):
            assert secret not in text


async def test_a_refused_change_writes_no_event(service: Service) -> None:
    user = await service.register()
    body = await service.gql(UPDATE, {"input": {"name": "x" * 101}}, token=user["token"])
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert [e.type for e in await outbox(service)] == ["account.created"]


async def test_the_relay_publishes_account_created_to_kafka(
    settings: AccountsSettings, kafka_bootstrap: str
) -> None:
    live = settings.model_copy(
        update={
            "events_enabled": True,
            "kafka_bootstrap": kafka_bootstrap,
            "outbox_poll_seconds": 0.2,
        }
    )
    async with running(live) as service:
        user = await service.register()
        found = await read_events(kafka_bootstrap, "shop.account", user["id"], 1)
        assert [e["type"] for e in found] == ["account.created"]
        SCHEMAS.validate(found[0])
        for _ in range(50):
            if await service.sql("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL") == [
                (0,)
            ]:
                break
            await asyncio.sleep(0.1)
        assert await service.sql("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL") == [(0,)]
