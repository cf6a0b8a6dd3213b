"""The Stripe-like HTTP processor adapter against a respx-answered API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from shopkit.errors import InvalidInput
from shopkit.processor import Card, HttpProcessor, ProcessorError, ProcessorRefused
from tests.support.http import http_client

BASE = "https://processor.test"
CARD = Card(number="4242424242424242", exp_month=12, exp_year=2040, cvc="123")


@pytest.fixture
async def processor() -> AsyncIterator[HttpProcessor]:
    async with http_client() as http:
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


@respx.mock
async def test_find_charge_asks_by_idempotency_key(processor: HttpProcessor) -> None:
    route = respx.get(f"{BASE}/v1/charges").respond(
        200,
        json={"object": "list", "has_more": False, "data": [
            {"id": "ch_7", "status": "succeeded", "amount": 500, "idempotency_key": "charge:p1"}]},
    )  # fmt: skip

    found = await processor.find_charge("charge:p1")

    assert found is not None
    assert (found.status, found.charge_id) == ("succeeded", "ch_7")
    request = route.calls.last.request
    assert request.url.params["idempotency_key"] == "charge:p1"
    assert request.headers["Authorization"] == "Bearer sk_test_123"


@respx.mock
async def test_find_charge_reports_a_declined_charge_and_a_missing_one(
    processor: HttpProcessor,
) -> None:
    declined = {"id": "ch_8", "status": "failed", "failure_code": "insufficient_funds",
                "failure_message": "No funds.", "idempotency_key": "k"}  # fmt: skip
    respx.get(f"{BASE}/v1/charges").mock(
        side_effect=[
            httpx.Response(200, json={"object": "list", "data": [declined]}),
            httpx.Response(200, json={"object": "list", "data": []}),
        ]
    )

    found = await processor.find_charge("k")
    missing = await processor.find_charge("k")

    assert found is not None
    assert (found.status, found.failure_code) == ("failed", "insufficient_funds")
    assert missing is None


@respx.mock
async def test_find_charge_is_retried_and_an_unreadable_answer_is_a_processor_error(
    processor: HttpProcessor,
) -> None:
    route = respx.get(f"{BASE}/v1/charges").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.Response(200, json={"object": "list", "data": [
                {"id": "ch_9", "status": "succeeded", "idempotency_key": "another"}]}),
        ]
    )  # fmt: skip

    with pytest.raises(ProcessorError):
        await processor.find_charge("k")  # an answer about another key is not an answer

    assert route.call_count == 2


@respx.mock
async def test_find_refund_asks_by_idempotency_key(processor: HttpProcessor) -> None:
    route = respx.get(f"{BASE}/v1/refunds").respond(
        200,
        json={"object": "list", "data": [
            {"id": "re_3", "amount": 400, "charge": "ch_1", "idempotency_key": "refund:r"}]},
    )  # fmt: skip

    found = await processor.find_refund("refund:r")

    assert found is not None
    assert (found.refund_id, found.amount) == ("re_3", 400)
    assert route.calls.last.request.url.params["idempotency_key"] == "refund:r"


@respx.mock
async def test_a_refund_the_processor_refuses_is_a_refusal_not_an_unknown_outcome(
    processor: HttpProcessor,
) -> None:
    route = respx.post(f"{BASE}/v1/refunds").respond(
        400, json={"error": {"type": "invalid_request_error", "code": "amount_too_large"}}
    )

    with pytest.raises(ProcessorRefused):
        await processor.refund(charge_id="ch_1", amount=300, idempotency_key="k")

    assert route.call_count == 1
