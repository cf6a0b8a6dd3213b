"""The account as a profile: who may read which account (itself, admins, the shop's
services), and updates of the name, email, password and addresses (the email and password
only with the current password)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shopkit.addresses import Address, parse_address
from shopkit.auth import Identity, require_account
from shopkit.errors import Conflict, Forbidden, InvalidInput, ShopError
from subgraphs.accounts.domain import events, rules
from subgraphs.accounts.domain.model import Account, Role
from subgraphs.accounts.service.accounts import UPDATE_ATTEMPTS, Accounts
from subgraphs.accounts.service.passwords import Passwords

log = logging.getLogger(__name__)

FIELD_NAMES = {  # the changed account attribute -> its name in account.updated
    "name": "name",
    "email": "email",
    "password_hash": "password",
    "shipping_address": "shippingAddress",
    "billing_address": "billingAddress",
}


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = _Unchanged()


@dataclass(eq=False)
class Profiles:
    accounts: Accounts
    passwords: Passwords

    # -- reading --------------------------------------------------------------------------

    async def me(self, identity: Identity) -> Account | None:
        if identity.account_id is None:
            return None
        return await self.accounts.caller(identity)

    async def visible(
        self, identity: Identity, account_ids: Iterable[str]
    ) -> dict[str, Account | ShopError]:
        """Each requested account, or the error its reader gets: services see every account,
        an account sees itself, an admin sees all; anyone else gets ``Forbidden``."""
        ids = list(dict.fromkeys(account_ids))
        if identity.is_service:
            found = await self.accounts.store.get_many(ids)
            return {i: found[i] for i in ids if i in found}
        if ids == [identity.account_id]:
            # An account reading itself (the customer of an order, say): one read, which is
            # also the check that the token's account still exists.
            return {ids[0]: await self.accounts.caller(identity)}
        caller = await self.accounts.caller(identity)
        allowed = [i for i in ids if caller.role is Role.ADMIN or i == caller.id]
        found = await self.accounts.store.get_many(allowed)
        result: dict[str, Account | ShopError] = {
            i: Forbidden("You may only read your own account.") for i in ids if i not in allowed
        }
        result.update({i: found[i] for i in allowed if i in found})
        return result

    # -- updating -------------------------------------------------------------------------

    async def _check_current_password(
        self, account: Account, current: str | None, client: str
    ) -> None:
        if not current:
            raise InvalidInput(
                "Changing the email or password requires the current password.",
                field="currentPassword",
            )
        await self.accounts.count_attempt(account.email_normalized, client)
        if len(current) > rules.PASSWORD_MAX or not await self.passwords.verify(
            account.password_hash, current
        ):
            await self.accounts.failed(account.email_normalized)
            raise InvalidInput("The current password is not correct.", field="currentPassword")
        await self.accounts.throttle.succeeded(account.email_normalized, client)

    async def update_account(
        self,
        identity: Identity,
        *,
        name: Any = UNCHANGED,
        email: Any = UNCHANGED,
        shipping_address: Any = UNCHANGED,
        billing_address: Any = UNCHANGED,
        password: Any = UNCHANGED,
        current_password: str | None = None,
        client: str = "unknown",
    ) -> Account:
        """``UNCHANGED`` leaves a field alone; ``None`` clears an address (and leaves the
        other fields alone)."""
        require_account(identity)
        accounts = self.accounts
        new_name = rules.name(name) if name not in (UNCHANGED, None) else None
        new_email = rules.email(email) if email not in (UNCHANGED, None) else None
        new_password = (
            rules.password(password, email=new_email) if password not in (UNCHANGED, None) else None
        )
        addresses: dict[str, Address | None] = {}
        if shipping_address is not UNCHANGED:
            addresses["shipping_address"] = parse_address(shipping_address, "shippingAddress")
        if billing_address is not UNCHANGED:
            addresses["billing_address"] = parse_address(billing_address, "billingAddress")
        new_hash = await self.passwords.hash(new_password) if new_password else None
        verified_hash: str | None = None

        for _ in range(UPDATE_ATTEMPTS):
            account = await accounts.caller(identity)
            changes: dict[str, Any] = {}
            if new_name is not None and new_name != account.name:
                changes["name"] = new_name
            if new_email is not None and new_email != account.email:
                changes["email"] = new_email
            if new_hash is not None:
                changes["password_hash"] = new_hash
            for field, value in addresses.items():
                if value != getattr(account, field):
                    changes[field] = value
            sensitive = new_hash is not None or (
                new_email is not None and new_email.lower() != account.email_normalized
            )
            if sensitive and verified_hash != account.password_hash:
                await self._check_current_password(account, current_password, client)
                verified_hash = account.password_hash
            if not changes:
                return account
            updated = account.changed(**changes, updated_at=accounts.clock())
            names = sorted(FIELD_NAMES[k] for k in changes)
            event = accounts.event(events.AccountUpdated(updated, names))
            if await accounts.store.save(updated, account.version, event):
                accounts.notify()
                log.info("account updated", extra={"account_id": account.id, "changed": names})
                return updated.changed(version=account.version + 1)
        raise Conflict("The account was changed by another request; try again.")
