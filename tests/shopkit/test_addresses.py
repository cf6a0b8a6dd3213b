"""The one address rule (shopkit.addresses): what it keeps, each bad input refused with
BAD_USER_INPUT naming the field under the input that held it, and how a stored address that
an older rule let through reads."""

from __future__ import annotations

import pytest

from shopkit.addresses import Address, parse_address
from shopkit.errors import InvalidInput

HOME = {"line1": "1 Infinite Loop", "city": "Cupertino", "country": "US"}


def test_fields_are_trimmed_blanks_are_absent_and_the_country_upper_cased():
    address = parse_address(
        {
            "line1": "  1 Main St ",
            "line2": "  ",
            "city": "Cafe\u0301 City",  # decomposed é: kept NFC, as a database compares it
            "region": "",
            "postal_code": " 95014 ",
            "country": " us ",
        },
        "shippingAddress",
    )
    assert address == Address(
        line1="1 Main St", city="Caf\u00e9 City", country="US", postal_code="95014"
    )


def test_no_address_is_none():
    assert parse_address(None, "shippingAddress") is None


def test_the_longest_fields_the_rule_allows_are_kept():
    raw = {
        "line1": "a" * 200,
        "line2": "b" * 200,
        "city": "c" * 100,
        "region": "r" * 100,
        "postal_code": "9" * 16,
        "country": "FR",
    }
    address = parse_address(raw, "shippingAddress")
    assert address is not None
    assert address.as_dict() == raw


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"line1": None}, "line1", "Address line 1 is required."),
        ({"line1": "   "}, "line1", "Address line 1 is required."),
        ({"line1": "a" * 201}, "line1", "Address line 1 must be at most 200 characters."),
        ({"line1": "1 Main\x00St"}, "line1", "Address line 1 must not contain control"),
        ({"line2": "b" * 201}, "line2", "Address line 2 must be at most 200 characters."),
        ({"city": ""}, "city", "The city is required."),
        ({"city": "c" * 101}, "city", "The city must be at most 100 characters."),
        ({"region": "r" * 101}, "region", "The region must be at most 100 characters."),
        ({"postal_code": "9" * 17}, "postalCode", "The postal code must be at most 16"),
        ({"postal_code": "95014';--"}, "postalCode", "The postal code may contain only"),
        ({"country": None}, "country", "The country is required."),
        ({"country": "USA"}, "country", "The country must be an ISO 3166-1 alpha-2 code"),
        ({"country": "ZZ"}, "country", "The country must be an ISO 3166-1 alpha-2 code"),
        ({"country": "1A"}, "country", "The country must be an ISO 3166-1 alpha-2 code"),
    ],
)
@pytest.mark.parametrize("holder", ["shippingAddress", "billingAddress"])
def test_each_bad_field_is_bad_user_input_naming_it(change, field, message, holder):
    with pytest.raises(InvalidInput) as refused:
        parse_address({**HOME, **change}, holder)
    assert refused.value.code == "BAD_USER_INPUT"
    assert refused.value.extensions == {"code": "BAD_USER_INPUT", "field": f"{holder}.{field}"}
    assert refused.value.message.startswith(message)


def test_a_complete_stored_address_reads_as_stored():
    stored = {"line1": "1 rue X", "city": "Lyon", "country": "FR", "postal_code": "69001"}
    assert Address.stored(stored) == Address(
        line1="1 rue X", city="Lyon", country="FR", postal_code="69001"
    )


@pytest.mark.parametrize(
    "stored",
    [None, {}, {"city": "Oslo"}, {"line1": "1 Main St", "country": "NO"}, {**HOME, "city": ""}],
)
def test_a_stored_address_lacking_a_required_field_reads_as_none(stored):
    """Orders placed before the one rule could have any subset of the fields."""
    assert Address.stored(stored) is None
