"""The rules account fields obey. Each check returns the normalized value or raises
``InvalidInput`` naming the field, so a bad input never reaches the store."""

from __future__ import annotations

import re
import unicodedata

from shopkit.errors import InvalidInput
from subgraphs.accounts.domain.countries import ISO_3166_ALPHA2
from subgraphs.accounts.domain.model import Address

EMAIL_MAX = 254
NAME_MAX = 100
PASSWORD_MIN = 8
PASSWORD_MAX = 128
ADDRESS_LINE_MAX = 200
CITY_MAX = 100
REGION_MAX = 100
POSTAL_CODE_MAX = 16

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_POSTAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]*$")

# The most common leaked passwords of 8+ characters (lower-cased); refused whatever the case.
COMMON_PASSWORDS = frozenset(
    """
    password password1 password12 password123 password1234 passw0rd p@ssw0rd p@ssword
    12345678 123456789 1234567890 12345678910 87654321 11223344 12341234 00000000 01234567
    qwertyui qwertyuiop qwerty123 qwerty12 1q2w3e4r 1q2w3e4r5t 1qaz2wsx zaq12wsx asdfghjk
    asdfghjkl iloveyou iloveyou1 sunshine princess football baseball basketball welcome1
    welcome123 letmein1 letmein123 trustno1 superman batman123 starwars dragon123 monkey123
    abc12345 abcd1234 abcdefgh changeme changeme123 administrator admin123 admin1234
    secret123 computer internet whatever michael1 jennifer shadow123 master123 mustang1
    """.split()
)


def _text(value: str, field: str, label: str, maximum: int, *, required: bool = True) -> str:
    cleaned = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise InvalidInput(f"{label} must not contain control characters.", field=field)
    if required and not cleaned:
        raise InvalidInput(f"{label} is required.", field=field)
    if len(cleaned) > maximum:
        raise InvalidInput(f"{label} must be at most {maximum} characters.", field=field)
    return cleaned


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
    return _text(value, field, "The name", NAME_MAX)


def password(value: str, field: str = "password") -> str:
    """Length 8..128; not one repeated character; not a well-known password."""
    if len(value) < PASSWORD_MIN:
        raise InvalidInput(f"The password must be at least {PASSWORD_MIN} characters.", field=field)
    if len(value) > PASSWORD_MAX:
        raise InvalidInput(f"The password must be at most {PASSWORD_MAX} characters.", field=field)
    if len(set(value)) == 1:
        raise InvalidInput("The password must not be one repeated character.", field=field)
    if value.lower() in COMMON_PASSWORDS:
        raise InvalidInput("This password is too common; choose another.", field=field)
    return value


def address(
    *,
    line1: str,
    city: str,
    country: str,
    line2: str | None = None,
    region: str | None = None,
    postal_code: str | None = None,
    field: str = "address",
) -> Address:
    code = country.strip().upper()
    if code not in ISO_3166_ALPHA2:
        raise InvalidInput(
            "The country must be an ISO 3166-1 alpha-2 code such as 'US'.",
            field=f"{field}.country",
        )
    postal = _text(
        postal_code or "", f"{field}.postalCode", "The postal code", POSTAL_CODE_MAX, required=False
    )
    if postal and not _POSTAL.match(postal):
        raise InvalidInput(
            "The postal code may contain only letters, digits, spaces and hyphens.",
            field=f"{field}.postalCode",
        )
    second = _text(
        line2 or "", f"{field}.line2", "Address line 2", ADDRESS_LINE_MAX, required=False
    )
    area = _text(region or "", f"{field}.region", "The region", REGION_MAX, required=False)
    return Address(
        line1=_text(line1, f"{field}.line1", "Address line 1", ADDRESS_LINE_MAX),
        line2=second or None,
        city=_text(city, f"{field}.city", "The city", CITY_MAX),
        region=area or None,
        postal_code=postal or None,
        country=code,
    )
