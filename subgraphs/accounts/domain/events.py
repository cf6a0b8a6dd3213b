"""The events an account emits: ``account.created``, ``account.updated`` and
``account.registration_attempted`` (someone registered with the email of an existing account:
the owner is to be told, see ``service/auth.py``).

Their data names the account and its public profile only; a password or its hash never
appears (the JSON Schemas forbid any other property).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from subgraphs.accounts.domain.model import Account

ACCOUNT_CREATED = "account.created"
ACCOUNT_UPDATED = "account.updated"
ACCOUNT_REGISTRATION_ATTEMPTED = "account.registration_attempted"
PRODUCES = (ACCOUNT_CREATED, ACCOUNT_UPDATED, ACCOUNT_REGISTRATION_ATTEMPTED)


def _profile(account: Account) -> dict[str, Any]:
    return {
        "accountId": account.id,
        "email": account.email,
        "name": account.name,
        "role": account.role.value,
    }


def created(account: Account) -> tuple[str, dict[str, Any]]:
    return ACCOUNT_CREATED, {**_profile(account), "createdAt": account.created_at.isoformat()}


def updated(account: Account, changed: list[str]) -> tuple[str, dict[str, Any]]:
    return ACCOUNT_UPDATED, {
        **_profile(account),
        "changed": sorted(changed),
        "updatedAt": account.updated_at.isoformat(),
    }


def registration_attempted(account: Account, at: datetime) -> tuple[str, dict[str, Any]]:
    return ACCOUNT_REGISTRATION_ATTEMPTED, {
        "accountId": account.id,
        "email": account.email,
        "attemptedAt": at.isoformat(),
    }
