"""The committed SDL files must be what the code exports, and they must compose."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.gateway import DEFAULT_SUPERGRAPH, compose_supergraph
from stack.local import SUBGRAPHS
from stack.schema import export_sdl

ROOT = Path(__file__).resolve().parents[2]
STALE = "is stale: run `make schema` and commit the result"


@pytest.mark.parametrize("name", SUBGRAPHS)
def test_committed_subgraph_sdl_matches_the_code(name):
    committed = (ROOT / "subgraphs" / name / "schema.graphql").read_text()
    assert committed == export_sdl(name), f"subgraphs/{name}/schema.graphql {STALE}"


def test_committed_supergraph_matches_composition(tmp_path):
    out = tmp_path / "supergraph.graphql"
    compose_supergraph(out)  # raises with the composition errors
    assert out.read_text() == DEFAULT_SUPERGRAPH.read_text(), f"gateway/supergraph.graphql {STALE}"


def test_internal_operations_are_hidden_from_the_public_api():
    supergraph = DEFAULT_SUPERGRAPH.read_text()
    for internal in ("reserveStock", "releaseStock", "commitStock", "paymentMethodSource"):
        line = next(line for line in supergraph.splitlines() if f"  {internal}(" in line)
        assert "@inaccessible" in line, f"{internal} must be @inaccessible"
