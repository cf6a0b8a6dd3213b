"""Rows to domain objects and back.

A row's columns carry the names of the domain object's fields (``idem_key`` is the one
exception: ``key`` is a reserved word in SQL), so a conversion copies the fields by name and
spells out only what differs.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, ClassVar, Protocol, TypeVar

from sqlmodel import SQLModel

from subgraphs.payments.domain.idempotency import IdempotencyRecord
from subgraphs.payments.domain.model import Payment, PendingRefund, Refund
from subgraphs.payments.store.tables import (
    IdempotencyRow,
    LedgerRow,
    PaymentRow,
    RefundReservationRow,
)


class DataclassInstance(Protocol):
    """What ``dataclasses.fields`` reads: any dataclass of the domain."""

    __dataclass_fields__: ClassVar[dict[str, Any]]


Domain = TypeVar("Domain", bound=DataclassInstance)
Row = TypeVar("Row", bound=SQLModel)

# The columns of a payment row that change after it is written.
MUTABLE_COLUMNS = (
    "outcome",
    "captured",
    "refunded",
    "refunding",
    "charge_id",
    "failure_code",
    "failure_message",
    "updated_at",
)


def _from_row(cls: type[Domain], row: object, **given: Any) -> Domain:
    """A ``cls`` whose fields are the row's columns of the same names, but for ``given``."""
    names = [f.name for f in fields(cls) if f.name not in given]
    return cls(**{name: getattr(row, name) for name in names}, **given)


def row_of(table: type[Row], value: DataclassInstance) -> Row:
    """A new ``table`` row holding ``value``'s fields that are its columns."""
    columns = table.model_fields
    return table(**{f.name: getattr(value, f.name) for f in fields(value) if f.name in columns})


def payment_from_row(row: PaymentRow, refunds: list[LedgerRow]) -> Payment:
    return _from_row(
        Payment,
        row,
        refunds=tuple(
            _from_row(Refund, r)
            for r in sorted(refunds, key=lambda r: r.sequence)
            if r.kind == "refund"
        ),
    )


def payment_values(payment: Payment) -> dict[str, Any]:
    """The mutable columns of a payment row."""
    return {name: getattr(payment, name) for name in MUTABLE_COLUMNS}


def record_from_row(row: IdempotencyRow) -> IdempotencyRecord:
    return _from_row(IdempotencyRecord, row, key=row.idem_key)


def pending_refund_from_row(row: RefundReservationRow) -> PendingRefund:
    return _from_row(PendingRefund, row)
