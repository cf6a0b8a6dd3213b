"""The Stripe-like HTTP processor adapter against a respx-answered API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from shopkit.errors import InvalidInput
from shopkit.processor import Card, HttpProcessor, ProcessorError

BASE = "https://processor.test"
CARD = Card(number="4242424242424242", exp_month=12, exp_year=2040, cvc="123")


@pytest.fixture
async def processor() -> AsyncIterator[HttpProcessor]:
    async with httpx.AsyncClient() as http:
        yield HttpProcessor(BASE, "sk_test_123", http, timeout=0.5, backoff=0.01)


def _form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


@respx.mock
async def test_successful_charge_sends_key_auth_and_form(processor: HttpProcessor) -> None:
    route = respx.post(f"{BASE}/v1/charges").respond(
        200, json={"id": "ch_1", "status": "succeeded", "amount": 500}
    )

    result = await processor.charge(
        source="tok_1", amount=500, currency="EUR", idempotency_key="charge:p1"
    )

    assert (result.status, result.charge_id) == ("succeeded", "ch_1")
    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == "charge:p1"
    assert request.headers["Authorization"] == "Bearer sk_test_123"
    assert _form(request) == {"amount": "500", "currency": "eur", "source": "tok_1"}


@respx.mock
async def test_card_error_is_a_failed_charge_not_an_exception(processor: HttpProcessor) -> None:
    respx.post(f"{BASE}/v1/charges").respond(
        402,
        json={"error": {"type": "card_error", "code": "card_declined",
                        "decline_code": "insufficient_funds", "message": "No funds."}},
    )  # fmt: skip

    result = await processor.charge(source="t", amount=1, currency="eur", idempotency_key="k")

    assert result.status == "failed"
    assert (result.failure_code, result.failure_message) == ("insufficient_funds", "No funds.")


@respx.mock
async def test_timeout_is_retried_with_the_same_idempotency_key(processor: HttpProcessor) -> None:
    route = respx.post(f"{BASE}/v1/charges").mock(
        side_effect=[
            httpx.ReadTimeout("slow"),
            httpx.ConnectError("refused"),
            httpx.Response(200, json={"id": "ch_2", "status": "succeeded"}),
        ]
    )

    result = await processor.charge(source="t", amount=1, currency="eur", idempotency_key="same")

    assert result.charge_id == "ch_2"
    assert route.call_count == 3
    assert {c.request.headers["Idempotency-Key"] for c in route.calls} == {"same"}


@respx.mock
async def test_server_errors_are_retried_a_bounded_number_of_times(
    processor: HttpProcessor,
) -> None:
    route = respx.post(f"{BASE}/v1/charges").respond(503, json={"error": {}})

    with pytest.raises(ProcessorError):
        await processor.charge(source="t", amount=1, currency="eur", idempotency_key="k")

    assert route.call_count == 3


@respx.mock
@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>oops</html>"),
        httpx.Response(200, json={"status": "succeeded"}),
        httpx.Response(200, json={"id": "ch", "status": "weird"}),
        httpx.Response(200, json=["not", "an", "object"]),
    ],
    ids=["not-json", "no-id", "unknown-status", "not-an-object"],
)
async def test_malformed_answer_is_a_processor_error(
    processor: HttpProcessor, response: httpx.Response
) -> None:
    route = respx.post(f"{BASE}/v1/charges").mock(return_value=response)

    with pytest.raises(ProcessorError):
        await processor.charge(source="t", amount=1, currency="eur", idempotency_key="k")

    assert route.call_count == 1  # an answer arrived: nothing to retry blindly


@respx.mock
async def test_client_error_is_not_retried(processor: HttpProcessor) -> None:
    route = respx.post(f"{BASE}/v1/charges").respond(400, json={"error": {"message": "bad"}})

    with pytest.raises(ProcessorError):
        await processor.charge(source="t", amount=1, currency="eur", idempotency_key="k")

    assert route.call_count == 1


@respx.mock
async def test_tokenize_returns_brand_and_last4_and_card_errors_are_bad_input(
    processor: HttpProcessor,
) -> None:
    respx.post(f"{BASE}/v1/tokens").mock(
        side_effect=[
            httpx.Response(200, json={"id": "tok_9", "card": {
                "brand": "Visa", "last4": "4242", "exp_month": 12, "exp_year": 2040}}),
            httpx.Response(402, json={"error": {"code": "incorrect_cvc", "message": "CVC."}}),
        ]
    )  # fmt: skip

    token = await processor.tokenize(CARD)
    with pytest.raises(InvalidInput) as refused:
        await processor.tokenize(CARD)

    assert (token.token, token.brand, token.last4) == ("tok_9", "visa", "4242")
    assert refused.value.details["declineCode"] == "incorrect_cvc"


@respx.mock
async def test_refund_posts_charge_and_amount_with_the_key(processor: HttpProcessor) -> None:
    route = respx.post(f"{BASE}/v1/refunds").respond(200, json={"id": "re_1", "amount": 300})

    result = await processor.refund(charge_id="ch_1", amount=300, idempotency_key="refund:r")

    assert (result.refund_id, result.amount) == ("re_1", 300)
    assert _form(route.calls.last.request) == {"charge": "ch_1", "amount": "300"}
    assert route.calls.last.request.headers["Idempotency-Key"] == "refund:r"


@respx.mock
async def test_refund_answered_with_another_amount_is_a_processor_error(
    processor: HttpProcessor,
) -> None:
    respx.post(f"{BASE}/v1/refunds").respond(200, json={"id": "re_1", "amount": 299})

    with pytest.raises(ProcessorError):
        await processor.refund(charge_id="ch_1", amount=300, idempotency_key="k")
