"""Tokenizer for the subset of CQL the server understands.

Identifiers are case-insensitive (lowercased) unless double-quoted; keywords are
not reserved here: the parser matches them by value where the grammar expects
them, so words like ``key`` stay usable as column names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cqlserver.errors import CqlSyntaxError

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+|--[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?![\w-])
  | (?P<blob>0[xX][0-9a-fA-F]*)
  | (?P<float>\d+\.\d*(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<int>\d+)
  | (?P<ident>[a-zA-Z][a-zA-Z0-9_]*)
  | (?P<qident>"(?:""|[^"])*")
  | (?P<string>'(?:''|[^'])*')
  | (?P<dollar>\$\$.*?\$\$)
  | (?P<named_bind>:[a-zA-Z_][a-zA-Z0-9_]*)
  | (?P<op><=|>=|!=|[-+*/=<>(),;.\[\]{}:?%])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(slots=True)
class Token:
    kind: str  # ident, qident, string, int, float, uuid, blob, named_bind, op, eof
    value: str
    pos: int
    text: str  # original text

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "ident" else ""


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    n = len(query)
    while pos < n:
        m = _TOKEN_RE.match(query, pos)
        if not m:
            line = query.count("\n", 0, pos) + 1
            col = pos - (query.rfind("\n", 0, pos) + 1)
            raise CqlSyntaxError(
                f"line {line}:{col} no viable alternative at character '{query[pos]}'"
            )
        kind = m.lastgroup or ""
        text = m.group()
        if kind != "ws":
            if kind == "ident":
                value = text.lower()
            elif kind == "qident":
                kind, value = "ident_q", text[1:-1].replace('""', '"')
            elif kind == "string":
                value = text[1:-1].replace("''", "'")
            elif kind == "dollar":
                kind, value = "string", text[2:-2]
            elif kind == "named_bind":
                value = text[1:].lower()
            else:
                value = text
            tokens.append(Token(kind, value, pos, text))
        pos = m.end()
    tokens.append(Token("eof", "", n, "<EOF>"))
    return tokens
