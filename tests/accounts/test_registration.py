"""Registration and login: the happy path, and every bad input refused without a change."""

from __future__ import annotations

import asyncio
import re
import statistics
import time

import pytest

from subgraphs.accounts.settings import AccountsSettings
from tests.accounts.conftest import ME, PASSWORD, REGISTER, Service, errors_of, running

ADDRESS = {
    "line1": "1 Infinite Loop",
    "line2": "Building 2",
    "city": "Cupertino",
    "region": "CA",
    "postalCode": "95014",
    "country": "US",
}


async def test_register_then_login_then_me_returns_the_account(service: Service) -> None:
    body = await service.gql(
        REGISTER,
        {
            "input": {
                "email": "Ada@Example.com",
                "name": "Ada Lovelace",
                "password": PASSWORD,
                "shippingAddress": ADDRESS,
            }
        },
    )
    registered = body["data"]["register"]
    assert registered["account"]["role"] == "CUSTOMER"
    assert registered["account"]["email"] == "Ada@Example.com"

    login = (await service.login("ada@EXAMPLE.com"))["data"]["login"]
    assert login["account"]["id"] == registered["account"]["id"]

    me = (await service.gql(ME, token=login["token"]))["data"]["me"]
    assert me["id"] == registered["account"]["id"]
    assert me["name"] == "Ada Lovelace"
    assert me["shippingAddress"] == ADDRESS
    assert me["billingAddress"] is None
    assert me["paymentMethods"] == []


async def test_me_is_null_without_a_token(service: Service) -> None:
    body = await service.gql(ME)
    assert body == {"data": {"me": None}}


@pytest.mark.parametrize("variant", ["dup@example.com", "DUP@EXAMPLE.COM", "Dup@Example.Com"])
async def test_register_refuses_an_email_taken_in_any_letter_case(
    service: Service, variant: str
) -> None:
    await service.register("dup@example.com")
    body = await service.gql(
        REGISTER, {"input": {"email": variant, "name": "Other", "password": PASSWORD}}
    )
    assert body["data"] is None
    assert errors_of(body) == ["CONFLICT"]
    assert await service.sql("SELECT COUNT(*) FROM accounts") == [(1,)]


async def test_racing_registrations_of_one_email_create_exactly_one_account(
    service: Service,
) -> None:
    emails = ["race@example.com", "RACE@example.com", "Race@Example.com", "race@EXAMPLE.com"]
    bodies = await asyncio.gather(
        *(
            service.gql(REGISTER, {"input": {"email": e, "name": "R", "password": PASSWORD}})
            for e in emails
        )
    )
    succeeded = [b for b in bodies if b.get("data")]
    assert len(succeeded) == 1, bodies
    assert sorted(c for b in bodies for c in errors_of(b)) == ["CONFLICT"] * 3
    assert await service.sql("SELECT COUNT(*) FROM accounts") == [(1,)]


