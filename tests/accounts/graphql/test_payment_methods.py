"""Saved cards: validated, tokenized by the processor, stored as token + brand + last4 +
expiry only; the card number reaches neither the database nor the logs."""

from __future__ import annotations

import json

import pytest

from shopkit.processor import Card, CardToken, ProcessorError
from subgraphs.accounts.settings import AccountsSettings
from tests.accounts.conftest import ADD, CARD, ME, Service, running
from tests.support.answers import error_codes

REMOVE = "mutation($id: ID!) { removePaymentMethod(id: $id) { id paymentMethods { id } } }"


async def test_a_card_is_stored_as_token_brand_last4_only_nowhere_in_the_database_or_logs(
    settings: AccountsSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running(settings.model_copy(update={"log_level": "DEBUG"})) as service:
        user = await service.register()
        capsys.readouterr()
        body = await service.gql(
            ADD, {"input": {**CARD, "number": "4242 4242 4242 4242"}}, token=user["token"]
        )
        logs = capsys.readouterr().out
        dump = await service.dump()
    method = body["data"]["addPaymentMethod"]
    assert (method["brand"], method["last4"], method["expMonth"], method["expYear"]) == (
        "visa",
        "4242",
        12,
        2040,
    )
    assert "tok_sim_ok_" in dump
    assert "visa" in dump
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any(entry["message"] == "payment method saved" for entry in lines), logs
    for text in (dump, logs):
        assert "4242424242424242" not in text
        assert "4242 4242 4242 4242" not in text


async def test_saved_cards_are_listed_on_the_account(service: Service) -> None:
    user = await service.register()
    first = (await service.gql(ADD, {"input": CARD}, token=user["token"]))["data"]
    mastercard = {**CARD, "number": "5555555555554444"}
    second = (await service.gql(ADD, {"input": mastercard}, token=user["token"]))["data"]
    me = (await service.gql(ME, token=user["token"]))["data"]["me"]
    assert [m["id"] for m in me["paymentMethods"]] == [
        first["addPaymentMethod"]["id"],
        second["addPaymentMethod"]["id"],
    ]
    assert [m["brand"] for m in me["paymentMethods"]] == ["visa", "mastercard"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"number": "4242424242424241"}, "number"),
        ({"number": "4242"}, "number"),
        ({"number": "4242-4242-4242-424x"}, "number"),
        ({"number": "'; DROP TABLE payment_methods; --"}, "number"),
        ({"expMonth": 13}, "expMonth"),
        ({"expMonth": 0}, "expMonth"),
        ({"expYear": 2020}, "expYear"),
        ({"cvc": "12"}, "cvc"),
        ({"cvc": "12a"}, "cvc"),
    ],
)
async def test_an_invalid_card_is_refused_and_nothing_is_stored(
    service: Service, change: dict, field: str
) -> None:
    user = await service.register()
    body = await service.gql(ADD, {"input": {**CARD, **change}}, token=user["token"])
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == field
    assert await service.sql("SELECT COUNT(*) FROM payment_methods") == [(0,)]


async def test_adding_a_card_requires_a_token(service: Service) -> None:
    body = await service.gql(ADD, {"input": CARD})
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert await service.sql("SELECT COUNT(*) FROM payment_methods") == [(0,)]


class DownProcessor:
    async def tokenize(self, card: Card) -> CardToken:
        raise ProcessorError("connection refused")


async def test_an_unreachable_processor_is_reported_and_nothing_is_stored(
    settings: AccountsSettings,
) -> None:
    async with running(settings, processor=DownProcessor()) as service:
        user = await service.register()
        body = await service.gql(ADD, {"input": CARD}, token=user["token"])
        assert error_codes(body) == ["SERVICE_UNAVAILABLE"]
        assert await service.sql("SELECT COUNT(*) FROM payment_methods") == [(0,)]


async def test_removing_your_own_card(service: Service) -> None:
    user = await service.register()
    added = (await service.gql(ADD, {"input": CARD}, token=user["token"]))["data"]
    body = await service.gql(REMOVE, {"id": added["addPaymentMethod"]["id"]}, token=user["token"])
    assert body["data"]["removePaymentMethod"] == {"id": user["id"], "paymentMethods": []}
    assert await service.sql("SELECT COUNT(*) FROM payment_methods") == [(0,)]


async def test_removing_someone_elses_card_is_refused_and_keeps_it(service: Service) -> None:
    owner, thief = await service.register(), await service.register()
    added = (await service.gql(ADD, {"input": CARD}, token=owner["token"]))["data"]
    method_id = added["addPaymentMethod"]["id"]
    body = await service.gql(REMOVE, {"id": method_id}, token=thief["token"])
    assert body["data"] is None
    assert error_codes(body) == ["NOT_FOUND"]
    me = (await service.gql(ME, token=owner["token"]))["data"]["me"]
    assert [m["id"] for m in me["paymentMethods"]] == [method_id]
