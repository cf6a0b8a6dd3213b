"""The order's values (domain/model.py): an address parsed, trimmed and checked."""

from __future__ import annotations

import pytest

from shopkit.errors import InvalidInput
from subgraphs.orders.domain.model import Address


def test_address_is_trimmed_and_the_country_upper_cased():
    address = Address.parse(line1="  1 Main St ", line2="  ", city="Springfield", country="us")
    assert (address.line1, address.line2, address.country) == ("1 Main St", None, "US")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"line1": "x" * 201}, "line1"),
        ({"city": "y" * 500}, "city"),
        ({"country": "USA"}, "country"),
        ({"country": "1A"}, "country"),
        ({"country": "ZZ"}, "country"),
    ],
)
def test_address_refuses_over_long_fields_and_bad_countries(fields, field):
    with pytest.raises(InvalidInput) as info:
        Address.parse(**fields)
    assert info.value.extensions["field"] == field
