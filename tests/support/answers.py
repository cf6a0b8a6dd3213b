"""What a GraphQL answer says, read the same way by every suite: the ``extensions.code`` of its
errors (shopkit/errors.py documents each code a client can see)."""

from __future__ import annotations

from typing import Any


def error_codes(body: dict[str, Any]) -> list[str]:
    """The code of each error, in order (``[]`` when the answer has none); an error without a
    code shows as ``<no code: its message>``, which no expected code equals."""
    return [
        code
        if isinstance(code := error.get("extensions", {}).get("code"), str)
        else f"<no code: {error.get('message')}>"
        for error in body.get("errors") or []
    ]


def error_code(body: dict[str, Any]) -> str:
    """The code of the first error of an answer that must have one."""
    assert body.get("errors"), f"expected an error, got {body}"
    return str(body["errors"][0]["extensions"]["code"])
