"""The events an account emits, past-tense records: ``account.created`` and
``account.updated``, keyed by the account.

Their data names the account and its public profile only; a password or its hash never
appears (the JSON Schemas forbid any other property).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from subgraphs.accounts.domain.model import Account

PRODUCER = "accounts"


@dataclass(frozen=True)
class AccountEvent:
    type: ClassVar[str]
    account: Account

    @property
    def aggregate_id(self) -> str:
        return self.account.id

    def profile(self) -> dict[str, Any]:
        return {
            "accountId": self.account.id,
            "email": self.account.email,
            "name": self.account.name,
            "role": self.account.role.value,
        }


class AccountCreated(AccountEvent):
    type = "account.created"

    def data(self) -> dict[str, Any]:
        return {**self.profile(), "createdAt": self.account.created_at.isoformat()}


@dataclass(frozen=True)
class AccountUpdated(AccountEvent):
    type = "account.updated"
    changed: Sequence[str]  # the profile fields changed, by their GraphQL names

    def data(self) -> dict[str, Any]:
        return {
            **self.profile(),
            "changed": sorted(self.changed),
            "updatedAt": self.account.updated_at.isoformat(),
        }


PRODUCES = (AccountCreated.type, AccountUpdated.type)