@pytest.mark.parametrize(
    "email",
    [
        "",
        "plainaddress",
        "@example.com",
        "user@",
        "user@@example.com",
        "user@example",
        "user@-example.com",
        "user..dots@example.com",
        "user name@example.com",
        "user@exa mple.com",
        "user@example.c",
        "a" * 65 + "@example.com",
        "u@" + "a" * 250 + ".com",
        "user@exam\nple.com",
        '"\' OR 1=1 --"@example.com',
    ],
)
async def test_register_refuses_a_malformed_email(service: Service, email: str) -> None:
    body = await service.gql(
        REGISTER, {"input": {"email": email, "name": "N", "password": PASSWORD}}
    )
    assert errors_of(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == "email"
    assert await service.sql("SELECT COUNT(*) FROM accounts") == [(0,)]


@pytest.mark.parametrize(
    "password",
    ["", "short", "1234567", "a" * 129, "aaaaaaaaaaaa", "password", "PassWord123", "12345678"],
)
async def test_register_refuses_a_weak_or_overlong_password(
    service: Service, password: str
) -> None:
    body = await service.gql(
        REGISTER, {"input": {"email": "p@example.com", "name": "N", "password": password}}
    )
    assert errors_of(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == "password"
    assert await service.sql("SELECT COUNT(*) FROM accounts") == [(0,)]


async def test_a_128_character_password_is_accepted(service: Service) -> None:
    password = "x1" * 64
    body = await service.gql(
        REGISTER, {"input": {"email": "long@example.com", "name": "N", "password": password}}
    )
    assert "errors" not in body, body
    assert (await service.login("long@example.com", password))["data"]["login"]["token"]


@pytest.mark.parametrize(
    ("field", "value", "reported"),
    [
        ("name", "n" * 101, "name"),
        ("name", "   ", "name"),
        ("name", "bad\x00name", "name"),
        ("shippingAddress", {**ADDRESS, "line1": "l" * 201}, "shippingAddress.line1"),
        ("shippingAddress", {**ADDRESS, "line2": "l" * 201}, "shippingAddress.line2"),
        ("shippingAddress", {**ADDRESS, "city": "c" * 101}, "shippingAddress.city"),
        ("shippingAddress", {**ADDRESS, "region": "r" * 101}, "shippingAddress.region"),
        ("shippingAddress", {**ADDRESS, "postalCode": "9" * 17}, "shippingAddress.postalCode"),
        ("shippingAddress", {**ADDRESS, "postalCode": "95014';--"}, "shippingAddress.postalCode"),
        ("shippingAddress", {**ADDRESS, "line1": ""}, "shippingAddress.line1"),
        ("billingAddress", {**ADDRESS, "country": "XX"}, "billingAddress.country"),
        ("billingAddress", {**ADDRESS, "country": "USA"}, "billingAddress.country"),
        ("billingAddress", {**ADDRESS, "country": ""}, "billingAddress.country"),
        ("billingAddress", {**ADDRESS, "country": "U'"}, "billingAddress.country"),
    ],
)
async def test_register_refuses_overlong_or_invalid_fields(
    service: Service, field: str, value: object, reported: str
) -> None:
    fields = {"email": "f@example.com", "name": "N", "password": PASSWORD, field: value}
    body = await service.gql(REGISTER, {"input": fields})
    assert errors_of(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == reported
    assert await service.sql("SELECT COUNT(*) FROM accounts") == [(0,)]


async def test_country_codes_are_accepted_in_lower_case_and_stored_upper_case(
    service: Service,
) -> None:
    user = await service.register(billingAddress={**ADDRESS, "country": "de"})
    me = (await service.gql(ME, token=user["token"]))["data"]["me"]
    assert me["billingAddress"]["country"] == "DE"


INJECTIONS = ["'; DROP TABLE accounts; --", '" OR 1=1', "Robert'); DELETE FROM accounts;--"]


@pytest.mark.parametrize("attack", INJECTIONS)
async def test_sql_metacharacters_in_every_string_field_are_stored_literally(
    service: Service, attack: str
) -> None:
    address = {
        "line1": attack,
        "line2": attack,
        "city": attack,
        "region": attack,
        "postalCode": "SW1A 1AA",
        "country": "GB",
    }
    email = "o'neil+x@example.com"
    user = await service.register(
        email, name=attack, shippingAddress=address, billingAddress=address
    )
    me = (await service.gql(ME, token=user["token"]))["data"]["me"]
    assert me["name"] == attack
    assert me["email"] == email
    assert me["shippingAddress"] == address
    assert me["billingAddress"] == address
    assert await service.sql("SELECT COUNT(*) FROM accounts") == [(1,)]
    login = await service.login(attack, attack)
    assert errors_of(login) == ["UNAUTHENTICATED"]
    assert (await service.login(email))["data"]["login"]["account"]["id"] == user["id"]


async def test_login_answers_the_same_for_an_unknown_email_and_a_wrong_password(
    service: Service,
) -> None:
    user = await service.register()
    unknown = await service.login("nobody@example.com", PASSWORD)
    wrong = await service.login(user["email"], "wrong password!")
    assert unknown == wrong
    assert unknown["data"] is None
    assert unknown["errors"][0]["message"] == "Invalid email or password."
    assert errors_of(unknown) == ["UNAUTHENTICATED"]


async def test_stored_password_hash_is_argon2id_at_least_the_owasp_minimum(
    service: Service,
) -> None:
    user = await service.register()
    [(stored,)] = await service.sql(
        "SELECT password_hash FROM accounts WHERE id = :id", id=user["id"]
    )
    match = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+", stored)
    assert match, stored
    memory, time_cost, parallelism = map(int, match.groups())
    assert memory >= 19456 and time_cost >= 2 and parallelism >= 1
    assert PASSWORD not in await service.dump()


async def test_no_answer_ever_contains_the_password_or_its_hash(service: Service) -> None:
    user = await service.register()
    [(stored,)] = await service.sql("SELECT password_hash FROM accounts")
    answers = [
        (await service.post(ME, token=user["token"])).text,
        (await service.login(user["email"])).__repr__(),
        (await service.http.get("/.well-known/jwks.json")).text,
    ]
    for answer in answers:
        assert PASSWORD not in answer and stored not in answer
    fields = await service.gql('{ __type(name: "Account") { fields { name } } }')
    names = [f["name"] for f in fields["data"]["__type"]["fields"]]
    assert "email" in names
    assert not [n for n in names if "password" in n.lower() or "hash" in n.lower()]


async def test_an_unknown_email_costs_about_as_much_time_as_a_wrong_password(
    service: Service,
) -> None:
    users = [await service.register() for _ in range(3)]

    async def timed(email: str, password: str) -> float:
        start = time.perf_counter()
        body = await service.login(email, password)
        assert errors_of(body) == ["UNAUTHENTICATED"]
        return time.perf_counter() - start

    wrong = [await timed(u["email"], "wrong password!") for u in users]
    unknown = [await timed(f"nobody{i}@example.com", "wrong password!") for i in range(3)]
    # Without the dummy hash an unknown email answers several times faster.
    assert statistics.median(unknown) > 0.5 * statistics.median(wrong), (unknown, wrong)


async def test_a_hash_made_with_weaker_parameters_is_upgraded_at_login(
    settings: AccountsSettings,
) -> None:
    async with running(settings) as service:
        user = await service.register()
    stronger = settings.model_copy(update={"password_time_cost": 3})
    async with running(stronger) as service:
        assert (await service.login(user["email"]))["data"]["login"]["token"]
        [(stored,)] = await service.sql("SELECT password_hash FROM accounts")
        assert ",t=3," in stored
        assert (await service.login(user["email"]))["data"]["login"]["token"]
