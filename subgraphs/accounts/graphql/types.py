"""GraphQL object and input types, converted from the domain's values. ``Address`` and
``AddressInput`` are the kit's (``shopkit.graphql_types``), the same as orders'."""

from __future__ import annotations

from datetime import datetime

import strawberry

from shopkit.entities import entity_or_none
from shopkit.graphql_types import Address, AddressInput
from subgraphs.accounts.domain import model
from subgraphs.accounts.graphql.context import AccountsContext

# The domain's enum is the GraphQL enum: registered here, not copied.
strawberry.enum(model.Role, name="Role")


@strawberry.type(description="A saved card: only its brand, last four digits and expiry.")
class PaymentMethod:
    id: strawberry.ID
    brand: str
    last4: str
    exp_month: int
    exp_year: int

    @classmethod
    def of(cls, value: model.PaymentMethod) -> PaymentMethod:
        return cls(
            id=strawberry.ID(value.id),
            brand=value.brand,
            last4=value.last4,
            exp_month=value.exp_month,
            exp_year=value.exp_year,
        )


@strawberry.federation.type(
    keys=["id"], description="A customer or admin account. Readable by itself and admins."
)
class Account:
    id: strawberry.ID
    email: str
    name: str
    role: model.Role
    shipping_address: Address | None
    billing_address: Address | None
    payment_methods: list[PaymentMethod]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, value: model.Account) -> Account:
        return cls(
            id=strawberry.ID(value.id),
            email=value.email,
            name=value.name,
            role=value.role,
            shipping_address=Address.of(value.shipping_address),
            billing_address=Address.of(value.billing_address),
            payment_methods=[PaymentMethod.of(m) for m in value.payment_methods],
            created_at=value.created_at,
            updated_at=value.updated_at,
        )

    @classmethod
    async def resolve_reference(
        cls, info: strawberry.Info[AccountsContext], id: strawberry.ID
    ) -> Account | None:
        return await entity_or_none(info.context.loaders.account, id, cls.of)


@strawberry.type
class AuthPayload:
    token: str = strawberry.field(description="An RS256 access token: 'Bearer <token>'.")
    expires_at: datetime
    account: Account


@strawberry.type(description="What register answers, whether or not the email was new.")
class RegisterPayload:
    message: str


@strawberry.federation.type(
    inaccessible=True, description="A saved card's processor token, for the payments service."
)
class PaymentSource:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int

    @classmethod
    def of(cls, value: model.PaymentMethod) -> PaymentSource:
        return cls(
            token=value.token,
            brand=value.brand,
            last4=value.last4,
            exp_month=value.exp_month,
            exp_year=value.exp_year,
        )


@strawberry.input
class RegisterInput:
    email: str
    name: str
    password: str
    shipping_address: AddressInput | None = None
    billing_address: AddressInput | None = None


@strawberry.input(
    description="Omitted fields stay as they are; a null address clears it; name, email and "
    "password cannot be cleared (null is refused)."
)
class UpdateAccountInput:
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    shipping_address: AddressInput | None = strawberry.UNSET
    billing_address: AddressInput | None = strawberry.UNSET
    password: str | None = strawberry.UNSET
    current_password: str | None = strawberry.field(
        default=strawberry.UNSET, description="Required to change the email or the password."
    )


@strawberry.input
class AddPaymentMethodInput:
    number: str
    exp_month: int
    exp_year: int
    cvc: str
