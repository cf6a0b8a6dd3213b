"""The events an account emits, past-tense records keyed by the account: ``account.created``,
``account.updated`` and ``account.registration_attempted`` (someone registered with the email
of an existing account: the owner is to be told, see ``service/auth.py``).

Their data names the account and its public profile only; a password or its hash never
appears (the JSON Schemas forbid any other property).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
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


@dataclass(frozen=True)
class AccountRegistrationAttempted(AccountEvent):
    type = "account.registration_attempted"
    at: datetime

    def data(self) -> dict[str, Any]:
        return {
            "accountId": self.account.id,
            "email": self.account.email,
            "attemptedAt": self.at.isoformat(),
        }


PRODUCES = (AccountCreated.type, AccountUpdated.type, AccountRegistrationAttempted.type)
