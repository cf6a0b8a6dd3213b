"""``/healthz`` (the process is up) and ``/readyz`` (its database and broker answer).

Services register readiness checks on ``app.state.readiness``: a name and a coroutine
function that raises when the dependency does not answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

ReadinessCheck = Callable[[], Awaitable[object]]


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "service": request.app.state.settings.service_name})


async def readyz(request: Request) -> JSONResponse:
    checks: dict[str, ReadinessCheck] = request.app.state.readiness
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check(), timeout=2.0)
            results[name] = "ok"
        except Exception as exc:
            results[name] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in results.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": results},
        status_code=200 if ready else 503,
    )


def tcp_check(address: str) -> ReadinessCheck:
    """A check that a ``host:port`` (the first of a comma-separated list) accepts connections."""
    host, _, port = address.split(",")[0].strip().rpartition(":")

    async def check() -> None:
        _, writer = await asyncio.open_connection(host or "127.0.0.1", int(port))
        writer.close()
        await writer.wait_closed()

    return check
