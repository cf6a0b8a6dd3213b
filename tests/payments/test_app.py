"""Settings from the environment, and the HTTP processor wired in when configured."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from subgraphs.payments.settings import PaymentsSettings
from tests.payments.conftest import customer, payments_settings, running
from tests.support.http import http_client


def test_settings_read_payments_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENTS_DATABASE_URL", "mysql+aiomysql://u:p@db:3306/payments")
    monkeypatch.setenv("PAYMENTS_PROCESSOR", "http")
    monkeypatch.setenv("PAYMENTS_PROCESSOR_URL", "https://processor.example")
    monkeypatch.setenv("PAYMENTS_PROCESSOR_API_KEY", "sk_live_x")
    monkeypatch.setenv("PAYMENTS_IDEMPOTENCY_TTL_HOURS", "48")

    settings = PaymentsSettings()

    assert settings.service_name == "payments"
    assert settings.database_url == "mysql+aiomysql://u:p@db:3306/payments"
    assert (settings.processor, settings.processor_url) == ("http", "https://processor.example")
    assert settings.idempotency_ttl_hours == 48


def test_http_processor_without_an_api_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENTS_PROCESSOR", "http")

    with pytest.raises(ValidationError, match="PAYMENTS_PROCESSOR_API_KEY"):
        PaymentsSettings()


def test_keys_kept_less_than_a_day_are_refused() -> None:
    with pytest.raises(ValidationError, match="at least 24"):
        PaymentsSettings(idempotency_ttl_hours=1)


async def test_configured_http_processor_tokenizes_and_charges(tmp_path: Path) -> None:
    settings = payments_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'p.db'}",
        tmp_path,
        processor="http",
        processor_url="https://processor.test",
        processor_api_key="sk_test_1",
    )
    async with running(settings, configured_processor=True) as harness:
        harness.http_mock.post("https://processor.test/v1/tokens").respond(
            200,
            json={"id": "tok_1", "card": {"brand": "visa", "last4": "4242",
                                          "exp_month": 12, "exp_year": 2040}},
        )  # fmt: skip
        charges = harness.http_mock.post("https://processor.test/v1/charges").respond(
            200, json={"id": "ch_1", "status": "succeeded"}
        )
        buyer = customer()
        order_id = harness.services.add_order(buyer, amount=777)

        answer = await harness.submit(buyer, order_id, "k")

        assert answer["data"]["submitPayment"]["status"] == "SUCCEEDED"
        request: httpx.Request = charges.calls.last.request
        assert request.headers["Idempotency-Key"].startswith("charge:")
        assert b"amount=777" in request.content


async def test_payments_and_accounts_build_their_processor_from_one_shared_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shopkit.processor import HttpProcessor, build_processor
    from subgraphs.accounts.settings import AccountsSettings

    monkeypatch.setenv("SHOP_PROCESSOR", "http")
    monkeypatch.setenv("SHOP_PROCESSOR_URL", "https://processor.example")
    monkeypatch.setenv("SHOP_PROCESSOR_API_KEY", "sk_test_shared")
    async with http_client() as http:
        built = [build_processor(s, http) for s in (PaymentsSettings(), AccountsSettings())]

    assert all(isinstance(p, HttpProcessor) for p in built)
    assert {(p.base_url, p.api_key) for p in built if isinstance(p, HttpProcessor)} == {
        ("https://processor.example", "sk_test_shared")
    }


def test_a_grace_shorter_than_a_processor_call_is_refused() -> None:
    with pytest.raises(ValidationError, match="GRACE_SECONDS"):
        PaymentsSettings(processor_timeout_seconds=10, unknown_outcome_grace_seconds=30)
