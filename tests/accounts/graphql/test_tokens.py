"""Access tokens: what login issues, the JWKS, and every forged or stale token refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from subgraphs.accounts.service.tokens import thumbprint
from subgraphs.accounts.settings import AccountsSettings
from tests.accounts.conftest import ME, Service, make_settings, running
from tests.support.tokens import make_token


def claims_for(account_id: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": account_id,
        "role": "CUSTOMER",
        "iss": "shop-accounts",
        "aud": "shop",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


def signed(service: Service, claims: dict[str, Any], **headers: Any) -> str:
    key = service.app.state.tokens.key
    return jwt.encode(
        claims,
        key.private_key,
        algorithm="RS256",
        headers={"kid": key.kid, "typ": "JWT", **headers},
    )


def assert_refused(response: Any) -> None:
    body = response.json()
    assert body.get("data") is None, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], body
    assert response.status_code == 401


async def test_login_issues_an_rs256_token_with_the_documented_header_and_claims(
    service: Service,
) -> None:
    user = await service.register()
    login = (await service.login(user["email"]))["data"]["login"]
    header = jwt.get_unverified_header(login["token"])
    assert header["alg"] == "RS256"
    assert header["typ"] == "JWT"
    assert header["kid"] == service.app.state.tokens.key.kid
    claims = jwt.decode(login["token"], options={"verify_signature": False})
    assert claims["sub"] == user["id"]
    assert claims["role"] == "CUSTOMER"
    assert claims["iss"] == "shop-accounts"
    assert claims["aud"] == "shop"
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 30


async def test_the_jwks_document_verifies_a_token_issued_by_login(service: Service) -> None:
    user = await service.register()
    token = (await service.login(user["email"]))["data"]["login"]["token"]
    response = await service.http.get("/.well-known/jwks.json")  # no gateway secret needed
    assert response.status_code == 200
    jwks = jwt.PyJWKSet.from_dict(response.json())
    key = next(k for k in jwks.keys if k.key_id == jwt.get_unverified_header(token)["kid"])
    assert key.algorithm_name == "RS256"
    published = response.json()["keys"][0]
    assert "d" not in published
    assert "p" not in published
    assert published["use"] == "sig"
    assert published["alg"] == "RS256"
    claims = jwt.decode(
        token, key.key, algorithms=["RS256"], audience="shop", issuer="shop-accounts"
    )
    assert claims["sub"] == user["id"]


async def test_token_ttl_comes_from_settings(settings: AccountsSettings) -> None:
    async with running(settings.model_copy(update={"token_ttl_seconds": 120})) as service:
        user = await service.register()
        token = (await service.login(user["email"]))["data"]["login"]["token"]
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 120


async def test_a_token_signed_with_another_key_is_refused(service: Service) -> None:
    user = await service.register()
    assert_refused(await service.post(ME, token=make_token(user["id"])))
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        claims_for(user["id"]),
        stranger,
        algorithm="RS256",
        headers={"kid": service.app.state.tokens.key.kid, "typ": "JWT"},
    )
    assert_refused(await service.post(ME, token=forged))


async def test_an_expired_token_is_refused(service: Service) -> None:
    user = await service.register()
    past = int(time.time()) - 3600
    token = signed(service, claims_for(user["id"], iat=past - 900, exp=past))
    assert_refused(await service.post(ME, token=token))


async def test_an_unsigned_alg_none_token_is_refused(service: Service) -> None:
    user = await service.register()
    token = jwt.encode(
        claims_for(user["id"]),
        "",
        algorithm="none",
        headers={"kid": service.app.state.tokens.key.kid, "typ": "JWT"},
    )
    assert_refused(await service.post(ME, token=token))


async def test_an_hs256_token_keyed_with_the_public_key_is_refused(service: Service) -> None:
    user = await service.register()
    public_pem = service.app.state.tokens.key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"kid": service.app.state.tokens.key.kid, "typ": "JWT", "alg": "HS256"}

    def b64(raw: bytes) -> bytes:
        return base64.urlsafe_b64encode(raw).rstrip(b"=")

    signing_input = (
        b64(json.dumps(header).encode()) + b"." + b64(json.dumps(claims_for(user["id"])).encode())
    )
    signature = b64(hmac.new(public_pem, signing_input, hashlib.sha256).digest())
    assert_refused(await service.post(ME, token=(signing_input + b"." + signature).decode()))


@pytest.mark.parametrize(
    "overrides", [{"aud": "another-shop"}, {"iss": "someone-else"}, {"sub": None}]
)
async def test_a_token_for_another_audience_or_issuer_is_refused(
    service: Service, overrides: dict[str, Any]
) -> None:
    user = await service.register()
    claims = {k: v for k, v in claims_for(user["id"], **overrides).items() if v is not None}
    assert_refused(await service.post(ME, token=signed(service, claims)))


async def test_a_token_whose_account_was_deleted_gets_no_data(service: Service) -> None:
    user = await service.register()
    await service.sql("DELETE FROM accounts WHERE id = :id", id=user["id"])
    body = await service.gql(ME, token=user["token"])
    assert body["data"] == {"me": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    other = await service.gql(
        "query($id: ID!) { account(id: $id) { id email } }", {"id": user["id"]}, token=user["token"]
    )
    assert other == {"data": {"account": None}}  # a lookup: null, as for any missing account


async def test_the_development_key_is_created_0600_and_reused(
    mysql_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url=mysql_url, data_dir=tmp_path)
    async with running(settings) as first:
        user = await first.register()
        kid = first.app.state.tokens.key.kid
    key_file = tmp_path / "accounts" / "jwt-private.pem"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    async with running(settings) as second:
        assert second.app.state.tokens.key.kid == kid
        me = await second.gql("{ me { id } }", token=user["token"])
        assert me == {"data": {"me": {"id": user["id"]}}}


def test_production_refuses_to_start_without_a_signing_key(tmp_path: Path) -> None:
    secrets: dict[str, Any] = {"gateway_secret": "g" * 40, "service_secret": "s" * 40}
    with pytest.raises(ValidationError, match="ACCOUNTS_JWT_PRIVATE_KEY"):
        AccountsSettings(env="production", data_dir=tmp_path, **secrets)


async def test_a_configured_key_signs_and_no_key_file_is_written(
    mysql_url: str, tmp_path: Path
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    settings = make_settings(database_url=mysql_url, data_dir=tmp_path, jwt_private_key=pem)
    async with running(settings) as service:
        user = await service.register()
        jwks = (await service.http.get("/.well-known/jwks.json")).json()
    assert [k["kid"] for k in jwks["keys"]] == [thumbprint(key.public_key())]
    jwt.decode(user["token"], key.public_key(), algorithms=["RS256"], audience="shop")
    assert not (tmp_path / "accounts").exists()
