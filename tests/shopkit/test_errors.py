"""The error-code catalogue is complete: every code a service raises is listed, once, and the
docs list exactly the catalogue."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import shopkit
import subgraphs
from shopkit.errors import CATALOGUE, CODES, ShopError


def all_subclasses(cls: type[ShopError]) -> set[type[ShopError]]:
    found: set[type[ShopError]] = set()
    for sub in cls.__subclasses__():
        found |= {sub} | all_subclasses(sub)
    return found


def import_everything() -> None:
    for package in (shopkit, subgraphs):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if ".migrations" in module.name:
                continue
            importlib.import_module(module.name)


def test_every_code_a_shop_error_carries_is_in_the_catalogue() -> None:
    import_everything()
    classes = {ShopError} | all_subclasses(ShopError)
    assert len(classes) > 8  # the kit's own and the services' (IdempotencyKeyReused...)
    missing = {f"{c.__module__}.{c.__qualname__}: {c.code}" for c in classes if c.code not in CODES}
    assert not missing, missing
    for cls in classes:
        assert CODES[cls.code].http_status == cls.http_status, cls


def test_each_code_is_listed_once_with_a_meaning_and_an_http_status() -> None:
    assert len(CODES) == len(CATALOGUE)
    for entry in CATALOGUE:
        assert entry.code.isupper()
        assert entry.meaning.endswith((".", ")"))
        assert 400 <= entry.http_status <= 599


def documented_codes() -> dict[str, int]:
    """The codes and statuses of the table in docs/api-conventions.md, "Errors"."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "api-conventions.md").read_text()
    section = text.split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \| (\d{3}) \|", section, flags=re.MULTILINE)
    assert len(rows) == len(set(dict(rows))), "a code is listed twice"
    return {code: int(status) for code, status in rows}


def test_the_docs_list_exactly_the_catalogued_codes_with_their_status() -> None:
    """A code added to the catalogue (or one the docs list that no longer exists) fails here:
    a client reading the docs sees every code it can receive, and no other."""
    assert documented_codes() == {entry.code: entry.http_status for entry in CATALOGUE}
