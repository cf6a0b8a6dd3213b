"""The account use cases: registration, login, profile updates, saved payment methods, the
admin bootstrap, and who may read which account.

Authorization uses the caller's *stored* account (not only the token's claims): a token whose
account was deleted is refused, and a demoted admin loses admin rights at once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopkit.auth import Identity
from shopkit.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    ShopError,
    Unauthenticated,
    Unavailable,
)
from shopkit.events import CloudEvent, new_event
from shopkit.events.schemas import EventSchemas
from shopkit.processor import PaymentProcessor, ProcessorError, validate_card
from subgraphs.accounts.domain import events, rules
from subgraphs.accounts.domain.model import Account, Address, PaymentMethod, Role
from subgraphs.accounts.service.passwords import Passwords
from subgraphs.accounts.service.tokens import TokenIssuer
from subgraphs.accounts.store.accounts import AccountStore
from subgraphs.accounts.store.throttle import LoginThrottle

log = logging.getLogger(__name__)

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "events" / "schemas"
INVALID_LOGIN = "Invalid email or password."
MAX_PAYMENT_METHODS = 20
UPDATE_ATTEMPTS = 3
ADMIN_NAME = "Administrator"


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = _Unchanged()
RawAddress = Mapping[str, str | None]


@dataclass(frozen=True)
class AuthResult:
    token: str
    expires_at: datetime
    account: Account


def _address(raw: RawAddress | None, field: str) -> Address | None:
    if raw is None:
        return None
    return rules.address(
        line1=raw.get("line1") or "",
        line2=raw.get("line2"),
        city=raw.get("city") or "",
        region=raw.get("region"),
        postal_code=raw.get("postal_code"),
        country=raw.get("country") or "",
        field=field,
    )


class AccountService:
    def __init__(
        self,
        store: AccountStore,
        throttle: LoginThrottle,
        passwords: Passwords,
        tokens: TokenIssuer,
        processor: PaymentProcessor,
        *,
        source: str = "accounts",
        notify: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.throttle = throttle
        self.passwords = passwords
        self.tokens = tokens
        self.processor = processor
        self.source = source
        self.notify = notify
        self.clock = clock
        self.schemas = EventSchemas(SCHEMAS_DIR)

    # -- events ---------------------------------------------------------------------------

    def _event(self, event: tuple[str, dict[str, Any]], account_id: str) -> CloudEvent:
        event_type, data = event
        cloud_event = new_event(event_type, source=self.source, subject=account_id, data=data)
        self.schemas.validate(cloud_event)
        return cloud_event

    def _issue(self, account: Account) -> AuthResult:
        token, expires_at = self.tokens.issue(account.id, account.role.value)
        return AuthResult(token=token, expires_at=expires_at, account=account)

    # -- who is calling -------------------------------------------------------------------

    async def caller(self, identity: Identity) -> Account:
        """The caller's own account; ``Unauthenticated`` without one or if it is gone."""
        if identity.account_id is None:
            raise Unauthenticated("You must be logged in.")
        account = await self.store.get(identity.account_id)
        if account is None:
            raise Unauthenticated("The account of this access token no longer exists.")
        return account

    async def me(self, identity: Identity) -> Account | None:
        if identity.account_id is None:
            return None
        return await self.caller(identity)

    async def visible(
        self, identity: Identity, account_ids: Iterable[str]
    ) -> dict[str, Account | ShopError]:
        """Each requested account, or the error its reader gets: services see every account,
        an account sees itself, an admin sees all; anyone else gets ``Forbidden``."""
        ids = list(dict.fromkeys(account_ids))
        if identity.is_service:
            found = await self.store.get_many(ids)
            return {i: found[i] for i in ids if i in found}
        caller = await self.caller(identity)
        allowed = [i for i in ids if caller.role is Role.ADMIN or i == caller.id]
        found = await self.store.get_many(allowed)
        result: dict[str, Account | ShopError] = {
            i: Forbidden("You may only read your own account.") for i in ids if i not in allowed
        }
        result.update({i: found[i] for i in allowed if i in found})
        return result

    async def account(self, identity: Identity, account_id: str) -> Account | None:
        outcome = (await self.visible(identity, [account_id])).get(account_id)
        if isinstance(outcome, ShopError):
            raise outcome
        return outcome

    # -- registration and login -----------------------------------------------------------

    async def register(
        self,
        *,
        email: str,
        name: str,
        password: str,
        shipping_address: RawAddress | None = None,
        billing_address: RawAddress | None = None,
    ) -> AuthResult:
        email = rules.email(email)
        name = rules.name(name)
        rules.password(password)
        shipping = _address(shipping_address, "shippingAddress")
        billing = _address(billing_address, "billingAddress")
        if await self.store.by_email(email) is not None:
            raise Conflict("An account with this email already exists.", field="email")
        now = self.clock()
        account = Account(
            id=str(uuid.uuid4()),
            email=email,
            name=name,
            role=Role.CUSTOMER,
            password_hash=await self.passwords.hash(password),
            created_at=now,
            updated_at=now,
            shipping_address=shipping,
            billing_address=billing,
        )
        await self.store.add(account, self._event(events.created(account), account.id))
        self.notify()
        log.info("account registered", extra={"account_id": account.id})
        return self._issue(account)

    async def _count_attempt(self, email: str) -> None:
        locked_until = await self.throttle.attempt(email, self.clock())
        if locked_until is not None:
            retry_after = max(1, int((locked_until - self.clock()).total_seconds() + 0.999))
            log.warning("login throttled", extra={"retry_after_seconds": retry_after})
            raise RateLimited(
                "Too many failed attempts; try again later.", retryAfterSeconds=retry_after
            )

    async def login(self, *, email: str, password: str) -> AuthResult:
        """Same answer and about the same time for an unknown email and a wrong password."""
        key = email.strip().lower()[: rules.EMAIL_MAX + 1]
        await self._count_attempt(key)
        candidate = password[: rules.PASSWORD_MAX + 1]
        account = await self.store.by_email(key) if len(key) <= rules.EMAIL_MAX else None
        if account is None:
            await self.passwords.burn(candidate)
            log.info("login refused", extra={"reason": "unknown email"})
            raise Unauthenticated(INVALID_LOGIN)
        if len(password) > rules.PASSWORD_MAX:
            await self.passwords.burn(candidate)  # cannot match; same time as a check
            ok = False
        else:
            ok = await self.passwords.verify(account.password_hash, candidate)
        if not ok:
            log.info("login refused", extra={"reason": "wrong password", "account_id": account.id})
            raise Unauthenticated(INVALID_LOGIN)
        await self.throttle.succeeded(key)
        if self.passwords.needs_rehash(account.password_hash):
            await self._rehash(account, password)
        log.info("login", extra={"account_id": account.id})
        return self._issue(account)

    async def _rehash(self, account: Account, password: str) -> None:
        rehashed = account.changed(password_hash=await self.passwords.hash(password))
        event = self._event(events.updated(rehashed, ["password"]), account.id)
        await self.store.save(rehashed, account.version, event)  # lost race: next login

    # -- profile --------------------------------------------------------------------------

    async def _check_current_password(self, account: Account, current: str | None) -> None:
        if not current:
            raise InvalidInput(
                "Changing the email or password requires the current password.",
                field="currentPassword",
            )
        await self._count_attempt(account.email_normalized)
        if len(current) > rules.PASSWORD_MAX or not await self.passwords.verify(
            account.password_hash, current
        ):
            raise InvalidInput("The current password is not correct.", field="currentPassword")
        await self.throttle.succeeded(account.email_normalized)

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
    ) -> Account:
        """``UNCHANGED`` leaves a field alone; ``None`` clears an address (and leaves the
        other fields alone)."""
        new_name = rules.name(name) if name not in (UNCHANGED, None) else None
        new_email = rules.email(email) if email not in (UNCHANGED, None) else None
        new_password = rules.password(password) if password not in (UNCHANGED, None) else None
        addresses: dict[str, Address | None] = {}
        if shipping_address is not UNCHANGED:
            addresses["shipping_address"] = _address(shipping_address, "shippingAddress")
        if billing_address is not UNCHANGED:
            addresses["billing_address"] = _address(billing_address, "billingAddress")
        new_hash = await self.passwords.hash(new_password) if new_password else None
        verified_hash: str | None = None

        for _ in range(UPDATE_ATTEMPTS):
            account = await self.caller(identity)
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
                await self._check_current_password(account, current_password)
                verified_hash = account.password_hash
            if not changes:
                return account
            updated = account.changed(**changes, updated_at=self.clock())
            names = sorted(
                {
                    "name": "name",
                    "email": "email",
                    "password_hash": "password",
                    "shipping_address": "shippingAddress",
                    "billing_address": "billingAddress",
                }[k]
                for k in changes
            )
            event = self._event(events.updated(updated, names), account.id)
            if await self.store.save(updated, account.version, event):
                self.notify()
                log.info("account updated", extra={"account_id": account.id, "changed": names})
                return updated.changed(version=account.version + 1)
        raise Conflict("The account was changed by another request; try again.")

    # -- payment methods ------------------------------------------------------------------

    async def add_payment_method(
        self, identity: Identity, *, number: str, exp_month: int, exp_year: int, cvc: str
    ) -> PaymentMethod:
        account = await self.caller(identity)
        card = validate_card(number, exp_month, exp_year, cvc, today=self.clock().date())
        if len(account.payment_methods) >= MAX_PAYMENT_METHODS:
            raise Conflict(f"An account may save at most {MAX_PAYMENT_METHODS} payment methods.")
        try:
            token = await self.processor.tokenize(card)
        except ProcessorError as error:
            raise Unavailable("The card processor did not answer; try again.") from error
        now = self.clock()
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
        event = self._event(events.updated(touched, ["paymentMethods"]), account.id)
        if not await self.store.add_payment_method(account.id, method, event):
            raise Unauthenticated("The account of this access token no longer exists.")
        self.notify()
        log.info(
            "payment method saved",
            extra={"account_id": account.id, "payment_method_id": method.id, "brand": method.brand},
        )
        return method

    async def remove_payment_method(self, identity: Identity, method_id: str) -> Account:
        account = await self.caller(identity)
        now = self.clock()
        event = self._event(
            events.updated(account.changed(updated_at=now), ["paymentMethods"]), account.id
        )
        if not await self.store.remove_payment_method(account.id, method_id, now, event):
            raise NotFound("You have no payment method with this id.", field="id")
        self.notify()
        log.info(
            "payment method removed",
            extra={"account_id": account.id, "payment_method_id": method_id},
        )
        return await self.caller(identity)

    async def payment_source(
        self, identity: Identity, account_id: str, method_id: str
    ) -> PaymentMethod | None:
        """For the payments service only: the processor token of a saved card."""
        if not identity.is_service:
            raise Forbidden("This operation is internal to the shop's services.")
        return await self.store.payment_method(account_id, method_id)

    # -- start-up -------------------------------------------------------------------------

    async def ensure_admin(self, email: str, password: str) -> Account:
        """Creates the admin, or promotes the account with this email and sets its password.
        Does nothing when it is already an admin with this password."""
        email = rules.email(email, field="SHOP_ADMIN_EMAIL")
        rules.password(password, field="SHOP_ADMIN_PASSWORD")
        for _ in range(UPDATE_ATTEMPTS):
            existing = await self.store.by_email(email)
            if existing is None:
                now = self.clock()
                admin = Account(
                    id=str(uuid.uuid4()),
                    email=email,
                    name=ADMIN_NAME,
                    role=Role.ADMIN,
                    password_hash=await self.passwords.hash(password),
                    created_at=now,
                    updated_at=now,
                )
                try:
                    await self.store.add(admin, self._event(events.created(admin), admin.id))
                except Conflict:
                    continue  # another process created it: promote that one
                self.notify()
                log.info("admin account created", extra={"account_id": admin.id})
                return admin
            same_password = await self.passwords.verify(existing.password_hash, password)
            if existing.role is Role.ADMIN and same_password:
                return existing
            changed = [
                name
                for name, differs in (
                    ("role", existing.role is not Role.ADMIN),
                    ("password", not same_password),
                )
                if differs
            ]
            promoted = existing.changed(
                role=Role.ADMIN,
                password_hash=(
                    existing.password_hash if same_password else await self.passwords.hash(password)
                ),
                updated_at=self.clock(),
            )
            event = self._event(events.updated(promoted, changed), existing.id)
            if await self.store.save(promoted, existing.version, event):
                self.notify()
                log.info("admin account ensured", extra={"account_id": existing.id})
                return promoted
        raise Conflict("The admin account kept changing during start-up.")
