"""updateAccount: profile and address changes, and the current password guarding the email
and the password."""

from __future__ import annotations

import asyncio

import pytest

from tests.accounts.conftest import ME, PASSWORD, UPDATE, Service
from tests.support.addresses import BAD_ADDRESSES
from tests.support.answers import error_codes

HOME = {"line1": "2 Rue de Rivoli", "city": "Paris", "postalCode": "75001", "country": "FR"}


async def test_name_and_addresses_change_and_a_null_address_is_cleared(service: Service) -> None:
    user = await service.register(billingAddress=HOME)
    before = (await service.gql(ME, token=user["token"]))["data"]["me"]
    body = await service.gql(
        UPDATE,
        {"input": {"name": "Grace Hopper", "shippingAddress": HOME, "billingAddress": None}},
        token=user["token"],
    )
    updated = body["data"]["updateAccount"]
    assert updated["name"] == "Grace Hopper"
    assert updated["shippingAddress"] == {**HOME, "line2": None, "region": None}
    assert updated["billingAddress"] is None
    assert updated["updatedAt"] > before["updatedAt"]
    assert (await service.gql(ME, token=user["token"]))["data"]["me"] == updated


@pytest.mark.parametrize("field", ["name", "email", "password"])
async def test_a_null_for_a_field_that_cannot_be_cleared_is_refused_naming_it(
    service: Service, field: str
) -> None:
    """The one update-input rule: omitted keeps, null clears, and null on what cannot be
    cleared is refused (items' UpdateItemInput answers the same)."""
    user = await service.register()
    before = (await service.gql(ME, token=user["token"]))["data"]["me"]
    body = await service.gql(UPDATE, {"input": {field: None}}, token=user["token"])
    assert body["data"] is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field
    assert (await service.gql(ME, token=user["token"]))["data"]["me"] == before


async def test_update_requires_a_token(service: Service) -> None:
    body = await service.gql(UPDATE, {"input": {"name": "X"}})
    assert body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_the_caller_is_checked_before_the_input(service: Service) -> None:
    """An anonymous caller learns nothing about the rules: not logged in, whatever it sent."""
    body = await service.gql(UPDATE, {"input": {"name": " ", "password": "short"}})
    assert body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "change",
    [
        {"name": "n" * 101},
        {"email": "not-an-email"},
        {"shippingAddress": {**HOME, "country": "ZZ"}},
        {"shippingAddress": {**HOME, "city": "c" * 101}},
        {"password": "short", "currentPassword": PASSWORD},
    ],
)
async def test_an_invalid_change_changes_nothing(service: Service, change: dict) -> None:
    user = await service.register()
    before = (await service.gql(ME, token=user["token"]))["data"]["me"]
    body = await service.gql(UPDATE, {"input": {"name": "Valid", **change}}, token=user["token"])
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert (await service.gql(ME, token=user["token"]))["data"]["me"] == before


@pytest.mark.parametrize(("address", "field"), BAD_ADDRESSES)
@pytest.mark.parametrize("holder", ["shippingAddress", "billingAddress"])
async def test_a_bad_address_is_refused_naming_its_field_and_changes_nothing(
    service: Service, address: dict, field: str, holder: str
) -> None:
    """The kit's one address rule, with the same code and field as orders' shipping address."""
    user = await service.register(shippingAddress=HOME, billingAddress=HOME)
    before = (await service.gql(ME, token=user["token"]))["data"]["me"]
    body = await service.gql(UPDATE, {"input": {holder: address}}, token=user["token"])
    assert body["data"] is None, body
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "BAD_USER_INPUT", "field": f"{holder}.{field}"}
    ]
    assert (await service.gql(ME, token=user["token"]))["data"]["me"] == before


async def test_password_change_requires_the_current_password(service: Service) -> None:
    user = await service.register()
    new = "a brand new passphrase"

    missing = await service.gql(UPDATE, {"input": {"password": new}}, token=user["token"])
    assert error_codes(missing) == ["BAD_USER_INPUT"]
    assert missing["errors"][0]["extensions"]["field"] == "currentPassword"

    wrong = await service.gql(
        UPDATE,
        {"input": {"password": new, "currentPassword": "not it at all"}},
        token=user["token"],
    )
    assert error_codes(wrong) == ["BAD_USER_INPUT"]
    assert (await service.login(user["email"]))["data"]["login"]["token"]

    done = await service.gql(
        UPDATE, {"input": {"password": new, "currentPassword": PASSWORD}}, token=user["token"]
    )
    assert "errors" not in done, done
    assert error_codes(await service.login(user["email"], PASSWORD)) == ["UNAUTHENTICATED"]
    assert (await service.login(user["email"], new))["data"]["login"]["token"]


async def test_email_change_requires_the_current_password(service: Service) -> None:
    user = await service.register()
    refused = await service.gql(
        UPDATE, {"input": {"email": "new@example.com"}}, token=user["token"]
    )
    assert error_codes(refused) == ["BAD_USER_INPUT"]

    done = await service.gql(
        UPDATE,
        {"input": {"email": "New@Example.com", "currentPassword": PASSWORD}},
        token=user["token"],
    )
    assert done["data"]["updateAccount"]["email"] == "New@Example.com"
    assert (await service.login("new@example.com"))["data"]["login"]["account"]["id"] == user["id"]
    assert error_codes(await service.login(user["email"])) == ["UNAUTHENTICATED"]


async def test_changing_only_the_letter_case_of_the_email_needs_no_password(
    service: Service,
) -> None:
    user = await service.register("case@example.com")
    body = await service.gql(UPDATE, {"input": {"email": "Case@Example.com"}}, token=user["token"])
    assert body["data"]["updateAccount"]["email"] == "Case@Example.com"


async def test_email_change_to_a_taken_email_in_any_case_is_a_conflict(service: Service) -> None:
    taken = await service.register("taken@example.com")
    user = await service.register()
    body = await service.gql(
        UPDATE,
        {"input": {"email": "TAKEN@example.com", "currentPassword": PASSWORD}},
        token=user["token"],
    )
    assert error_codes(body) == ["CONFLICT"]
    assert (await service.login("taken@example.com"))["data"]["login"]["account"]["id"] == taken[
        "id"
    ]
    assert (await service.login(user["email"]))["data"]["login"]["account"]["id"] == user["id"]


async def test_racing_updates_of_different_fields_are_all_kept(service: Service) -> None:
    user = await service.register()
    for round_ in range(4):
        name = f"Racer {round_}"
        address = {**HOME, "line1": f"{round_} Rue de Rivoli"}
        results = await asyncio.gather(
            service.gql(UPDATE, {"input": {"name": name}}, token=user["token"]),
            service.gql(UPDATE, {"input": {"shippingAddress": address}}, token=user["token"]),
            service.gql(UPDATE, {"input": {"billingAddress": address}}, token=user["token"]),
        )
        assert all("errors" not in r for r in results), results
        me = (await service.gql(ME, token=user["token"]))["data"]["me"]
        assert me["name"] == name
        assert me["shippingAddress"]["line1"] == address["line1"]
        assert me["billingAddress"]["line1"] == address["line1"]
