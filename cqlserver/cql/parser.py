"""Hand-written recursive-descent parser for CQL statements.

``parse(text)`` returns ``(statement, bind_count, bind_names)``. Bind markers
(``?`` and ``:name``) are numbered in order of appearance; the executor finds
each marker's column from the clause it appears in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from cqlserver.errors import CqlSyntaxError

from . import ast
from .lexer import Token, tokenize

T = TypeVar("T")


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.binds: list[str | None] = []

    # ---- token helpers ---------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        if t.kind != "eof":
            self.i += 1
        return t

    def error(self, expecting: str | None = None) -> CqlSyntaxError:
        t = self.tok
        line = self.text.count("\n", 0, t.pos) + 1
        col = t.pos - (self.text.rfind("\n", 0, t.pos) + 1)
        if expecting:
            return CqlSyntaxError(
                f"line {line}:{col} mismatched input '{t.text}' expecting {expecting}"
            )
        return CqlSyntaxError(f"line {line}:{col} no viable alternative at input '{t.text}'")

    def is_kw(self, *words: str) -> bool:
        return self.tok.kind == "ident" and self.tok.value.upper() in words

    def accept_kw(self, *words: str) -> bool:
        return self._take(self.is_kw(*words))

    def expect_kw(self, word: str) -> None:
        if not self.accept_kw(word):
            raise self.error(f"K_{word}")

    def is_op(self, op: str) -> bool:
        return self.tok.kind == "op" and self.tok.value == op

    def accept_op(self, op: str) -> bool:
        return self._take(self.is_op(op))

    def _take(self, matched: bool) -> bool:
        """Moves past the current token if it ``matched``; answers whether it did."""
        if matched:
            self.advance()
        return matched

    def expect_op(self, op: str) -> None:
        if not self.accept_op(op):
            raise self.error(f"'{op}'")

    def ident(self) -> str:
        t = self.tok
        if t.kind in ("ident", "ident_q"):
            self.advance()
            return t.value
        raise self.error("IDENT")

    def terms_until(self, close: str) -> list[Any]:
        """Comma-separated terms up to ``close``, which is consumed; none if it comes first."""
        items: list[Any] = []
        while not self.is_op(close):
            items.append(self.term())
            if not self.accept_op(","):
                break
        self.expect_op(close)
        return items

    def qualified(self) -> tuple[str | None, str]:
        first = self.ident()
        if self.accept_op("."):
            return first, self.ident()
        return None, first

    def column_element(self) -> tuple[str, Any]:
        """``column`` or ``column[term]``, as an IF condition and a DELETE name them: the
        column and the element's term (None for the whole column)."""
        column = self.ident()
        element = None
        if self.accept_op("["):
            element = self.term()
            self.expect_op("]")
        return column, element

    def comma_separated(self, item: Callable[[], T]) -> list[T]:
        """One or more of what ``item`` parses, separated by commas."""
        items = [item()]
        while self.accept_op(","):
            items.append(item())
        return items

    def ordering(self) -> tuple[str, str]:
        """``column [ASC | DESC]``, as CLUSTERING ORDER BY and ORDER BY write it: the column
        and its direction (ASC when none is named)."""
        column = self.ident()
        direction = "ASC"
        if self.is_kw("ASC", "DESC"):
            direction = self.advance().value.upper()
        return column, direction

    def if_not_exists(self) -> bool:
        if not self.accept_kw("IF"):
            return False
        self.expect_kw("NOT")
        self.expect_kw("EXISTS")
        return True

    def if_exists(self) -> bool:
        if self.is_kw("IF") and self.peek().kind == "ident" and self.peek().value == "exists":
            self.advance()
            self.advance()
            return True
        return False

    # ---- entry -------------------------------------------------------------------
    def parse(self) -> Any:
        stmt = self.statement()
        self.accept_op(";")
        if self.tok.kind != "eof":
            raise self.error("<EOF>")
        return stmt

    def statement(self) -> Any:
        if self.accept_kw("SELECT"):
            return self.select()
        if self.accept_kw("INSERT"):
            return self.insert()
        if self.accept_kw("UPDATE"):
            return self.update()
        if self.accept_kw("DELETE"):
            return self.delete()
        if self.accept_kw("BEGIN"):
            return self.batch()
        if self.accept_kw("USE"):
            return ast.Use(self.ident())
        if self.accept_kw("CREATE"):
            return self.create()
        if self.accept_kw("DROP"):
            return self.drop()
        if self.accept_kw("TRUNCATE"):
            self.accept_kw("TABLE")
            return ast.Truncate(*self.qualified())
        if self.accept_kw("ALTER"):
            return self.alter()
        raise self.error()

    # ---- DDL -------------------------------------------------------------------------
    def create(self) -> Any:
        if self.accept_kw("KEYSPACE", "SCHEMA"):
            ine = self.if_not_exists()
            name = self.ident()
            self.expect_kw("WITH")
            return ast.CreateKeyspace(name, ine, self.properties())
        if self.accept_kw("TABLE", "COLUMNFAMILY"):
            return self.create_table()
        if self.accept_kw("TYPE"):
            ine = self.if_not_exists()
            ks, name = self.qualified()
            self.expect_op("(")
            fields = []
            while True:
                fname = self.ident()
                fields.append((fname, self.type_ref()))
                if not self.accept_op(","):
                    break
            self.expect_op(")")
            return ast.CreateType(ks, name, ine, fields)
        if self.accept_kw("INDEX"):
            ine = self.if_not_exists()
            index_name = None if self.is_kw("ON") else self.ident()
            self.expect_kw("ON")
            ks, table = self.qualified()
            self.expect_op("(")
            col = self.ident()
            self.expect_op(")")
            return ast.CreateIndex(ks, table, index_name, col, ine)
        raise self.error("K_TABLE")

    def create_table(self) -> ast.CreateTable:
        ine = self.if_not_exists()
        ks, name = self.qualified()
        self.expect_op("(")
        cols: list[ast.ColumnDef] = []
        pk: list[str] = []
        ck: list[str] = []
        while True:
            if self.is_kw("PRIMARY") and self.peek().kind == "ident" and self.peek().value == "key":
                self.advance()
                self.advance()
                self.expect_op("(")
                if self.accept_op("("):
                    pk.append(self.ident())
                    while self.accept_op(","):
                        pk.append(self.ident())
                    self.expect_op(")")
                else:
                    pk.append(self.ident())
                while self.accept_op(","):
                    ck.append(self.ident())
                self.expect_op(")")
            else:
                cname = self.ident()
                ctype = self.type_ref()
                static = self.accept_kw("STATIC")
                cols.append(ast.ColumnDef(cname, ctype, static))
                if self.accept_kw("PRIMARY"):
                    self.expect_kw("KEY")
                    pk.append(cname)
            if not self.accept_op(","):
                break
            if self.is_op(")"):
                break
        self.expect_op(")")
        options: dict[str, Any] = {}
        order: dict[str, str] = {}
        if self.accept_kw("WITH"):
            while True:
                if self.accept_kw("CLUSTERING"):
                    self.expect_kw("ORDER")
                    self.expect_kw("BY")
                    self.expect_op("(")
                    order.update(self.comma_separated(self.ordering))
                    self.expect_op(")")
                elif self.accept_kw("COMPACT"):
                    self.expect_kw("STORAGE")
                else:
                    key = self.ident()
                    self.expect_op("=")
                    options[key] = self.property_value()
                if not self.accept_kw("AND"):
                    break
        return ast.CreateTable(ks, name, ine, cols, pk, ck, order, options)

    def properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {}
        while True:
            key = self.ident()
            self.expect_op("=")
            props[key] = self.property_value()
            if not self.accept_kw("AND"):
                break
        return props

    def property_value(self) -> Any:
        t = self.tok
        if self.accept_op("{"):
            out: dict[str, Any] = {}
            while not self.is_op("}"):
                k = self.property_value()
                self.expect_op(":")
                out[str(k)] = self.property_value()
                if not self.accept_op(","):
                    break
            self.expect_op("}")
            return out
        if t.kind in ("string", "int", "float", "ident", "ident_q"):
            self.advance()
            if t.kind == "int":
                return int(t.value)
            if t.kind == "float":
                return float(t.value)
            if t.kind == "ident" and t.value in ("true", "false"):
                return t.value == "true"
            return t.value
        if self.accept_op("-"):
            v = self.property_value()
            return -v
        raise self.error("property value")

    def type_ref(self) -> ast.TypeRef:
        name = self.ident()
        if name in ("list", "set", "map", "frozen", "tuple"):
            self.expect_op("<")
            params = [self.type_ref()]
            while self.accept_op(","):
                params.append(self.type_ref())
            self.expect_op(">")
            return ast.TypeRef(name, params)
        if self.accept_op("."):
            return ast.TypeRef(self.ident(), [], name)
        return ast.TypeRef(name)

    def drop(self) -> ast.Drop:
        if not self.is_kw("KEYSPACE", "TABLE", "TYPE", "INDEX", "COLUMNFAMILY", "SCHEMA"):
            raise self.error("K_TABLE")
        what = self.advance().value.upper()
        what = {"COLUMNFAMILY": "TABLE", "SCHEMA": "KEYSPACE"}.get(what, what)
        ie = self.if_exists()
        if what == "KEYSPACE":
            return ast.Drop(what, None, self.ident(), ie)
        ks, name = self.qualified()
        return ast.Drop(what, ks, name, ie)

    def alter(self) -> ast.AlterTableAdd:
        self.expect_kw("TABLE")
        if_exists = self.if_exists()
        ks, name = self.qualified()
        self.expect_kw("ADD")
        if_not_exists = self.if_not_exists()
        cols = []
        paren = self.accept_op("(")
        while True:
            cname = self.ident()
            ctype = self.type_ref()
            cols.append(ast.ColumnDef(cname, ctype, self.accept_kw("STATIC")))
            if not (paren and self.accept_op(",")):
                break
        if paren:
            self.expect_op(")")
        return ast.AlterTableAdd(ks, name, cols, if_exists, if_not_exists)

    # ---- terms -------------------------------------------------------------------------
    def bind(self, name: str | None = None) -> ast.BindMarker:
        self.binds.append(name)
        return ast.BindMarker(len(self.binds) - 1, name)

    def term(self) -> Any:
        t = self.tok
        k = t.kind
        if k == "op":
            if t.value == "?":
                self.advance()
                return self.bind()
            if t.value == "-":
                self.advance()
                n = self.tok
                if n.kind in ("int", "float"):
                    self.advance()
                    return ast.Literal(n.kind, "-" + n.value)
                if n.kind == "ident" and n.value in ("nan", "infinity"):
                    self.advance()
                    return ast.Literal("float", "-" + n.value)
                raise self.error()
            if t.value == "[":
                self.advance()
                items = self.terms_until("]")
                return ast.Collection("list", items)
            if t.value == "{":
                return self.brace_literal()
            if t.value == "(":
                self.advance()
                items = [self.term()]
                while self.accept_op(","):
                    items.append(self.term())
                self.expect_op(")")
                return ast.Collection("tuple", items)
        if k == "named_bind":
            self.advance()
            return self.bind(t.value)
        if k == "string":
            self.advance()
            return ast.Literal("string", t.value)
        if k in ("int", "float", "uuid", "blob"):
            self.advance()
            return ast.Literal(k, t.value)
        if k == "ident":
            v = t.value
            if v in ("true", "false"):
                self.advance()
                return ast.Literal("bool", v == "true")
            if v == "null":
                self.advance()
                return ast.Literal("null", None)
            if v in ("nan", "infinity"):
                self.advance()
                return ast.Literal("float", v)
            if self.peek().kind == "op" and self.peek().value == "(":
                self.advance()
                self.advance()
                args = self.terms_until(")")
                return ast.FunctionCall(v, args)
        raise self.error()

    def brace_literal(self) -> ast.Collection:
        self.expect_op("{")
        if self.accept_op("}"):
            return ast.Collection("map", [])
        # UDT literal: {field: value} where the key is an identifier
        if (
            self.tok.kind in ("ident", "ident_q")
            and self.peek().kind == "op"
            and self.peek().value == ":"
            and self.tok.value not in ("true", "false", "null")
        ):
            items = []
            while True:
                f = self.ident()
                self.expect_op(":")
                items.append((f, self.term()))
                if not self.accept_op(","):
                    break
            self.expect_op("}")
            return ast.Collection("udt", items)
        first = self.term()
        if self.accept_op(":"):
            pairs = [(first, self.term())]
            while self.accept_op(","):
                k = self.term()
                self.expect_op(":")
                pairs.append((k, self.term()))
            self.expect_op("}")
            return ast.Collection("map", pairs)
        items = [first]
        while self.accept_op(","):
            items.append(self.term())
        self.expect_op("}")
        return ast.Collection("set", items)

    # ---- DML -------------------------------------------------------------------------------
    def using(self) -> tuple[Any, Any]:
        ttl = ts = None
        if self.accept_kw("USING"):
            while True:
                if self.accept_kw("TTL"):
                    ttl = self.term()
                elif self.accept_kw("TIMESTAMP"):
                    ts = self.term()
                else:
                    raise self.error("K_TTL")
                if not self.accept_kw("AND"):
                    break
        return ttl, ts

    def where(self) -> list[ast.Relation]:
        rels = []
        while True:
            rels.append(self.relation())
            if not self.accept_kw("AND"):
                break
        return rels

    def relation(self) -> ast.Relation:
        if self.is_kw("TOKEN") and self.peek().value == "(":
            raise CqlSyntaxError("token() restrictions are not supported by this server")
        col = self.ident()
        if self.accept_kw("IN"):
            if self.is_op("?") or self.tok.kind == "named_bind":
                return ast.Relation(col, "IN", self.term())
            self.expect_op("(")
            items = self.terms_until(")")
            return ast.Relation(col, "IN", items)
        if self.accept_kw("CONTAINS"):
            op = "CONTAINS KEY" if self.accept_kw("KEY") else "CONTAINS"
            return ast.Relation(col, op, self.term())
        t = self.tok
        if t.kind == "op" and t.value in ("=", "<", ">", "<=", ">=", "!="):
            self.advance()
            return ast.Relation(col, t.value, self.term())
        raise self.error()

    def conditions(self) -> tuple[list[ast.Condition], bool]:
        """Parse an optional IF clause: (conditions, if_exists)."""
        if not self.accept_kw("IF"):
            return [], False
        if self.accept_kw("EXISTS"):
            return [], True
        conds = []
        while True:
            col, elem = self.column_element()
            if self.accept_kw("IN"):
                if self.is_op("?") or self.tok.kind == "named_bind":
                    conds.append(ast.Condition(col, "IN", self.term(), elem))
                else:
                    self.expect_op("(")
                    items = self.terms_until(")")
                    conds.append(ast.Condition(col, "IN", items, elem))
            else:
                t = self.tok
                if t.kind == "op" and t.value in ("=", "<", ">", "<=", ">=", "!="):
                    self.advance()
                    conds.append(ast.Condition(col, t.value, self.term(), elem))
                else:
                    raise self.error()
            if not self.accept_kw("AND"):
                break
        return conds, False

    def insert(self) -> ast.Insert:
        self.expect_kw("INTO")
        ks, table = self.qualified()
        self.expect_op("(")
        cols = [self.ident()]
        while self.accept_op(","):
            cols.append(self.ident())
        self.expect_op(")")
        self.expect_kw("VALUES")
        self.expect_op("(")
        vals = [self.term()]
        while self.accept_op(","):
            vals.append(self.term())
        self.expect_op(")")
        ine = self.if_not_exists()
        ttl, ts = self.using()
        if not ine:
            ine = self.if_not_exists()
        return ast.Insert(ks, table, cols, vals, ine, ttl, ts)

    def update(self) -> ast.Update:
        ks, table = self.qualified()
        ttl, ts = self.using()
        self.expect_kw("SET")
        assigns = self.comma_separated(self.assignment)
        self.expect_kw("WHERE")
        where = self.where()
        conds, ie = self.conditions()
        return ast.Update(ks, table, assigns, where, conds, ie, ttl, ts)

    def assignment(self) -> ast.Assignment:
        col = self.ident()
        if self.accept_op("["):
            key = self.term()
            self.expect_op("]")
            self.expect_op("=")
            return ast.Assignment(col, "setkey", self.term(), key)
        self.expect_op("=")
        if (
            self.tok.kind in ("ident", "ident_q")
            and self.tok.value == col
            and self.peek().kind == "op"
            and self.peek().value in ("+", "-")
        ):
            self.advance()
            op = "add" if self.advance().value == "+" else "remove"
            return ast.Assignment(col, op, self.term())
        value = self.term()
        if self.accept_op("+"):
            other = self.ident()
            if other != col:
                raise CqlSyntaxError("Only expressions of the form X = <value> + X are supported.")
            return ast.Assignment(col, "prepend", value)
        return ast.Assignment(col, "set", value)

    def delete(self) -> ast.Delete:
        cols: list[tuple[str, Any]] = []
        if not self.is_kw("FROM"):
            cols = self.comma_separated(self.column_element)
        self.expect_kw("FROM")
        ks, table = self.qualified()
        _, ts = self.using()
        self.expect_kw("WHERE")
        where = self.where()
        conds, ie = self.conditions()
        return ast.Delete(ks, table, cols, where, conds, ie, ts)

    def select(self) -> ast.Select:
        json = self.accept_kw("JSON")
        distinct = self.accept_kw("DISTINCT")
        if self.accept_op("*"):
            selectors = [ast.Selector("star")]
        else:
            selectors = self.comma_separated(self.selector)
        self.expect_kw("FROM")
        ks, table = self.qualified()
        stmt = ast.Select(ks, table, selectors, [], distinct, json=json)
        if self.accept_kw("WHERE"):
            stmt.where = self.where()
        if self.accept_kw("ORDER"):
            self.expect_kw("BY")
            stmt.order_by.extend(self.comma_separated(self.ordering))
        if self.accept_kw("PER"):
            self.expect_kw("PARTITION")
            self.expect_kw("LIMIT")
            stmt.per_partition_limit = self.term()
        if self.accept_kw("LIMIT"):
            stmt.limit = self.term()
        if self.accept_kw("ALLOW"):
            self.expect_kw("FILTERING")
            stmt.allow_filtering = True
        return stmt

    def selector(self) -> ast.Selector:
        name = self.ident()
        sel: ast.Selector
        if self.accept_op("("):
            fn = name.lower()
            if fn == "count":
                if not (self.accept_op("*") or (self.tok.kind == "int" and self.advance())):
                    self.ident()
                sel = ast.Selector("count", None, "count")
            elif fn in ("ttl", "writetime"):
                sel = ast.Selector(fn, self.ident(), f"{fn}({name})")
            else:
                raise CqlSyntaxError(f"Unknown function '{name}'")
            self.expect_op(")")
        else:
            sel = ast.Selector("column", name)
        if self.accept_kw("AS"):
            sel.alias = self.ident()
        return sel

    def batch(self) -> ast.Batch:
        kind = "LOGGED"
        if self.is_kw("UNLOGGED", "COUNTER", "LOGGED"):
            kind = self.advance().value.upper()
        self.expect_kw("BATCH")
        _, ts = self.using()
        stmts: list[ast.Insert | ast.Update | ast.Delete] = []
        while not self.is_kw("APPLY"):
            if self.accept_kw("INSERT"):
                stmts.append(self.insert())
            elif self.accept_kw("UPDATE"):
                stmts.append(self.update())
            elif self.accept_kw("DELETE"):
                stmts.append(self.delete())
            else:
                raise self.error("K_APPLY")
            self.accept_op(";")
        self.expect_kw("APPLY")
        self.expect_kw("BATCH")
        return ast.Batch(kind, stmts, ts)


def parse(text: str) -> tuple[Any, int, list[str | None]]:
    """Parse one CQL statement; returns (statement, number of bind markers, marker names)."""
    p = Parser(text)
    stmt = p.parse()
    return stmt, len(p.binds), p.binds
