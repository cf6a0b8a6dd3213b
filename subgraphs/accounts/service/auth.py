"""Who an account is: registration, login (throttled, timing-equal for unknown emails and
wrong passwords, upgrading old password hashes), access tokens, and the admin ensured at
start-up.

Registration never tells a stranger whether an email has an account. It answers the same
(``REGISTERED``), in about the same time (the password is hashed either way), whether it
created the account or found the email taken; in the second case nothing changes, and an
``account.registration_attempted`` event (never the password) lets a notifier tell the owner,
who may have forgotten the account. So registration does not log in: the client logs in next,
and a login is throttled per email and client (``store/throttle.py``), which keeps "register,
then try to log in" too slow to enumerate emails with. What is left is documented in the
README ("Accounts and tokens").
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from shopkit.addresses import RawAddress, parse_address
from shopkit.errors import Conflict, Unauthenticated, Unavailable
from subgraphs.accounts.domain import events, rules
from subgraphs.accounts.domain.model import Account, Role
from subgraphs.accounts.service.accounts import UPDATE_ATTEMPTS, Accounts
from subgraphs.accounts.service.passwords import Passwords
from subgraphs.accounts.service.tokens import TokenIssuer

log = logging.getLogger(__name__)

INVALID_LOGIN = "Invalid email or password."
REGISTERED = (
    "Registration received: log in with this email and password. If the email already had an "
    "account, nothing was changed and its owner is notified."
)
ADMIN_NAME = "Administrator"


@dataclass(frozen=True)
class AuthResult:
    token: str
    expires_at: datetime
    account: Account


class Auth:
    def __init__(self, accounts: Accounts, passwords: Passwords, tokens: TokenIssuer) -> None:
        self.accounts = accounts
        self.passwords = passwords
        self.tokens = tokens

    def _issue(self, account: Account) -> AuthResult:
        token, expires_at = self.tokens.issue(account.id, account.role.value)
        return AuthResult(token=token, expires_at=expires_at, account=account)

    async def register(
        self,
        *,
        email: str,
        name: str,
        password: str,
        shipping_address: RawAddress | None = None,
        billing_address: RawAddress | None = None,
    ) -> str:
        """Creates a customer account, or notifies the owner of the email; the same answer."""
        accounts = self.accounts
        email = rules.email(email)
        name = rules.name(name)
        rules.password(password, email=email)
        shipping = parse_address(shipping_address, "shippingAddress")
        billing = parse_address(billing_address, "billingAddress")
        password_hash = await self.passwords.hash(password)  # either way: the same time
        existing = await accounts.store.by_email(email)
        if existing is None:
            now = accounts.clock()
            account = Account(
                id=str(uuid.uuid4()),
                email=email,
                name=name,
                role=Role.CUSTOMER,
                password_hash=password_hash,
                created_at=now,
                updated_at=now,
                shipping_address=shipping,
                billing_address=billing,
            )
            try:
                await accounts.store.add(account, accounts.event(events.AccountCreated(account)))
            except Conflict:  # a concurrent registration took the email first
                existing = await accounts.store.by_email(email)
            else:
                accounts.notify()
                log.info("account registered", extra={"account_id": account.id})
                return REGISTERED
        if existing is not None:
            event = events.AccountRegistrationAttempted(existing, accounts.clock())
            await accounts.store.record(accounts.event(event))
            accounts.notify()
            log.info("registration with the email of an account", extra={"account_id": existing.id})
        return REGISTERED

    async def login(self, *, email: str, password: str, client: str) -> AuthResult:
        """Same answer and about the same time for an unknown email and a wrong password.

        Each attempt is counted for this email from this client first (``RateLimited`` while
        that pair is locked out: the owner logging in from elsewhere is not). A refused
        password is answered after a delay that grows with the failures for the email from
        all clients (``Accounts.failed``); a right one never waits.
        """
        key = email.strip().lower()[: rules.EMAIL_MAX + 1]
        await self.accounts.count_attempt(key, client)
        candidate = password[: rules.PASSWORD_MAX + 1]
        try:
            account = (
                await self.accounts.store.by_email(key) if len(key) <= rules.EMAIL_MAX else None
            )
            if account is None or len(password) > rules.PASSWORD_MAX:
                # No account, or a password too long to match: the same time as a check.
                await self.passwords.burn(candidate)
                ok = False
            else:
                ok = await self.passwords.verify(account.password_hash, candidate)
        except Unavailable:
            # Too busy to check the password (answered SERVICE_UNAVAILABLE, "try again"): the
            # attempt is taken back, so retrying through a rush never locks a customer out.
            await self.accounts.throttle.not_checked(key, client)
            raise
        if account is None:
            await self.accounts.failed(key)
            log.info("login refused", extra={"reason": "unknown email"})
            raise Unauthenticated(INVALID_LOGIN)
        if not ok:
            await self.accounts.failed(key)
            log.info("login refused", extra={"reason": "wrong password", "account_id": account.id})
            raise Unauthenticated(INVALID_LOGIN)
        await self.accounts.throttle.succeeded(key, client)
        if self.passwords.needs_rehash(account.password_hash):
            await self._rehash(account, password)
        log.info("login", extra={"account_id": account.id})
        return self._issue(account)

    async def _rehash(self, account: Account, password: str) -> None:
        rehashed = account.changed(password_hash=await self.passwords.hash(password))
        event = self.accounts.event(events.AccountUpdated(rehashed, ["password"]))
        await self.accounts.store.save(rehashed, account.version, event)  # lost race: next login

    async def ensure_admin(self, email: str, password: str) -> Account:
        """Creates the admin, or promotes the account with this email and sets its password.
        Does nothing when it is already an admin with this password."""
        accounts = self.accounts
        email = rules.email(email, field="SHOP_ADMIN_EMAIL")
        rules.password(password, field="SHOP_ADMIN_PASSWORD")
        for _ in range(UPDATE_ATTEMPTS):
            existing = await accounts.store.by_email(email)
            if existing is None:
                now = accounts.clock()
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
                    await accounts.store.add(admin, accounts.event(events.AccountCreated(admin)))
                except Conflict:
                    continue  # another process created it: promote that one
                accounts.notify()
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
                updated_at=accounts.clock(),
            )
            event = accounts.event(events.AccountUpdated(promoted, changed))
            if await accounts.store.save(promoted, existing.version, event):
                accounts.notify()
                log.info("admin account ensured", extra={"account_id": existing.id})
                return promoted
        raise Conflict("The admin account kept changing during start-up.")
