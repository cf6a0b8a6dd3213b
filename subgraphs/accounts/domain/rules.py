"""The rules account fields obey. Each check returns the normalized value or raises
``InvalidInput`` naming the field, so a bad input never reaches the store."""

from __future__ import annotations

import functools
import gzip
import itertools
import re
import unicodedata
from pathlib import Path

from shopkit.errors import InvalidInput
from shopkit.text import clean_text

EMAIL_MAX = 254
NAME_MAX = 100
# NIST SP 800-63B-4 (2025), 3.1.1.2: a password that is the only authenticator must be at least
# 15 characters; OWASP ASVS 5.0 (6.2.1) strongly recommends the same. A shop's password is the
# only factor, so 15, counted in Unicode code points after runs of whitespace are folded into
# one (eight spaces and an "a" is two characters). The maximum only bounds the hashing work:
# 128 is twice the 64 that NIST asks verifiers to accept.
PASSWORD_MIN = 15
PASSWORD_MAX = 128

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_REPEATED_UNIT = re.compile(r"(.{1,4})\1+")

# Common and breached passwords that pass the length rule, lower-cased, whitespace folded;
# where the list comes from and how it is rebuilt: passwords/README.md beside this file.
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "passwords" / "common-passwords.txt.gz"


@functools.cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.rstrip("\n") for line in lines if line.strip())


def email(value: str, field: str = "email") -> str:
    """A syntactically valid ASCII address (dot-atom local part, dotted domain)."""
    cleaned = value.strip()
    if len(cleaned) > EMAIL_MAX:
        raise InvalidInput(f"The email must be at most {EMAIL_MAX} characters.", field=field)
    local, at, domain = cleaned.rpartition("@")
    labels = domain.split(".")
    valid = (
        at == "@"
        and 0 < len(local) <= 64
        and _LOCAL.match(local) is not None
        and len(labels) >= 2
        and all(_LABEL.match(label) for label in labels)
        and labels[-1].isalpha()
        and len(labels[-1]) >= 2
    )
    if not valid:
        raise InvalidInput("The email address is not valid.", field=field)
    return cleaned


def name(value: str, field: str = "name") -> str:
    return clean_text(value, field, "The name", NAME_MAX)


def _folded(value: str) -> str:
    """The password as compared with the rules and the list: whitespace runs as one space."""
    return " ".join(value.split())


def _sequence(text: str) -> bool:
    """Only consecutive letters or digits, up or down (abcdef..., 3456789012..., 98765...)."""
    if not (text.isdigit() or (text.isalpha() and text.isascii())):
        return False
    base = 10 if text.isdigit() else 256
    steps = {(ord(b) - ord(a)) % base for a, b in itertools.pairwise(text)}
    return steps in ({1}, {base - 1})


def password(value: str, field: str = "password", *, email: str | None = None) -> str:
    """OWASP / NIST SP 800-63B-4 rules, and nothing else (no composition rules): no control
    characters; 15 to 128 characters; not one short unit repeated or a plain sequence; not in
    the list of common and breached passwords; not containing the account's email or its
    local part. Returns the password unchanged (it is hashed as typed)."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise InvalidInput(
            "The password must not contain control characters (such as NUL, tab or newline).",
            field=field,
        )
    folded = _folded(value)
    if len(folded) < PASSWORD_MIN:
        raise InvalidInput(
            f"The password must be at least {PASSWORD_MIN} characters (repeated spaces count "
            "once); a few words make a good one.",
            field=field,
        )
    if len(value) > PASSWORD_MAX:
        raise InvalidInput(f"The password must be at most {PASSWORD_MAX} characters.", field=field)
    lowered = folded.lower()
    if _REPEATED_UNIT.fullmatch(lowered) or _sequence(lowered.replace(" ", "")):
        raise InvalidInput(
            "The password must not be one character or a short group repeated, or a sequence "
            "such as 123456...",
            field=field,
        )
    if lowered in common_passwords():
        raise InvalidInput(
            "This password is in a list of common or breached passwords; choose another.",
            field=field,
        )
    if email:
        address = email.strip().lower()
        local = address.rpartition("@")[0]
        compact = lowered.replace(" ", "")
        if address in compact or (len(local) >= 4 and local in compact):
            raise InvalidInput("The password must not contain your email address.", field=field)
    return value
