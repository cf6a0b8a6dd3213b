from datetime import date

import pytest

from shopkit.errors import InvalidInput
from shopkit.processor import (
    ProcessorRefused,
    SimulatedProcessor,
    card_brand,
    luhn_valid,
    validate_card,
)


def test_luhn_accepts_test_cards_and_refuses_a_changed_digit():
    assert luhn_valid("4242424242424242")
    assert not luhn_valid("4242424242424241")
    assert not luhn_valid("42424242abcd4242")


@pytest.mark.parametrize(
    ("number", "month", "year", "cvc", "field"),
    [
        ("4242424242424241", 12, 2030, "123", "number"),
        ("4242424242424242", 13, 2030, "123", "expMonth"),
        ("4242424242424242", 1, 2020, "123", "expYear"),
        ("4242424242424242", 12, 2030, "12a", "cvc"),
    ],
)
def test_validate_card_names_the_bad_field(number, month, year, cvc, field):
    with pytest.raises(InvalidInput) as info:
        validate_card(number, month, year, cvc, today=date(2026, 11, 25))
    assert info.value.extensions["field"] == field


def test_card_repr_never_shows_the_number():
    card = validate_card("4242424242424242", 12, 2030, "123")
    assert "4242424242424242" not in repr(card)
    assert "4242424242424242" not in str(card)
    assert card_brand(card.number) == "visa"


@pytest.mark.parametrize(
    ("number", "status", "code"),
    [
        ("4242424242424242", "succeeded", None),
        ("4000000000000002", "failed", "card_declined"),
        ("4000000000009995", "failed", "insufficient_funds"),
    ],
)
async def test_simulated_processor_follows_the_test_cards(number, status, code):
    processor = SimulatedProcessor()
    token = await processor.tokenize(validate_card(number, 12, 2030, "123"))
    assert number not in token.token
    result = await processor.charge(
        source=token.token, amount=100, currency="USD", idempotency_key="k"
    )
    again = await processor.charge(
        source=token.token, amount=100, currency="USD", idempotency_key="k"
    )
    assert (result.status, result.failure_code) == (status, code)
    assert again == result
    assert processor.charge_calls == 1


async def test_simulated_processor_finds_charges_and_refunds_by_key_and_refuses_over_refunds():
    processor = SimulatedProcessor()
    token = await processor.tokenize(validate_card("4242424242424242", 12, 2030, "123"))
    charge = await processor.charge(source=token.token, amount=100, currency="USD",
                                    idempotency_key="c")  # fmt: skip
    assert charge.charge_id is not None
    refund = await processor.refund(charge_id=charge.charge_id, amount=60, idempotency_key="r")

    assert await processor.find_charge("c") == charge
    assert await processor.find_refund("r") == refund
    assert await processor.find_charge("never") is None
    with pytest.raises(ProcessorRefused):
        await processor.refund(charge_id=charge.charge_id, amount=41, idempotency_key="r2")
    assert await processor.find_refund("r2") is None
