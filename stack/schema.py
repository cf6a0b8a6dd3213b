"""``make schema``: export each subgraph's SDL from Strawberry and compose the supergraph.

Each subgraph's ``subgraphs/<name>/graphql/schema.py`` exposes ``schema``; its SDL is written
to ``subgraphs/<name>/schema.graphql`` (the file ``supergraph.yaml`` points at), then
``gateway/compose.mjs`` writes ``gateway/supergraph.graphql``; the gateway's list of error
codes is written from ``shopkit/errors.py`` to ``gateway/error-codes.json``. Running it twice
changes nothing; the tests fail when a committed file is stale.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from stack.gateway import DEFAULT_SUPERGRAPH, compose_supergraph, write_error_codes
from stack.local import SUBGRAPHS


def export_sdl(name: str) -> str:
    module = importlib.import_module(f"subgraphs.{name}.graphql.schema")
    return module.schema.as_str().rstrip() + "\n"


def write_schemas(root: Path) -> None:
    for name in SUBGRAPHS:
        (root / "subgraphs" / name / "schema.graphql").write_text(export_sdl(name))
    compose_supergraph(DEFAULT_SUPERGRAPH)
    write_error_codes()
