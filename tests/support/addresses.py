"""The bad addresses every address input is tested with (accounts' saved addresses, orders'
shipping address): each is refused by the kit's one rule with BAD_USER_INPUT and the same
``extensions.field`` under the input field that held it."""

from __future__ import annotations

from typing import Any

GOOD_ADDRESS: dict[str, Any] = {
    "line1": "1 Infinite Loop",
    "city": "Cupertino",
    "postalCode": "95014",
    "country": "US",
}

# (the address as sent, the address field the error names)
BAD_ADDRESSES: list[tuple[dict[str, Any], str]] = [
    ({**GOOD_ADDRESS, "line1": "  "}, "line1"),
    ({**GOOD_ADDRESS, "line1": "l" * 201}, "line1"),
    ({**GOOD_ADDRESS, "line2": "l" * 201}, "line2"),
    ({**GOOD_ADDRESS, "city": ""}, "city"),
    ({**GOOD_ADDRESS, "city": "c" * 101}, "city"),
    ({**GOOD_ADDRESS, "region": "r" * 101}, "region"),
    ({**GOOD_ADDRESS, "postalCode": "95014';--"}, "postalCode"),
    ({**GOOD_ADDRESS, "country": "ZZ"}, "country"),
    ({**GOOD_ADDRESS, "country": "USA"}, "country"),
]
