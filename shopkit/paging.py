"""The one paging rule of every list that can grow (docs/api-conventions.md, "Lists").

A page is asked for with ``first`` (1 to ``PAGE_MAX``, ``PAGE_DEFAULT`` when omitted) and
``after`` (the cursor of the last node the client has, or nothing for the first page), and
answers its nodes, each with its own cursor, and whether more follow. GraphQL serves a page as
a Relay connection (``shopkit.graphql_types.Connection``); REST may serve the same page.

Cursors are opaque to clients: ``encode_cursor(kind, value)`` is URL-safe base64 of
``kind:value``, and ``decode_cursor`` refuses a cursor of another kind (another list's) or one
that is not base64, with ``BAD_USER_INPUT`` naming ``after``. Two ways to page, by what the
list is:

* a list that changes anywhere (the catalogue, an account's orders, newest first) is paged by
  a key the store can seek to (an item's id; an order's creation time and id), so a node
  added or removed elsewhere neither repeats nor skips one;
* a list that only grows at its end (an order's history, its payment attempts, a payment's
  refunds, all oldest first) is held whole by its owner and paged by position
  (``page_of_list``): a position never moves.

Standard library only, so any ``domain/`` or ``service/`` may import it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from shopkit.errors import InvalidInput

PAGE_DEFAULT = 20
PAGE_MAX = 100

T = TypeVar("T")


def check_first(first: int) -> int:
    """``first`` if it is a page size the shop serves (1 to ``PAGE_MAX``)."""
    if isinstance(first, bool) or not isinstance(first, int) or not 1 <= first <= PAGE_MAX:
        raise InvalidInput(f"'first' must be between 1 and {PAGE_MAX}.", field="first")
    return first


def encode_cursor(kind: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(kind: str, cursor: str) -> str:
    """The value ``encode_cursor(kind, value)`` was given; ``BAD_USER_INPUT`` otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError, AttributeError):
        raw = ""
    prefix = f"{kind}:"
    if not raw.startswith(prefix) or raw == prefix:
        raise InvalidInput("The cursor is not valid.", field="after")
    return raw.removeprefix(prefix)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its nodes with their cursors, in order, and whether more follow."""

    edges: tuple[tuple[str, T], ...]
    has_next_page: bool

    @property
    def nodes(self) -> list[T]:
        return [node for _, node in self.edges]

    @property
    def end_cursor(self) -> str | None:
        return self.edges[-1][0] if self.edges else None


def page_of(nodes: Sequence[T], *, first: int, cursor_of: Callable[[T], str]) -> Page[T]:
    """The page of a list paged by key: ``nodes`` are what the store answered after the
    cursor, asked for ``first + 1`` so that one more tells there is a next page."""
    shown = nodes[:first]
    return Page(tuple((cursor_of(n), n) for n in shown), has_next_page=len(nodes) > first)


def page_of_list(nodes: Sequence[T], *, kind: str, first: int, after: str | None) -> Page[T]:
    """A page of a whole list that only grows at its end, paged by position."""
    first = check_first(first)
    start = 0
    if after is not None:
        position = decode_cursor(kind, after)
        if not position.isdigit():
            raise InvalidInput("The cursor is not valid.", field="after")
        start = int(position) + 1
    shown = nodes[start : start + first]
    return Page(
        tuple((encode_cursor(kind, str(start + i)), n) for i, n in enumerate(shown)),
        has_next_page=start + first < len(nodes),
    )
