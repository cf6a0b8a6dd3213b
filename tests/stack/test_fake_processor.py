"""The out-of-process fake card processor, driven through the HTTP adapter the services use
(in process, over an ASGI transport): the test cards, idempotency by key, the lookup by key,
refunds within the charge, and books that survive a restart without holding a card number."""

from __future__ import annotations

import json
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from shopkit.processor import Card, HttpProcessor, ProcessorError, ProcessorRefused
from stack.fake_processor import create_app

API_KEY = "sk_test_fake"
GOOD = Card(number="4242424242424242", exp_month=12, exp_year=2040, cvc="987")
DECLINED = Card(number="4000000000000002", exp_month=12, exp_year=2040, cvc="987")
NO_FUNDS = Card(number="4000000000009995", exp_month=12, exp_year=2040, cvc="987")

Connect = Callable[..., HttpProcessor]


@pytest.fixture
async def connect(tmp_path: Path) -> AsyncIterator[Connect]:
    """``connect()`` starts the processor on ``tmp_path``'s ledger (again: a restart) and
    returns the adapter pointed at it."""
    clients: list[httpx.AsyncClient] = []

    def make(api_key: str = API_KEY) -> HttpProcessor:
        app = create_app(tmp_path / "processor" / "ledger.jsonl", API_KEY)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
        clients.append(client)
        return HttpProcessor("http://processor", api_key, client, attempts=1)

    yield make
    for client in clients:
        await client.aclose()


async def test_test_cards_succeed_or_decline_and_are_found_by_key(connect: Connect) -> None:
    processor = connect()
    outcomes = {}
    for card in (GOOD, DECLINED, NO_FUNDS):
        token = await processor.tokenize(card)
        charge = await processor.charge(
            source=token.token, amount=500, currency="EUR", idempotency_key=f"k-{card.number}"
        )
        found = await processor.find_charge(f"k-{card.number}")
        assert found is not None
        assert found.status == charge.status
        outcomes[card.number] = (charge.status, charge.failure_code, found.failure_code)

    assert outcomes == {
        GOOD.number: ("succeeded", None, None),
        DECLINED.number: ("failed", "card_declined", "card_declined"),
        NO_FUNDS.number: ("failed", "insufficient_funds", "insufficient_funds"),
    }
    assert await processor.find_charge("never-sent") is None


async def test_a_key_charges_once_and_refuses_other_parameters(connect: Connect) -> None:
    processor = connect()
    token = await processor.tokenize(GOOD)

    first = await processor.charge(
        source=token.token, amount=700, currency="EUR", idempotency_key="k"
    )
    again = await processor.charge(
        source=token.token, amount=700, currency="EUR", idempotency_key="k"
    )
    with pytest.raises(ProcessorRefused):
        await processor.charge(source=token.token, amount=701, currency="EUR", idempotency_key="k")

    assert first == again
    listed = (
        await processor.http.get(
            "http://processor/v1/charges", headers={"Authorization": f"Bearer {API_KEY}"}
        )
    ).json()
    assert [(c["id"], c["amount"], c["idempotency_key"]) for c in listed["data"]] == [
        (first.charge_id, 700, "k")
    ]  # fmt: skip


async def test_refunds_stay_within_the_charge_and_are_found_by_key(connect: Connect) -> None:
    processor = connect()
    token = await processor.tokenize(GOOD)
    charge = await processor.charge(source=token.token, amount=1000, currency="EUR",
                                    idempotency_key="c")  # fmt: skip
    assert charge.charge_id is not None

    a = await processor.refund(charge_id=charge.charge_id, amount=600, idempotency_key="r1")
    with pytest.raises(ProcessorRefused):
        await processor.refund(charge_id=charge.charge_id, amount=401, idempotency_key="r2")
    b = await processor.refund(charge_id=charge.charge_id, amount=400, idempotency_key="r3")

    assert await processor.find_refund("r1") == a
    assert await processor.find_refund("r2") is None  # refused: nothing was made
    assert await processor.find_refund("r3") == b
    with pytest.raises(ProcessorRefused):
        await processor.refund(charge_id="ch_unknown", amount=1, idempotency_key="r4")


async def test_books_survive_a_restart_owner_only_and_without_card_numbers(
    connect: Connect, tmp_path: Path
) -> None:
    processor = connect()
    token = await processor.tokenize(GOOD)
    charge = await processor.charge(source=token.token, amount=300, currency="EUR",
                                    idempotency_key="c")  # fmt: skip

    restarted = connect()

    assert await restarted.find_charge("c") == charge
    again = await restarted.charge(source=token.token, amount=300, currency="EUR",
                                   idempotency_key="c")  # fmt: skip
    assert again == charge  # the stored answer, not a second charge
    ledger = tmp_path / "processor" / "ledger.jsonl"
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o600
    assert stat.S_IMODE(ledger.parent.stat().st_mode) == 0o700
    text = ledger.read_text()
    values = [v for line in text.splitlines() for v in _values(json.loads(line))]
    assert GOOD.number not in text
    assert "cvc" not in text
    assert GOOD.cvc not in values
    assert int(GOOD.cvc) not in values
    assert "4242" in values  # the last four digits are kept


def _values(node: object) -> list[object]:
    if isinstance(node, dict):
        return [v for value in node.values() for v in _values(value)]
    if isinstance(node, list):
        return [v for value in node for v in _values(value)]
    return [node]


async def test_a_wrong_api_key_is_refused(connect: Connect) -> None:
    processor = connect("sk_wrong")

    with pytest.raises(ProcessorRefused):
        await processor.tokenize(GOOD)
    with pytest.raises(ProcessorError):
        await processor.find_charge("k")
