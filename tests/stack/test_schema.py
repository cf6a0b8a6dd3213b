"""The committed SDL files must be what the code exports, and they must compose (the gateway's
supergraph is composed from them by each stack that starts, and is not committed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.gateway import compose_supergraph
from stack.local import SUBGRAPHS
from stack.schema import export_sdl, schema_changes

ROOT = Path(__file__).resolve().parents[2]
STALE = "is stale: run `make schema` and commit the result"


@pytest.mark.parametrize("name", SUBGRAPHS)
def test_committed_subgraph_sdl_matches_the_code(name):
    committed = (ROOT / "subgraphs" / name / "schema.graphql").read_text()
    assert committed == export_sdl(name), f"subgraphs/{name}/schema.graphql {STALE}"


@pytest.fixture(scope="module")
def supergraph(tmp_path_factory):
    out = tmp_path_factory.mktemp("compose") / "supergraph.graphql"
    compose_supergraph(out)  # raises with the composition errors
    return out.read_text()


def test_the_committed_subgraph_sdl_composes_into_one_supergraph_of_the_four(supergraph):
    for name in SUBGRAPHS:
        assert f'join__graph(name: "{name}"' in supergraph


def test_internal_operations_are_hidden_from_the_public_api(supergraph):
    for internal in ("reserveStock", "releaseStock", "commitStock", "paymentMethodSource"):
        line = next(line for line in supergraph.splitlines() if f"  {internal}(" in line)
        assert "@inaccessible" in line, f"{internal} must be @inaccessible"


# -- the released API schema: how make schema-check (run by make test) judges a change -------

RELEASED_SDL = """
type Query { item(id: ID!): Item, items(first: Int = 20): [Item!]! }
type Item { id: ID!, name: String!, upc: String }
enum Status { OPEN, CLOSED }
input Filter { name: String }
type Mutation { close(id: ID!, filter: Filter): Status! }
"""


def test_a_removed_field_is_a_breaking_change_named_by_type_and_field():
    current = RELEASED_SDL.replace(", upc: String", "")
    breaking, _ = schema_changes(RELEASED_SDL, current)
    assert breaking == ["FIELD_REMOVED: Field Item.upc was removed."]


def test_retyped_fields_and_new_required_inputs_break_clients():
    current = RELEASED_SDL.replace("name: String!, upc", "name: Int!, upc").replace(
        "input Filter { name: String }", "input Filter { name: String, shop: ID! }"
    )
    breaking, _ = schema_changes(RELEASED_SDL, current)
    assert "FIELD_CHANGED_KIND: Field Item.name changed type from String! to Int!." in breaking
    assert any(c.startswith("REQUIRED_INPUT_FIELD_ADDED") and "Filter.shop" in c for c in breaking)


def test_additions_pass_and_dangerous_changes_are_only_reported():
    current = RELEASED_SDL.replace("upc: String }", "upc: String, price: Int }").replace(
        "enum Status { OPEN, CLOSED }", "enum Status { OPEN, CLOSED, ARCHIVED }"
    )
    breaking, dangerous = schema_changes(RELEASED_SDL, current)
    assert breaking == []
    assert dangerous == ["VALUE_ADDED_TO_ENUM: Enum value Status.ARCHIVED was added."]
