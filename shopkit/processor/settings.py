"""The one processor setting of the services that talk to the card processor.

Accounts tokenizes saved cards and payments charges them: a token is only good at the
processor that made it, so both build their processor from the same ``SHOP_PROCESSOR*``
variables through ``build_processor``. (``PAYMENTS_PROCESSOR*``, the names of the days when
only payments read them, are still accepted.)
"""

from __future__ import annotations

from typing import Any, Literal

import httpx
from pydantic import AliasChoices, Field, model_validator

from shopkit.processor.http_processor import HttpProcessor
from shopkit.processor.interface import PaymentProcessor
from shopkit.processor.simulated import SimulatedProcessor
from shopkit.settings import ServiceSettings


def _processor_setting(name: str, default: Any) -> Any:
    return Field(default, validation_alias=AliasChoices(f"SHOP_{name}", f"PAYMENTS_{name}"))


class ProcessorSettings(ServiceSettings):
    """``SHOP_PROCESSOR=simulated`` (the in-process test mode, the default) or ``http`` (a
    Stripe-like API at ``SHOP_PROCESSOR_URL``, authenticated with ``SHOP_PROCESSOR_API_KEY``)."""

    processor: Literal["simulated", "http"] = _processor_setting("PROCESSOR", "simulated")
    processor_url: str = _processor_setting("PROCESSOR_URL", "https://api.stripe.com")
    processor_api_key: str = _processor_setting("PROCESSOR_API_KEY", "")
    processor_timeout_seconds: float = _processor_setting("PROCESSOR_TIMEOUT_SECONDS", 10.0)

    @model_validator(mode="after")
    def _http_processor_needs_a_key(self) -> ProcessorSettings:
        if self.processor == "http" and not self.processor_api_key:
            raise ValueError(
                "SHOP_PROCESSOR_API_KEY (formerly PAYMENTS_PROCESSOR_API_KEY) is required "
                "when SHOP_PROCESSOR=http"
            )
        return self


def build_processor(settings: ProcessorSettings, http: httpx.AsyncClient) -> PaymentProcessor:
    """The processor the settings name; ``http`` is the app's shared client."""
    if settings.processor == "http":
        return HttpProcessor(
            settings.processor_url,
            settings.processor_api_key,
            http,
            timeout=settings.processor_timeout_seconds,
        )
    return SimulatedProcessor()
