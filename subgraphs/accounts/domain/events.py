"""The events an account emits: ``account.created`` and ``account.updated``.

Their data names the account and its public profile only; a password or its hash never
appears (the JSON Schemas forbid any other property).
"""

from __future__ import annotations

from typing import Any

from subgraphs.accounts.domain.model import Account

ACCOUNT_CREATED = "account.created"
ACCOUNT_UPDATED = "account.updated"
PRODUCES = (ACCOUNT_CREATED, ACCOUNT_UPDATED)


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
