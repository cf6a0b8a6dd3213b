"""The error-code catalogue is complete: every code a service raises is listed, once."""

from __future__ import annotations

import importlib
import pkgutil

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
