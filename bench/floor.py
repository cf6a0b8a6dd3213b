"""The bare-Starlette floor: an app that reads a POST body and answers fixed bytes (the items
subgraph's answer to ``items(first: 20)``), served by uvicorn exactly as a subgraph is. Its
throughput is what HTTP, uvicorn and Starlette alone allow for a response of that size; no
subgraph can serve more (README, Performance).

``BENCH_FLOOR_BODY=answer.json uvicorn bench.floor:create_app --factory``
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create_app() -> Starlette:
    body = Path(os.environ["BENCH_FLOOR_BODY"]).read_bytes()

    async def answer(request: Request) -> Response:
        await request.body()
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/graphql", answer, methods=["POST"])])
