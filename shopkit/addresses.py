"""The one postal address of the shop and its one rule: accounts' saved shipping and billing
addresses and orders' shipping address are this value, checked by ``parse_address``
(docs/api-conventions.md, "Addresses"). Standard library only, so any domain may use it.

The rule: ``line1``, ``city`` and ``country`` are required (blank counts as missing);
``line2``, ``region`` and ``postalCode`` are optional (blank means absent). Each field is
NFC-normalized and trimmed, holds no control characters and has a maximum length (the
accounts table's column widths, the stricter of the two rules there were before); a postal code
is letters, digits, spaces and hyphens; the country is an assigned ISO 3166-1 alpha-2 code
(``shopkit.countries``), upper-cased. A bad field is ``BAD_USER_INPUT`` whose
``extensions.field`` names it under the input field that held the address, e.g.
``shippingAddress.country``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from shopkit.countries import ISO_3166_ALPHA2
from shopkit.errors import InvalidInput
from shopkit.text import clean_text

LINE_MAX = 200
CITY_MAX = 100
REGION_MAX = 100
POSTAL_CODE_MAX = 16

# An address as the client sent it, by Python field name: what ``parse_address`` checks.
RawAddress = Mapping[str, str | None]

_POSTAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]*$")

# The Python name of each field, and its name in GraphQL and REST (``extensions.field``).
FIELDS = {
    "line1": "line1",
    "line2": "line2",
    "city": "city",
    "region": "region",
    "postal_code": "postalCode",
    "country": "country",
}


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    country: str
    line2: str | None = None
    region: str | None = None
    postal_code: str | None = None

    def as_dict(self) -> dict[str, str]:
        """The fields that are set, by Python name: how a store keeps an address."""
        return {k: v for k, v in vars(self).items() if v is not None}

    @classmethod
    def stored(cls, fields: Mapping[str, str | None] | None) -> Address | None:
        """An address as a store kept it, or None when it lacks a required field.

        Orders placed before this rule could be given any subset of the fields (all were
        optional). Such a row stays as it is in the store, but it is not an ``Address``: it
        reads as no address (``Order.shippingAddress: null``) rather than breaking the order
        or inventing values. A stored address is not checked again beyond that: it passed the
        rule of its time, and reading must not fail on a rule made later.
        """
        if not fields:
            return None
        values = {name: fields.get(name) or None for name in FIELDS}
        line1, city, country = values.pop("line1"), values.pop("city"), values.pop("country")
        if line1 is None or city is None or country is None:
            return None
        return cls(line1=line1, city=city, country=country, **values)


def parse_address(raw: RawAddress | None, field: str) -> Address | None:
    """The address the client sent (fields by Python name), checked by the one rule; None for
    no address. ``field`` is the input field that held it (``shippingAddress``), the prefix of
    ``extensions.field`` in an error."""
    if raw is None:
        return None

    def at(name: str) -> str:
        return f"{field}.{FIELDS[name]}"

    line1 = clean_text(raw.get("line1"), at("line1"), "Address line 1", LINE_MAX, required=True)
    line2 = clean_text(raw.get("line2"), at("line2"), "Address line 2", LINE_MAX, required=False)
    city = clean_text(raw.get("city"), at("city"), "The city", CITY_MAX, required=True)
    region = clean_text(raw.get("region"), at("region"), "The region", REGION_MAX, required=False)
    postal = clean_text(
        raw.get("postal_code"),
        at("postal_code"),
        "The postal code",
        POSTAL_CODE_MAX,
        required=False,
    )
    if postal and not _POSTAL.match(postal):
        raise InvalidInput(
            "The postal code may contain only letters, digits, spaces and hyphens.",
            field=at("postal_code"),
        )
    country = clean_text(raw.get("country"), at("country"), "The country", LINE_MAX, required=True)
    if country.upper() not in ISO_3166_ALPHA2:
        raise InvalidInput(
            "The country must be an ISO 3166-1 alpha-2 code such as 'US'.", field=at("country")
        )
    return Address(
        line1=line1,
        line2=line2 or None,
        city=city,
        region=region or None,
        postal_code=postal or None,
        country=country.upper(),
    )
