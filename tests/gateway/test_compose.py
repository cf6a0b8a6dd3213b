"""gateway/compose.mjs through stack.gateway.compose_supergraph, and start_gateway's errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import stack.gateway
from stack.gateway import GatewayError, compose_supergraph, start_gateway

ITEMS = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Item @key(fields: "id") { id: ID! name: String! }
type Query { item(id: ID!): Item }
"""
ORDERS = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Item @key(fields: "id") { id: ID! }
type Order { id: ID! item: Item! }
type Query { order(id: ID!): Order }
"""
# Non-shareable field defined with another type in two subgraphs: a composition error.
CONFLICTING = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Item @key(fields: "id") { id: ID! name: Int! }
type Query { other: Item }
"""


def write_config(tmp_path: Path, schemas: dict[str, str | None]) -> Path:
    lines = ["federation_version: =2.9.0", "subgraphs:"]
    for i, (name, sdl) in enumerate(schemas.items()):
        if sdl is not None:
            (tmp_path / f"{name}.graphql").write_text(sdl)
        lines += [
            f"  {name}:",
            f"    routing_url: http://localhost:{4001 + i}/graphql",
            "    schema:",
            f"      file: ./{name}.graphql",
        ]
    config = tmp_path / "supergraph.yaml"
    config.write_text("\n".join(lines) + "\n")
    return config


def test_compose_writes_supergraph_with_overridden_routing(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"items": ITEMS, "orders": ORDERS})
    out = tmp_path / "out" / "supergraph.graphql"
    compose_supergraph(out, routing={"orders": "http://127.0.0.1:5999/graphql"}, config_path=config)
    sdl = out.read_text()
    assert '@join__graph(name: "items", url: "http://localhost:4001/graphql")' in sdl
    assert '@join__graph(name: "orders", url: "http://127.0.0.1:5999/graphql")' in sdl
    assert "type Order" in sdl


def test_compose_reports_composition_errors(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"items": ITEMS, "other": CONFLICTING})
    out = tmp_path / "supergraph.graphql"
    with pytest.raises(GatewayError) as excinfo:
        compose_supergraph(out, config_path=config)
    assert "composition failed" in str(excinfo.value)
    assert "Item.name" in str(excinfo.value)
    assert not out.exists()


def test_missing_schema_file_fails_unless_allowed(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"items": ITEMS, "payments": None})
    out = tmp_path / "supergraph.graphql"
    with pytest.raises(GatewayError, match="payments"):
        compose_supergraph(out, config_path=config)
    assert not out.exists()
    compose_supergraph(out, allow_missing=True, config_path=config)
    assert "PAYMENTS" not in out.read_text()
    assert "ITEMS" in out.read_text()


def test_unknown_routing_override_is_an_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"items": ITEMS})
    with pytest.raises(GatewayError, match="no subgraph named nope"):
        compose_supergraph(tmp_path / "s.graphql", routing={"nope": "http://x"}, config_path=config)


def test_repository_supergraph_config_lists_the_four_subgraphs() -> None:
    import yaml

    config = yaml.safe_load((stack.gateway.REPO_ROOT / "supergraph.yaml").read_text())
    assert config["federation_version"] == "=2.9.0"
    assert {name: entry["routing_url"] for name, entry in config["subgraphs"].items()} == {
        "items": "http://localhost:4001/graphql",
        "orders": "http://localhost:4002/graphql",
        "payments": "http://localhost:4003/graphql",
        "accounts": "http://localhost:4004/graphql",
    }


def test_start_gateway_without_node_modules_says_to_run_make_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack.gateway, "HIVE_GATEWAY_BIN", tmp_path / "missing" / "hive-gateway")
    with pytest.raises(GatewayError, match="make install"):
        start_gateway(tmp_path / "supergraph.graphql", 1, {"SHOP_GATEWAY_SECRET": "x" * 32})


def test_gateway_refuses_to_start_without_a_gateway_secret(
    supergraph: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.gateway.conftest import free_port

    monkeypatch.delenv("SHOP_GATEWAY_SECRET", raising=False)
    with pytest.raises(GatewayError, match="SHOP_GATEWAY_SECRET"):
        start_gateway(supergraph, free_port(), {}, log_path=tmp_path / "gw.log", timeout=30)
