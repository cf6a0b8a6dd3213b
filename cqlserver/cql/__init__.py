"""CQL text handling: a lexer, statement dataclasses and a recursive-descent parser."""

from .parser import parse

__all__ = ["parse"]
