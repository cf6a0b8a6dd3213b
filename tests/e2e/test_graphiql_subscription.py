"""GraphiQL at the gateway (Hive Laboratory) in headless Chromium: subscribe to
``orderStatusChanged`` from the page, with the token in its Headers tab, pay with httpx, and
see PAID appear in the response pane (asserted on the page's text, no screenshot).
``make test-packages`` installs Debian's Chromium."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from tests.e2e.browser import chromium_page
from tests.e2e.test_user_flow import CARD_OK, admin_token, create_item, create_order, pay

pytestmark = pytest.mark.e2e

LAB = "document.querySelector('.hive-laboratory-host').shadowRoot"


def button(label: str) -> str:
    return (
        f"Array.from({LAB}.querySelectorAll('button'))"
        f".find(b => b.innerText.trim() === {json.dumps(label)})"
    )


def editor(name: str) -> str:
    """The Monaco model of the Laboratory's ``name`` editor (operation, headers)."""
    return f"monaco.editor.getModels().find(m => m.uri.toString().includes({json.dumps(name)}))"


async def test_a_subscription_in_graphiql_shows_paid(gateway):
    customer = await gateway.register(f"lab{uuid.uuid4().hex[:8]}@e2e.test")
    item = await create_item(gateway, await admin_token(gateway), stock=5)
    order_id = (await create_order(gateway, customer, item["id"], 1))["id"]
    subscription = f'subscription {{ orderStatusChanged(orderId: "{order_id}") {{ id status }} }}'
    headers = json.dumps({"Authorization": f"Bearer {customer}"})

    async with chromium_page() as page:
        await page.goto(gateway.url)
        for _ in range(120):
            if await page.evaluate(
                f"!!(document.querySelector('.hive-laboratory-host') && {button('Add operation')})"
            ):
                break
            await asyncio.sleep(0.5)
        await page.click(button("Add operation"))
        await page.click(button("Headers"))
        for _ in range(40):
            if await page.evaluate(f"!!({editor('operation')} && {editor('headers')})"):
                break
            await asyncio.sleep(0.25)
        await page.evaluate(f"{editor('operation')}.setValue({json.dumps(subscription)})")
        await page.evaluate(f"{editor('headers')}.setValue({json.dumps(headers)})")
        await page.click(button("Run"))

        def response_pane(text: str) -> str:
            """The page's text from the subscription's response on (not the editors)."""
            return text[text.index("Listening") :] if "Listening" in text else ""

        async def shown() -> str:
            return response_pane(str(await page.evaluate(f"{LAB}.querySelector('div').innerText")))

        for _ in range(120):
            if '"PENDING_PAYMENT"' in await shown():
                break
            await asyncio.sleep(0.25)
        assert '"PENDING_PAYMENT"' in await shown(), await shown()
        assert '"PAID"' not in await shown()

        answer = await pay(gateway, customer, order_id, CARD_OK)
        assert answer["data"]["submitPayment"]["status"] == "SUCCEEDED", answer
        for _ in range(40):
            if '"PAID"' in await shown():
                break
            await asyncio.sleep(0.25)
        text = await shown()
        assert '"PAID"' in text, text
        assert order_id in text, text
        assert "UNAUTHENTICATED" not in text
