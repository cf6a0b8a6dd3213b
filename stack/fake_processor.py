"""A card processor of our own, out of process, for the local stack and the end-to-end tests:
``python -m stack.fake_processor --port 4005 --ledger .data/processor/ledger.jsonl``.

Why a process and not the in-process ``SimulatedProcessor``: the processor's books must
outlive a ``kill -9`` of payments, and be compared with the shop's afterwards, as a real
processor's would be. Why under ``stack/`` and not ``shopkit/``: it is a stand-in the stack
starts, like the engines in ``stack/engines.py``; no service imports it.

It speaks exactly the Stripe-like API of ``shopkit/processor/http_processor.py``:
``POST /v1/tokens``, ``/v1/charges`` and ``/v1/refunds`` (form-encoded,
``Authorization: Bearer <key>``, ``Idempotency-Key``), and ``GET /v1/charges`` /
``GET /v1/refunds`` (a Stripe list, filtered by ``idempotency_key``, paged with ``limit``
and ``starting_after``): every charge and refund it ever made, each with its idempotency
key, for the reconciliation. The test cards are the simulated processor's
(``shopkit/processor/simulated.py``): ``4242424242424242`` succeeds, ``4000000000000002``
is declined, ``4000000000009995`` fails for insufficient funds.

Its books are an append-only JSON-lines file (mode 0600, in a 0700 folder), one fsync'd line
per request that did something: the token, charge or refund it made together with the answer
stored for its idempotency key, so after a crash a request either happened with its answer or
did not happen at all. A card number or CVC is never stored nor logged: a token keeps only the
brand, the last four digits, the expiry and the test card's outcome; an idempotency key's
request fingerprint is an HMAC keyed with the API key; there is no access log.

``--test-hooks`` adds ``/_hooks/charges`` for the end-to-end tests, to catch a charge at a
chosen moment: ``{"mode": "answer_later"}`` charges and writes the books, then holds the answer;
``{"mode": "lose"}`` holds the request and then drops it without charging (a request lost on
the way); ``GET /_hooks/held`` says how many are held, ``POST /_hooks/release`` lets them go.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shopkit.errors import InvalidInput
from shopkit.processor.cards import card_brand, validate_card
from shopkit.processor.simulated import decline_message, test_card_outcome
from stack.process import Process, http_ok, spawn

CARD_ERROR_CODES = {
    "number": "incorrect_number",
    "expMonth": "invalid_expiry_month",
    "expYear": "expired_card",
    "cvc": "invalid_cvc",
}
MAX_PAGE = 100


class ApiError(Exception):
    def __init__(self, status: int, kind: str, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": kind, "code": code, "message": message, **extra}}


@dataclass
class Books:
    """The processor's state, rebuilt from the ledger file at start and appended to after."""

    path: Path
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id, in order
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id, in order
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # by idempotency key

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.parent.chmod(0o700)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.close(descriptor)
        self.path.chmod(0o600)
        for line in self.path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                break  # a line torn by a crash: its request never answered, so never happened
            self._apply(entry)

    def write(self, entry: dict[str, Any]) -> None:
        """Appends one request's effects and its stored answer, durably, then applies them."""
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(descriptor, line)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        self._apply(entry)

    def _apply(self, entry: dict[str, Any]) -> None:
        if "token" in entry:
            self.tokens[entry["token"]["id"]] = entry["token"]
        if "charge" in entry:
            self.charges[entry["charge"]["id"]] = entry["charge"]
        if "refund" in entry:
            refund = entry["refund"]
            self.refunds[refund["id"]] = refund
            self.charges[refund["charge"]]["amount_refunded"] += refund["amount"]
        self.answers[entry["key"]] = entry["answer"]


@dataclass
class Hooks:
    mode: str = "normal"
    held: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)


def _now() -> int:
    return int(time.time())


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _amount(form: dict[str, str]) -> int:
    raw = form.get("amount", "")
    if not raw.isdigit() or int(raw) <= 0:
        raise ApiError(400, "invalid_request_error", "parameter_invalid_integer", "Bad amount.")
    return int(raw)


