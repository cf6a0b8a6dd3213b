"""Saved payment methods: a card is validated and tokenized by the card processor, and only
its token, brand, last four digits and expiry are kept; the payments service reads a saved
card's processor token."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from shopkit.auth import Identity, require_service
from shopkit.errors import Conflict, NotFound, Unauthenticated, Unavailable
from shopkit.processor import PaymentProcessor, ProcessorError, validate_card
from subgraphs.accounts.domain import events
from subgraphs.accounts.domain.model import Account, PaymentMethod
from subgraphs.accounts.service.accounts import Accounts

log = logging.getLogger(__name__)

MAX_PAYMENT_METHODS = 20


@dataclass(eq=False)
class PaymentMethods:
    accounts: Accounts
    processor: PaymentProcessor

    async def add(
        self, identity: Identity, *, number: str, exp_month: int, exp_year: int, cvc: str
    ) -> PaymentMethod:
        accounts = self.accounts
        account = await accounts.caller(identity)
        card = validate_card(number, exp_month, exp_year, cvc, today=accounts.clock().date())
        if len(account.payment_methods) >= MAX_PAYMENT_METHODS:
            raise Conflict(f"An account may save at most {MAX_PAYMENT_METHODS} payment methods.")
        try:
            token = await self.processor.tokenize(card)
        except ProcessorError as error:
            raise Unavailable("The card processor did not answer; try again.") from error
        now = accounts.clock()
        method = PaymentMethod(
            id=str(uuid.uuid4()),
            token=token.token,
            brand=token.brand,
            last4=token.last4,
            exp_month=token.exp_month,
            exp_year=token.exp_year,
            created_at=now,
        )
        touched = account.changed(updated_at=now)
        event = accounts.event(events.AccountUpdated(touched, ["paymentMethods"]))
        if not await accounts.store.add_payment_method(account.id, method, event):
            raise Unauthenticated("The account of this access token no longer exists.")
        accounts.notify()
        log.info(
            "payment method saved",
            extra={"account_id": account.id, "payment_method_id": method.id, "brand": method.brand},
        )
        return method

    async def remove(self, identity: Identity, method_id: str) -> Account:
        accounts = self.accounts
        account = await accounts.caller(identity)
        now = accounts.clock()
        event = accounts.event(
            events.AccountUpdated(account.changed(updated_at=now), ["paymentMethods"])
        )
        if not await accounts.store.remove_payment_method(account.id, method_id, now, event):
            raise NotFound("You have no payment method with this id.", field="id")
        accounts.notify()
        log.info(
            "payment method removed",
            extra={"account_id": account.id, "payment_method_id": method_id},
        )
        return await accounts.caller(identity)

    async def source(
        self, identity: Identity, account_id: str, method_id: str
    ) -> PaymentMethod | None:
        """For the payments service only: the processor token of a saved card."""
        require_service(identity)
        return await self.accounts.store.payment_method(account_id, method_id)
