import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shopkit.auth import (
    Identity,
    RequestAuthenticator,
    mint_service_token,
    require_account,
    require_admin,
    require_caller,
    require_service,
    verify_service_token,
)
from shopkit.errors import Forbidden, Unauthenticated
from shopkit.settings import ServiceSettings
from tests.support.tokens import make_token, test_verifier


async def test_verifier_accepts_a_valid_token_and_reads_subject_and_role():
    identity = await test_verifier().verify(make_token("acc-1", role="ADMIN"))
    assert (identity.account_id, identity.role, identity.is_admin) == ("acc-1", "ADMIN", True)


@pytest.mark.parametrize(
    "token",
    [
        make_token("a", key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        make_token("a", exp=int(time.time()) - 10),
        make_token("a", aud="someone-else"),
        make_token("a", iss="evil"),
        make_token("a", headers={"typ": "at+jwt-but-not-ours"}),
        jwt.encode(
            {"sub": "a", "role": "ADMIN"}, "", algorithm="none", headers={"kid": "test-key"}
        ),
        jwt.encode(
            {"sub": "a", "iss": "shop-accounts", "aud": "shop", "iat": 1, "exp": 2**40},
            "x" * 40,
            algorithm="HS256",
            headers={"kid": "test-key"},
        ),
        "not-a-token",
    ],
    ids=[
        "other-key",
        "expired",
        "other-audience",
        "other-issuer",
        "wrong-typ",
        "alg-none",
        "hs256-confusion",
        "garbage",
    ],
)
async def test_verifier_refuses_tokens_that_are_not_ours(token):
    with pytest.raises(Unauthenticated):
        await test_verifier().verify(token)


def test_service_token_round_trips_and_refuses_another_secret():
    token = mint_service_token("s" * 40, "orders")
    assert verify_service_token("s" * 40, token) == "orders"
    with pytest.raises(Unauthenticated):
        verify_service_token("t" * 40, token)


async def test_requests_without_gateway_secret_or_service_token_are_refused():
    settings = ServiceSettings(gateway_secret="g" * 40, service_secret="s" * 40)
    auth = RequestAuthenticator(settings, test_verifier())
    with pytest.raises(Forbidden):
        await auth.authenticate({"authorization": f"Bearer {make_token('a')}"})
    with pytest.raises(Forbidden):
        await auth.authenticate({"x-gateway-secret": "wrong"})
    ok = await auth.authenticate({"x-gateway-secret": "g" * 40})
    assert not ok.is_authenticated
    service = await auth.authenticate({"x-service-token": mint_service_token("s" * 40, "orders")})
    assert service.service == "orders"


def test_production_refuses_placeholder_secrets():
    with pytest.raises(ValueError, match="SHOP_GATEWAY_SECRET"):
        ServiceSettings(env="production")


ANONYMOUS = Identity()
CUSTOMER = Identity(account_id="c", role="CUSTOMER")
ADMIN = Identity(account_id="a", role="ADMIN")
SERVICE = Identity(service="orders")


@pytest.mark.parametrize(
    ("check", "identity", "refused"),
    [
        (require_account, ANONYMOUS, Unauthenticated),
        (require_account, SERVICE, Unauthenticated),
        (require_account, CUSTOMER, None),
        (require_caller, ANONYMOUS, Unauthenticated),
        (require_caller, SERVICE, None),
        (require_caller, CUSTOMER, None),
        (require_admin, ANONYMOUS, Unauthenticated),
        (require_admin, SERVICE, Unauthenticated),
        (require_admin, CUSTOMER, Forbidden),
        (require_admin, ADMIN, None),
        (require_service, ANONYMOUS, Forbidden),
        (require_service, ADMIN, Forbidden),
        (require_service, SERVICE, None),
    ],
)
def test_the_service_layer_checks_of_who_is_calling(check, identity, refused):
    if refused is None:
        check(identity)
    else:
        with pytest.raises(refused):
            check(identity)


def test_require_account_answers_the_callers_account():
    assert require_account(CUSTOMER) == "c"


async def test_a_token_is_verified_once_and_refused_once_it_expires(monkeypatch):
    """Every request of a customer carries the same token: its RS256 signature is checked
    once per process, and the remembered token stops working at its exp."""
    import shopkit.auth as auth

    checked = []
    real_decode = jwt.decode

    def counting_decode(*args, **kwargs):
        checked.append(1)
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(auth.jwt, "decode", counting_decode)
    verifier = test_verifier()
    now = int(time.time())
    token = make_token("acc-2", exp=now + 60)
    for _ in range(5):
        assert (await verifier.verify(token)).account_id == "acc-2"
    assert len(checked) == 1
    with pytest.raises(Unauthenticated):  # a token that was never verified is still checked
        await verifier.verify(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    monkeypatch.setattr(auth.time, "time", lambda: now + 61)
    with pytest.raises(Unauthenticated, match="expired"):
        await verifier.verify(token)


def test_a_service_credential_is_reused_while_more_than_half_its_life_is_left(monkeypatch):
    import shopkit.auth as auth

    first = mint_service_token("r" * 40, "orders")
    assert mint_service_token("r" * 40, "orders") == first
    assert mint_service_token("r" * 40, "payments") != first
    now = time.time()
    monkeypatch.setattr(auth.time, "time", lambda: now + 151)
    renewed = mint_service_token("r" * 40, "orders")
    assert renewed != first
    claims = jwt.decode(renewed, options={"verify_signature": False})
    assert (claims["sub"], claims["exp"]) == ("orders", int(now + 151) + 300)