def create_app(ledger: Path, api_key: str, *, test_hooks: bool = False) -> Starlette:
    books = Books(ledger)
    books.open()
    hooks = Hooks()
    running: set[str] = set()
    fingerprint_key = api_key.encode()

    def authorized(request: Request) -> bool:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {api_key}".encode())

    async def idempotent(
        request: Request, make: Callable[[dict[str, str]], Awaitable[dict[str, Any]]]
    ) -> JSONResponse:
        """Runs ``make`` once per Idempotency-Key; a repeat gets the stored answer, another
        request under the same key a 400, a repeat while the first runs a 409. As with Stripe,
        only a request that made something (a token, a charge, declined or not, a refund) has
        its answer stored; one refused as invalid may be sent again with its key."""
        if not authorized(request):
            return JSONResponse({"error": {"type": "invalid_request_error"}}, status_code=401)
        key = request.headers.get("idempotency-key", "")
        if not key:
            raise ApiError(400, "invalid_request_error", "idempotency_key_missing", "No key.")
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        canonical = json.dumps([request.url.path, sorted(form.items())]).encode()
        fingerprint = hmac.new(fingerprint_key, canonical, hashlib.sha256).hexdigest()
        stored = books.answers.get(key)
        if stored is not None:
            if stored["fingerprint"] != fingerprint:
                raise ApiError(
                    400,
                    "idempotency_error",
                    "idempotency_key_reused",
                    "Key used for another request.",
                )
            return JSONResponse(stored["body"], status_code=stored["status"])
        if key in running:
            raise ApiError(409, "idempotency_error", "idempotency_key_in_use", "Still running.")
        running.add(key)
        try:
            entry = await make(form)  # an ApiError: nothing happened, nothing is stored
        finally:
            running.discard(key)
        entry["key"] = key
        entry["answer"]["fingerprint"] = fingerprint
        books.write(entry)
        return JSONResponse(entry["answer"]["body"], status_code=entry["answer"]["status"])

    async def tokens(request: Request) -> JSONResponse:
        async def make(form: dict[str, str]) -> dict[str, Any]:
            try:
                card = validate_card(
                    form.get("card[number]", ""),
                    int(form.get("card[exp_month]") or 0),
                    int(form.get("card[exp_year]") or 0),
                    form.get("card[cvc]", ""),
                )
            except (InvalidInput, ValueError) as error:
                field_name = getattr(error, "details", {}).get("field", "number")
                raise ApiError(
                    402,
                    "card_error",
                    CARD_ERROR_CODES.get(field_name, "invalid_number"),
                    str(error),
                ) from None
            token = {
                "id": _new_id("tok"),
                "brand": card_brand(card.number),
                "last4": card.number[-4:],
                "exp_month": card.exp_month,
                "exp_year": card.exp_year,
                "outcome": test_card_outcome(card.number),
            }
            body = {
                "id": token["id"],
                "object": "token",
                "card": {k: token[k] for k in ("brand", "last4", "exp_month", "exp_year")},
            }
            return {"token": token, "answer": {"status": 200, "body": body}}

        return await idempotent(request, make)

    async def create_charge(request: Request) -> JSONResponse:
        key = request.headers.get("idempotency-key", "")

        async def make(form: dict[str, str]) -> dict[str, Any]:
            if hooks.mode == "lose":
                await _hold()
                raise ApiError(503, "api_error", "lost", "The request was lost on the way.")
            token = books.tokens.get(form.get("source", ""))
            if token is None:
                raise ApiError(400, "invalid_request_error", "resource_missing", "No such token.")
            currency = form.get("currency", "")
            if len(currency) != 3 or not currency.isalpha():
                raise ApiError(400, "invalid_request_error", "parameter_invalid", "Bad currency.")
            outcome = token["outcome"]
            charge = {
                "id": _new_id("ch"),
                "object": "charge",
                "amount": _amount(form),
                "amount_refunded": 0,
                "currency": currency.lower(),
                "source": token["id"],
                "status": "succeeded" if outcome == "ok" else "failed",
                "failure_code": None if outcome == "ok" else outcome,
                "failure_message": None if outcome == "ok" else decline_message(outcome),
                "idempotency_key": key,
                "created": _now(),
            }
            if outcome == "ok":
                answer = {"status": 200, "body": charge}
            else:
                error = ApiError(
                    402,
                    "card_error",
                    "card_declined",
                    charge["failure_message"],
                    decline_code=outcome,
                    charge=charge["id"],
                )
                answer = {"status": 402, "body": error.body}
            return {"charge": charge, "answer": answer}

        response = await idempotent(request, make)
        if hooks.mode == "answer_later" and response.status_code in (200, 402):
            await _hold()  # charged and written down; the answer waits
        return response

    async def create_refund(request: Request) -> JSONResponse:
        key = request.headers.get("idempotency-key", "")

        async def make(form: dict[str, str]) -> dict[str, Any]:
            charge = books.charges.get(form.get("charge", ""))
            if charge is None or charge["status"] != "succeeded":
                raise ApiError(400, "invalid_request_error", "resource_missing", "No such charge.")
            amount = _amount(form)
            if charge["amount_refunded"] + amount > charge["amount"]:
                raise ApiError(
                    400,
                    "invalid_request_error",
                    "amount_too_large",
                    "The refund exceeds what remains of the charge.",
                )
            refund = {
                "id": _new_id("re"),
                "object": "refund",
                "amount": amount,
                "charge": charge["id"],
                "currency": charge["currency"],
                "status": "succeeded",
                "idempotency_key": key,
                "created": _now(),
            }
            return {"refund": refund, "answer": {"status": 200, "body": refund}}

        return await idempotent(request, make)

    def listing(objects: dict[str, dict[str, Any]]) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def list_objects(request: Request) -> JSONResponse:
            if not authorized(request):
                return JSONResponse({"error": {"type": "invalid_request_error"}}, status_code=401)
            wanted = request.query_params.get("idempotency_key")
            found = [
                o for o in objects.values() if wanted is None or o["idempotency_key"] == wanted
            ]
            after = request.query_params.get("starting_after")
            if after is not None:
                ids = [o["id"] for o in found]
                found = found[ids.index(after) + 1 :] if after in ids else []
            limit = min(int(request.query_params.get("limit") or MAX_PAGE), MAX_PAGE)
            page = found[:limit]
            return JSONResponse({"object": "list", "data": page, "has_more": len(found) > limit})

        return list_objects

    async def _hold() -> None:
        hooks.held += 1
        await hooks.release.wait()

    async def set_mode(request: Request) -> JSONResponse:
        hooks.mode = (await request.json())["mode"]
        return JSONResponse({"mode": hooks.mode})

    async def held(request: Request) -> JSONResponse:
        return JSONResponse({"held": hooks.held})

    async def release(request: Request) -> JSONResponse:
        hooks.release.set()
        hooks.release = asyncio.Event()
        hooks.held = 0
        return JSONResponse({"released": True})

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(exc.body, status_code=exc.status)

    routes = [
        Route("/healthz", healthz),
        Route("/v1/tokens", tokens, methods=["POST"]),
        Route("/v1/charges", create_charge, methods=["POST"]),
        Route("/v1/charges", listing(books.charges), methods=["GET"]),
        Route("/v1/refunds", create_refund, methods=["POST"]),
        Route("/v1/refunds", listing(books.refunds), methods=["GET"]),
    ]
    if test_hooks:
        routes += [
            Route("/_hooks/charges", set_mode, methods=["POST"]),
            Route("/_hooks/held", held),
            Route("/_hooks/release", release, methods=["POST"]),
        ]
    app = Starlette(routes=routes, exception_handlers={ApiError: api_error})
    app.state.books = books
    return app


def start_fake_processor(
    port: int, ledger: Path, log_dir: Path, api_key: str, *, test_hooks: bool = False
) -> Process:
    """Starts the fake processor as a child process and waits until it answers."""
    argv = [
        sys.executable,
        "-m",
        "stack.fake_processor",
        "--port",
        str(port),
        "--ledger",
        str(ledger),
    ]
    if test_hooks:
        argv.append("--test-hooks")
    proc = spawn("processor", argv, log_dir=log_dir, env={"SHOP_PROCESSOR_API_KEY": api_key})
    proc.wait_until(
        lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), timeout=30, hint=f"see {proc.log_path}"
    )
    return proc


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m stack.fake_processor")
    parser.add_argument("--port", type=int, default=4005)
    parser.add_argument("--ledger", type=Path, required=True)
    parser.add_argument("--test-hooks", action="store_true")
    args = parser.parse_args()
    api_key = os.environ.get("SHOP_PROCESSOR_API_KEY")
    if not api_key:
        print("set SHOP_PROCESSOR_API_KEY", file=sys.stderr)
        return 2
    app = create_app(args.ledger, api_key, test_hooks=args.test_hooks)
    uvicorn.run(app, host="127.0.0.1", port=args.port, access_log=False, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
