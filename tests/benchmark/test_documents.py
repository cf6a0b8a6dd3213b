"""Every GraphQL document the benchmark sends through the gateway is valid against the public
schema: the benchmark is not run by make test, and a field renamed in the API (issue 13 made
``Order.history`` a connection) had left phase 5 reading no PAID order at all."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = build_schema((ROOT / "schema" / "supergraph.public.graphql").read_text())
# Sent to one subgraph directly (federation's entity lookup), not through the gateway.
SUBGRAPH_ONLY = "_entities"
# An operation: a keyword followed by a name, variables or a selection, or a bare selection.
OPERATION = re.compile(r"^\s*((query|mutation|subscription)\s*[\w(]*\s*[({]|\{)")


def _documents() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            if OPERATION.match(node.value):
                found.append((f"{path.name}:{node.lineno}", node.value))
    return found


DOCUMENTS = _documents()


def test_the_benchmark_has_documents_to_check() -> None:
    assert len(DOCUMENTS) >= 10, DOCUMENTS


@pytest.mark.parametrize(("where", "document"), DOCUMENTS, ids=[w for w, _ in DOCUMENTS])
def test_each_document_is_valid_against_the_public_schema(where: str, document: str) -> None:
    if SUBGRAPH_ONLY in document:
        assert "%s" in document, f"{where}: an entity lookup is formatted per subgraph"
        return
    errors = validate(PUBLIC, parse(document))
    assert not errors, f"{where}: {[e.message for e in errors]}"
