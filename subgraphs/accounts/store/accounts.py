"""The account repository: reads and writes accounts with their addresses and payment
methods, each write in one transaction together with its outbox event."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shopkit.addresses import Address
from shopkit.errors import Conflict
from shopkit.events import CloudEvent
from shopkit.events.store.sql import SqlOutbox
from shopkit.sql import from_row, row_of
from subgraphs.accounts.domain.model import Account, PaymentMethod, Role
from subgraphs.accounts.store.tables import OUTBOX, AccountRow, AddressRow, PaymentMethodRow

SHIPPING = "shipping"
BILLING = "billing"


def _email_taken(error: IntegrityError) -> bool:
    return "email_normalized" in str(error.orig)


def _duplicate_email() -> Conflict:
    return Conflict("An account with this email already exists.", field="email")


def _profile_columns(account: Account) -> dict[str, Any]:
    """The account row's columns that ``add`` writes and ``save`` rewrites (addresses and
    payment methods have rows of their own)."""
    return {
        "email": account.email,
        "email_normalized": account.email_normalized,
        "name": account.name,
        "role": account.role.value,
        "password_hash": account.password_hash,
        "updated_at": account.updated_at,
    }


def _address_rows(account: Account) -> list[AddressRow]:
    return [
        row_of(AddressRow, value, account_id=account.id, kind=kind)
        for kind, value in (
            (SHIPPING, account.shipping_address),
            (BILLING, account.billing_address),
        )
        if value is not None
    ]


def _method_of(account_id: str, method_id: str) -> ColumnElement[bool]:
    return and_(
        col(PaymentMethodRow.id) == method_id, col(PaymentMethodRow.account_id) == account_id
    )


class AccountStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.outbox = SqlOutbox(sessions, OUTBOX)

    async def _load(self, session: AsyncSession, rows: Iterable[AccountRow]) -> list[Account]:
        rows = list(rows)
        ids = [row.id for row in rows]
        if not ids:
            return []
        addresses: dict[tuple[str, str], Address] = {}
        for row in await session.exec(
            select(AddressRow).where(col(AddressRow.account_id).in_(ids))
        ):
            addresses[(row.account_id, row.kind)] = from_row(Address, row)
        methods: dict[str, list[PaymentMethod]] = {}
        query = (
            select(PaymentMethodRow)
            .where(col(PaymentMethodRow.account_id).in_(ids))
            .order_by(col(PaymentMethodRow.created_at), col(PaymentMethodRow.id))
        )
        for method in await session.exec(query):
            methods.setdefault(method.account_id, []).append(from_row(PaymentMethod, method))
        return [
            Account(
                id=row.id,
                email=row.email,
                name=row.name,
                role=Role(row.role),
                password_hash=row.password_hash,
                created_at=row.created_at,
                updated_at=row.updated_at,
                version=row.version,
                shipping_address=addresses.get((row.id, SHIPPING)),
                billing_address=addresses.get((row.id, BILLING)),
                payment_methods=tuple(methods.get(row.id, ())),
            )
            for row in rows
        ]

    async def get(self, account_id: str) -> Account | None:
        found = await self.get_many([account_id])
        return found.get(account_id)

    async def get_many(self, account_ids: Iterable[str]) -> dict[str, Account]:
        ids = sorted(set(account_ids))
        async with self.sessions() as session:
            rows = await session.exec(select(AccountRow).where(col(AccountRow.id).in_(ids)))
            return {account.id: account for account in await self._load(session, rows.all())}

    async def by_email(self, email: str) -> Account | None:
        async with self.sessions() as session:
            rows = await session.exec(
                select(AccountRow).where(col(AccountRow.email_normalized) == email.lower())
            )
            found = await self._load(session, rows.all())
            return found[0] if found else None

    async def add(self, account: Account, event: CloudEvent) -> None:
        """Raises ``Conflict`` when the email (in any letter case) is taken."""
        async with self.sessions() as session:
            session.add(
                AccountRow(
                    id=account.id,
                    version=account.version,
                    created_at=account.created_at,
                    **_profile_columns(account),
                )
            )
            try:
                await session.flush()
                session.add_all(_address_rows(account))
                await self.outbox.add(session, event)
                await session.commit()
            except IntegrityError as error:
                if _email_taken(error):
                    raise _duplicate_email() from None
                raise

    async def record(self, event: CloudEvent) -> None:
        """Writes an event that changes no account (the outbox row alone)."""
        async with self.sessions.begin() as session:
            await self.outbox.add(session, event)

    async def save(self, account: Account, expected_version: int, event: CloudEvent) -> bool:
        """Writes the profile (name, email, role, password, addresses) if the stored version
        is still ``expected_version``; returns False when another write came first."""
        async with self.sessions() as session:
            try:
                result = await session.exec(
                    update(AccountRow)
                    .where(
                        col(AccountRow.id) == account.id,
                        col(AccountRow.version) == expected_version,
                    )
                    .values(**_profile_columns(account), version=expected_version + 1)
                )
            except IntegrityError as error:
                if _email_taken(error):
                    raise _duplicate_email() from None
                raise
            if result.rowcount != 1:
                await session.rollback()
                return False
            await session.exec(delete(AddressRow).where(col(AddressRow.account_id) == account.id))
            session.add_all(_address_rows(account))
            await self.outbox.add(session, event)
            await session.commit()
            return True

    async def add_payment_method(
        self, account_id: str, method: PaymentMethod, event: CloudEvent
    ) -> bool:
        """Returns False when the account no longer exists."""
        async with self.sessions() as session:
            touched = await session.exec(
                update(AccountRow)
                .where(col(AccountRow.id) == account_id)
                .values(updated_at=method.created_at)
            )
            if touched.rowcount != 1:
                await session.rollback()
                return False
            session.add(row_of(PaymentMethodRow, method, account_id=account_id))
            await self.outbox.add(session, event)
            await session.commit()
            return True

    async def remove_payment_method(
        self, account_id: str, method_id: str, when: datetime, event: CloudEvent
    ) -> bool:
        """Deletes the method only if it belongs to the account; False otherwise."""
        async with self.sessions() as session:
            deleted = await session.exec(
                delete(PaymentMethodRow).where(_method_of(account_id, method_id))
            )
            if deleted.rowcount != 1:
                await session.rollback()
                return False
            await session.exec(
                update(AccountRow).where(col(AccountRow.id) == account_id).values(updated_at=when)
            )
            await self.outbox.add(session, event)
            await session.commit()
            return True

    async def payment_method(self, account_id: str, method_id: str) -> PaymentMethod | None:
        async with self.sessions() as session:
            rows = await session.exec(
                select(PaymentMethodRow).where(_method_of(account_id, method_id))
            )
            row = rows.first()
            return None if row is None else from_row(PaymentMethod, row)
