"""The service suites read like the code: ``tests/<name>/`` has a package per layer of
``subgraphs/<name>/`` it tests (``domain/``, ``service/``, ``store/``, ``graphql/``,
``events/``), each of ``test_<topic>.py`` files (and the layer's ``conftest.py`` where its
tests share fixtures), and at its root only ``conftest.py``, helper modules (``fakes.py``,
``helpers.py``) and ``test_app.py`` (the process's own wiring). A test file anywhere else
fails here with the folder it belongs in (docs/ARCHITECTURE.md, ``tests/``).

``service/`` and ``domain/`` hold the tests that need no engine (fakes through the ports): a
test there that tests/conftest.py marks ``engine`` fails too, since it belongs in ``store/``
(or, driven through the app, in ``graphql/``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUBGRAPHS = sorted(p.name for p in (ROOT / "subgraphs").iterdir() if (p / "app.py").exists())
LAYERS = {
    "domain": "the pure domain",
    "service": "the use cases on fakes of the ports, no engine",
    "store": "the real engine",
    "graphql": "through the app: the GraphQL API (and items' REST)",
    "events": "consumers, the outbox, the relay",
}
LAYER_FILES = {"__init__.py", "conftest.py"}  # conftest.py: the fixtures of that layer's tests
ROOT_TEST = "test_app.py"  # the process's own wiring: settings, start-up, health
NO_ENGINE = ("domain", "service")


def where_it_goes(suite: str, name: str, code: Path) -> str:
    """Where the test file ``name`` of ``tests/<suite>/`` belongs: the layer whose module
    it is named after, or the layer it is named after, else the choice of the five."""
    topic = name.removeprefix("test_").removesuffix(".py")
    layers = [layer for layer in LAYERS if (code / suite / layer / f"{topic}.py").exists()]
    if topic in LAYERS:
        layers = [topic]
    if layers:
        return " or ".join(f"tests/{suite}/{layer}/" for layer in layers)
    return "the folder of the layer it drives: " + "; ".join(
        f"tests/{suite}/{layer}/ ({what})" for layer, what in LAYERS.items()
    )


def misplaced(tests: Path, code: Path, suites: list[str]) -> list[str]:
    """Every file or folder of the service suites under ``tests`` that breaks the layout,
    each with what to do about it."""
    found: list[str] = []
    for suite in suites:
        root = tests / suite
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            shown = f"tests/{suite}/{rel.as_posix()}"
            if "__pycache__" in rel.parts or path.suffix not in {"", ".py"}:
                continue
            if path.is_dir():
                if len(rel.parts) > 1:
                    found.append(f"{shown}/: no folders inside a layer's folder")
                elif rel.name not in LAYERS:
                    found.append(
                        f"{shown}/: a suite's folders are the layers of subgraphs/{suite}/: "
                        + ", ".join(f"{layer}/" for layer in LAYERS)
                    )
                elif not (path / "__init__.py").exists():
                    found.append(f"{shown}/: a layer's folder is a package (add __init__.py)")
                continue
            if len(rel.parts) == 1:
                if rel.name.startswith("test_") and rel.name != ROOT_TEST:
                    found.append(
                        f"{shown}: at a suite's root only conftest.py, helpers and "
                        f"{ROOT_TEST}; move it to {where_it_goes(suite, rel.name, code)}"
                    )
            elif rel.name not in LAYER_FILES and not rel.name.startswith("test_"):
                found.append(
                    f"{shown}: a layer's folder holds test_<topic>.py files (and its "
                    f"conftest.py) only; a helper goes at tests/{suite}/ or, shared, in "
                    "tests/support/"
                )
    return found


def test_every_test_file_of_a_service_suite_is_in_its_layers_folder() -> None:
    found = misplaced(ROOT / "tests", ROOT / "subgraphs", SUBGRAPHS)
    assert not found, "the tests' layout (docs/ARCHITECTURE.md):\n" + "\n".join(found)


def test_a_misplaced_file_is_reported_with_where_it_goes(tmp_path: Path) -> None:
    code = tmp_path / "subgraphs"
    (code / "shop" / "service").mkdir(parents=True)
    (code / "shop" / "service" / "refunds.py").touch()
    suite = tmp_path / "tests" / "shop"
    (suite / "graphql").mkdir(parents=True)
    (suite / "graphql" / "__init__.py").touch()
    (suite / "helpers").mkdir()
    (suite / "store").mkdir()
    for name in ("conftest.py", "fakes.py", "test_app.py", "graphql/test_refunds.py"):
        (suite / name).touch()
    for name in ("graphql/conftest.py",):
        (suite / name).touch()
    for name in ("test_refunds.py", "test_store.py", "test_crash.py", "graphql/documents.py"):
        (suite / name).touch()

    found = misplaced(tmp_path / "tests", code, ["shop"])

    assert found == [
        "tests/shop/graphql/documents.py: a layer's folder holds test_<topic>.py files (and"
        " its conftest.py) only; a helper goes at tests/shop/ or, shared, in tests/support/",
        "tests/shop/helpers/: a suite's folders are the layers of subgraphs/shop/: domain/,"
        " service/, store/, graphql/, events/",
        "tests/shop/store/: a layer's folder is a package (add __init__.py)",
        "tests/shop/test_crash.py: at a suite's root only conftest.py, helpers and test_app.py;"
        " move it to the folder of the layer it drives: tests/shop/domain/ (the pure domain);"
        " tests/shop/service/ (the use cases on fakes of the ports, no engine);"
        " tests/shop/store/ (the real engine);"
        " tests/shop/graphql/ (through the app: the GraphQL API (and items' REST));"
        " tests/shop/events/ (consumers, the outbox, the relay)",
        "tests/shop/test_refunds.py: at a suite's root only conftest.py, helpers and"
        " test_app.py; move it to tests/shop/service/",
        "tests/shop/test_store.py: at a suite's root only conftest.py, helpers and"
        " test_app.py; move it to tests/shop/store/",
    ]


@pytest.mark.engine  # another pytest process (15 s of collection): make test, not the fast tier
def test_the_domain_and_service_tests_need_no_engine() -> None:
    """Collected as ``make test-unit`` collects: none of them is marked ``engine``."""
    folders = [
        f"tests/{suite}/{layer}"
        for suite in SUBGRAPHS
        for layer in NO_ENGINE
        if (ROOT / "tests" / suite / layer).is_dir()
    ]
    assert folders
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "engine", *folders],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SHOP_TESTS_UNIT": "1"},
    )
    engine_tests = [line for line in collected.stdout.splitlines() if "::" in line]
    assert collected.returncode in (0, 5), collected.stdout + collected.stderr
    assert not engine_tests, (
        "these need an engine: move them to store/ (or graphql/, through the app):\n"
        + "\n".join(engine_tests)
    )
