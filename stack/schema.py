"""The schema files: ``make schema``, ``make schema-check`` and ``make schema-release``.

``make schema``: each subgraph's ``subgraphs/<name>/graphql/schema.py`` exposes ``schema``; its
SDL is written to ``subgraphs/<name>/schema.graphql`` (the file ``supergraph.yaml`` points at);
the gateway's list of error codes is written from ``shopkit/errors.py`` to
``gateway/error-codes.json``. Running it twice changes nothing; the tests fail when a committed
file is stale. The supergraph the gateway serves is not committed: each stack composes its own
with ``gateway/compose.mjs`` when it starts (``stack/local.py``).

``make schema-check`` (run by ``make test``): the public API schema the code would serve (the
subgraphs' SDL exported from the code and composed, without ``@inaccessible`` fields and
federation directives) is compared with the released one, ``schema/supergraph.public.graphql``,
by graphql-core's ``find_breaking_changes``: a removed or retyped field, argument or enum value,
a new required argument or input field... fails, naming each; dangerous changes (a new enum
value, a changed default...) are printed and pass. ``make schema-release`` makes the current
schema the released one: the explicit step of a breaking change (README, "The API schema").
"""

from __future__ import annotations

import importlib
import sys
import tempfile
from pathlib import Path

import yaml
from graphql import build_schema, find_breaking_changes, find_dangerous_changes

from stack.gateway import SUPERGRAPH_CONFIG, compose_supergraph, write_error_codes
from stack.local import SUBGRAPHS
from stack.process import REPO_ROOT

RELEASED = REPO_ROOT / "schema" / "supergraph.public.graphql"


def export_sdl(name: str) -> str:
    module = importlib.import_module(f"subgraphs.{name}.graphql.schema")
    return module.schema.as_str().rstrip() + "\n"


def write_schemas(root: Path) -> None:
    for name in SUBGRAPHS:
        (root / "subgraphs" / name / "schema.graphql").write_text(export_sdl(name))
    write_error_codes()


def public_sdl_from_code() -> str:
    """The API schema clients would see if the code were served now."""
    config = yaml.safe_load(SUPERGRAPH_CONFIG.read_text())
    with tempfile.TemporaryDirectory(prefix="shop-schema-") as tmp:
        folder = Path(tmp)
        for name in SUBGRAPHS:
            (folder / f"{name}.graphql").write_text(export_sdl(name))
            config["subgraphs"][name]["schema"]["file"] = str(folder / f"{name}.graphql")
        (folder / "supergraph.yaml").write_text(yaml.safe_dump(config))
        compose_supergraph(
            folder / "supergraph.graphql",
            config_path=folder / "supergraph.yaml",
            public_out=folder / "public.graphql",
        )
        return (folder / "public.graphql").read_text()


def schema_changes(released: str, current: str) -> tuple[list[str], list[str]]:
    """The breaking and the dangerous changes from ``released`` to ``current`` (SDL), each as
    ``KIND: description`` (the description names the type, field, argument or value)."""
    before, after = build_schema(released), build_schema(current)
    breaking = [f"{c.type.name}: {c.description}" for c in find_breaking_changes(before, after)]
    dangerous = [f"{c.type.name}: {c.description}" for c in find_dangerous_changes(before, after)]
    return breaking, dangerous


def check_schema() -> int:
    """``make schema-check``: 1 when the code would break clients of the released schema."""
    if not RELEASED.exists():
        print(f"{RELEASED.relative_to(REPO_ROOT)} is missing: run `make schema-release`.")
        return 1
    breaking, dangerous = schema_changes(RELEASED.read_text(), public_sdl_from_code())
    for change in dangerous:
        print(f"dangerous (allowed): {change}")
    for change in breaking:
        print(f"BREAKING: {change}", file=sys.stderr)
    if breaking:
        print(
            f"{len(breaking)} breaking change(s) to the released API schema "
            f"({RELEASED.relative_to(REPO_ROOT)}). Keep the old field, argument or value beside "
            "the new one (deprecate it), or, if breaking clients is intended, release the new "
            "schema with `make schema-release` and say so in the commit.",
            file=sys.stderr,
        )
        return 1
    print("The API schema keeps every promise of the released one.")
    return 0


def release_schema() -> None:
    """``make schema-release``: the current API schema becomes the released one."""
    RELEASED.parent.mkdir(parents=True, exist_ok=True)
    RELEASED.write_text(public_sdl_from_code())
    print(f"wrote {RELEASED.relative_to(REPO_ROOT)}")
