"""Mutations: registration, login, profile updates and saved payment methods."""

from __future__ import annotations

from typing import Any

import strawberry

from shopkit.graphql import refuse_null
from subgraphs.accounts.graphql.context import AccountsContext
from subgraphs.accounts.graphql.types import (
    Account,
    AddPaymentMethodInput,
    AuthPayload,
    PaymentMethod,
    RegisterInput,
    RegisterPayload,
    UpdateAccountInput,
)
from subgraphs.accounts.service.auth import AuthResult
from subgraphs.accounts.service.profile import UNCHANGED

Info = strawberry.Info[AccountsContext]


def _payload(result: AuthResult) -> AuthPayload:
    return AuthPayload(
        token=result.token, expires_at=result.expires_at, account=Account.of(result.account)
    )


def _given(value: Any, convert: Any = None) -> Any:
    """UNSET (omitted) -> UNCHANGED; otherwise the value, converted when not null."""
    if value is strawberry.UNSET:
        return UNCHANGED
    return convert(value) if convert is not None and value is not None else value


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Creates a customer account; log in with it next. The answer is the same "
        "whether or not the email already had an account (then nothing changes and its owner "
        "is notified), so that it tells a stranger nothing about who has an account."
    )
    async def register(self, info: Info, input: RegisterInput) -> RegisterPayload:
        message = await info.context.auth.register(
            email=input.email,
            name=input.name,
            password=input.password,
            shipping_address=input.shipping_address.raw() if input.shipping_address else None,
            billing_address=input.billing_address.raw() if input.billing_address else None,
        )
        return RegisterPayload(message=message)

    @strawberry.mutation(description="Exchanges an email and password for an access token.")
    async def login(self, info: Info, email: str, password: str) -> AuthPayload:
        result = await info.context.auth.login(
            email=email, password=password, client=info.context.client
        )
        return _payload(result)

    @strawberry.mutation
    async def update_account(self, info: Info, input: UpdateAccountInput) -> Account:
        refuse_null(input, "name", "email", "password")
        account = await info.context.profiles.update_account(
            info.context.identity,
            name=_given(input.name),
            email=_given(input.email),
            shipping_address=_given(input.shipping_address, lambda a: a.raw()),
            billing_address=_given(input.billing_address, lambda a: a.raw()),
            password=_given(input.password),
            current_password=input.current_password or None,
            client=info.context.client,
        )
        return Account.of(account)

    @strawberry.mutation(
        description="Validates and tokenizes a card; only its token, brand, last4 and expiry "
        "are kept.",
    )
    async def add_payment_method(self, info: Info, input: AddPaymentMethodInput) -> PaymentMethod:
        method = await info.context.payment_methods.add(
            info.context.identity,
            number=input.number,
            exp_month=input.exp_month,
            exp_year=input.exp_year,
            cvc=input.cvc,
        )
        return PaymentMethod.of(method)

    @strawberry.mutation
    async def remove_payment_method(self, info: Info, id: strawberry.ID) -> Account:
        account = await info.context.payment_methods.remove(info.context.identity, str(id))
        return Account.of(account)
