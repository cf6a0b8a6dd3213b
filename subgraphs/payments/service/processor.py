"""Which card processor the service talks to (``PAYMENTS_PROCESSOR=simulated|http``)."""

from __future__ import annotations

import httpx

from shopkit.processor import HttpProcessor, PaymentProcessor, SimulatedProcessor
from subgraphs.payments.settings import PaymentsSettings


def build_processor(settings: PaymentsSettings, http: httpx.AsyncClient) -> PaymentProcessor:
    if settings.processor == "http":
        return HttpProcessor(
            settings.processor_url,
            settings.processor_api_key,
            http,
            timeout=settings.processor_timeout_seconds,
        )
    return SimulatedProcessor()
