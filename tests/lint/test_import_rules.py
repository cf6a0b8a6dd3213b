"""The layering rule that ``make lint`` enforces (ruff's banned-api, TID251): only a
subgraph's ``store/`` imports a database driver, and ``domain/`` imports only the standard
library and the kit's standard-library modules. Each case runs ruff on a scratch source given
on stdin under a path in the tree, so the per-folder configuration of that path applies and
no file is written."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).with_name("ruff")
SUBGRAPHS = ("accounts", "items", "orders", "payments")
# What domain/ may import from the project: the kit modules that import only the standard
# library (and each other).
DOMAIN_KIT = {
    "shopkit.addresses",
    "shopkit.countries",
    "shopkit.errors",
    "shopkit.idempotency",
    "shopkit.money",
    "shopkit.order_lines",
    "shopkit.paging",
    "shopkit.text",
}


def banned(source: str, path: str) -> list[str]:
    """The TID251 findings of ruff on ``source`` as if it were the file at ``path``."""
    result = subprocess.run(
        [
            str(RUFF),
            "check",
            "--select=TID251",
            "--output-format=concise",
            "--no-cache",
            "--stdin-filename",
            path,
            "-",
        ],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    return [line for line in result.stdout.splitlines() if "TID251" in line]


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("subgraphs/orders/app.py", "import acsylla\n"),
        ("subgraphs/orders/service/orders.py", "from acsylla import create_statement\n"),
        (
            "subgraphs/items/graphql/queries.py",
            "from motor.motor_asyncio import AsyncIOMotorClient\n",
        ),
        ("subgraphs/items/service/items.py", "from bson import ObjectId\n"),
        ("subgraphs/items/events/handlers.py", "import pymongo\n"),
        ("subgraphs/items/rest.py", "from odmantic import Model\n"),
        ("subgraphs/payments/service/charges.py", "from sqlalchemy import select\n"),
        ("subgraphs/payments/graphql/types.py", "from sqlmodel import SQLModel\n"),
        ("subgraphs/accounts/service/accounts.py", "import aiomysql\n"),
        ("subgraphs/accounts/app.py", "import sqlalchemy.exc\n"),
        ("shopkit/app.py", "import pymongo\n"),
    ],
)
def test_a_driver_outside_store_fails_lint(path: str, source: str) -> None:
    assert banned(source, path), f"{source!r} in {path} passed the banned-import rule"


@pytest.mark.parametrize("subgraph", SUBGRAPHS)
@pytest.mark.parametrize(
    "source",
    [
        "import acsylla\n",
        "from sqlmodel import Field\n",
        "import pydantic\n",
        "from strawberry import type\n",
        "from shopkit.auth import Identity\n",
        "from shopkit.events import cloud_event\n",
        "import shopkit.settings\n",
    ],
)
def test_domain_imports_nothing_but_the_standard_library_and_the_kits_errors(
    subgraph: str, source: str
) -> None:
    path = f"subgraphs/{subgraph}/domain/scratch.py"
    assert banned(source, path), f"{source!r} in {path} passed the banned-import rule"


@pytest.mark.parametrize("subgraph", SUBGRAPHS)
def test_domain_may_not_import_an_outer_layer(subgraph: str) -> None:
    for layer in ("service", "store", "graphql", "events", "app", "settings"):
        source = f"from subgraphs.{subgraph}.{layer} import x\n"
        assert banned(source, f"subgraphs/{subgraph}/domain/scratch.py"), source


@pytest.mark.parametrize("subgraph", SUBGRAPHS)
def test_domain_may_import_the_standard_library_and_the_kits_standard_library_modules(
    subgraph: str,
) -> None:
    source = (
        "import dataclasses\nimport uuid\nfrom datetime import datetime\n"
        "from shopkit import errors, order_lines\nfrom shopkit.errors import InvalidInput\n"
        f"from shopkit.money import Money\nfrom subgraphs.{subgraph}.domain import events\n"
    )
    assert banned(source, f"subgraphs/{subgraph}/domain/scratch.py") == []


def test_store_may_import_its_driver() -> None:
    assert banned("import acsylla\n", "subgraphs/orders/store/orders.py") == []
    assert banned("from sqlmodel import select\n", "subgraphs/payments/store/payments.py") == []


def imported_modules(folder: Path) -> set[str]:
    """The absolute modules imported anywhere under ``folder``."""
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
    return found


def covered(module: str, bans: set[str]) -> bool:
    parts = module.split(".")
    return any(".".join(parts[:n]) in bans for n in range(1, len(parts) + 1))


def test_the_domain_ban_list_names_everything_but_the_standard_library() -> None:
    """banned-api can only deny, so the domain rule is an allow list only if the deny list
    names every other module: every third-party package the project's code imports, every
    kit module but the standard-library ones, and every outer layer of a subgraph."""
    config = tomllib.loads((ROOT / "subgraphs/ruff-domain.toml").read_text())
    bans = set(config["lint"]["flake8-tidy-imports"]["banned-api"])
    imported: set[str] = set()
    for folder in ("shopkit", "subgraphs", "stack", "ops", "cqlserver", "tests"):
        imported |= imported_modules(ROOT / folder)
    third_party = {
        m.split(".")[0]
        for m in imported
        if m.split(".")[0] not in sys.stdlib_module_names
        and m.split(".")[0] not in {"shopkit", "subgraphs", "stack", "ops", "cqlserver", "tests"}
        and m.split(".")[0] not in {"pytest", "_pytest", "mypy", "vulture"}
    }
    kit = {
        "shopkit." + p.relative_to(ROOT / "shopkit").with_suffix("").parts[0]
        for p in (ROOT / "shopkit").iterdir()
        if p.name != "__init__.py" and (p.suffix == ".py" or (p / "__init__.py").exists())
    } - DOMAIN_KIT
    layers = {
        f"subgraphs.{s}.{p.stem}"
        for s in SUBGRAPHS
        for p in (ROOT / "subgraphs" / s).iterdir()
        if p.stem not in {"domain", "__init__", "__pycache__"}
        and (p.suffix == ".py" or (p / "__init__.py").exists())
    }
    missing = sorted(m for m in third_party | kit | layers if not covered(m, bans))
    assert not missing, f"add to subgraphs/ruff-domain.toml's banned-api: {missing}"


@pytest.mark.parametrize("subgraph", SUBGRAPHS)
def test_every_domain_uses_the_domain_rule(subgraph: str) -> None:
    config = tomllib.loads((ROOT / "subgraphs" / subgraph / "domain/ruff.toml").read_text())
    assert config["extend"] == "../../ruff-domain.toml"
