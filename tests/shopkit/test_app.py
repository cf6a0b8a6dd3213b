"""The app factory with a tiny schema: routes, authentication and error shapes."""

import contextlib

import httpx
import pytest
import strawberry
import strawberry.extensions.validation_cache as validation_cache
import strawberry.schema.schema as strawberry_schema
from starlette.applications import Starlette

from shopkit.app import create_app
from shopkit.auth import Identity, mint_service_token, require_admin
from shopkit.errors import NotFound
from shopkit.graphql import RequestContext, ShopSchema
from shopkit.settings import ServiceSettings
from tests.support.tokens import make_token, test_verifier


@strawberry.type
class Query:
    @strawberry.field
    def whoami(self, info: strawberry.Info) -> str | None:
        return info.context.identity.account_id

    @strawberry.field
    def missing(self) -> str:
        raise NotFound("No such thing.", thingId="42")

    @strawberry.field
    def broken(self) -> str:
        raise RuntimeError("secret internals")

    @strawberry.field
    def admin_only(self, info: strawberry.Info) -> str:
        require_admin(info.context.identity)  # as a service checks its caller
        return "yes"


SETTINGS = ServiceSettings(
    service_name="probe", gateway_secret="g" * 40, service_secret="s" * 40, events_enabled=False
)


def probe_app(settings: ServiceSettings) -> Starlette:
    """The kit's app serving the probe schema above, as a service's ``create_app`` wires it."""
    return create_app(
        settings,
        schema=ShopSchema(query=Query),
        context=lambda request, response, identity: RequestContext(
            request, response, identity, settings
        ),
        verifier=test_verifier,
    )


@pytest.fixture
async def client():
    app = probe_app(SETTINGS)
    app.state.readiness = {}

    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=app)
        yield await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://probe")
        )


def gql(client, query, token=None, headers=None):
    h = {"x-gateway-secret": "g" * 40} if headers is None else headers
    if token:
        h["authorization"] = f"Bearer {token}"
    return client.post("/graphql", json={"query": query}, headers=h)


async def test_health_ready_and_metrics_answer(client):
    assert (await client.get("/healthz")).json()["status"] == "ok"
    assert (await client.get("/readyz")).status_code == 200
    await gql(client, "{ whoami }")
    assert "http_requests_total" in (await client.get("/metrics")).text


async def test_a_subgraph_serves_no_graphiql_and_no_cdn_page(client):
    """GraphiQL is the gateway's; a subgraph's page loaded a CDN and could not send the
    gateway secret (README, "Querying one subgraph alone")."""
    page = await client.get(
        "/graphql", headers={"accept": "text/html", "x-gateway-secret": "g" * 40}
    )
    assert "text/html" not in page.headers.get("content-type", "")
    assert "<script" not in page.text
    assert "cdn" not in page.text.lower()
    assert (await gql(client, "{ whoami }")).status_code == 200


async def test_caller_identity_reaches_resolvers(client):
    response = await gql(client, "{ whoami }", token=make_token("acc-7"))
    assert response.json() == {"data": {"whoami": "acc-7"}}


async def test_requests_not_from_gateway_or_service_are_forbidden(client):
    response = await gql(client, "{ whoami }", headers={})
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    service = {"x-service-token": mint_service_token("s" * 40, "orders")}
    assert (await gql(client, "{ whoami }", headers=service)).status_code == 200


async def test_bad_token_is_unauthenticated_with_no_data(client):
    response = await gql(client, "{ whoami }", token="garbage")
    assert response.status_code == 401
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_expected_errors_keep_message_and_code_unexpected_are_masked(client):
    missing = (await gql(client, "{ missing }")).json()["errors"][0]
    assert missing["message"] == "No such thing."
    assert missing["extensions"] == {"code": "NOT_FOUND", "thingId": "42"}
    broken = (await gql(client, "{ broken }")).json()["errors"][0]
    assert broken["message"] == "Unexpected error."
    assert "secret internals" not in str(broken)


async def test_admin_permission(client):
    anonymous = (await gql(client, "{ adminOnly }")).json()
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    customer = (await gql(client, "{ adminOnly }", token=make_token("c"))).json()
    assert customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    admin = (await gql(client, "{ adminOnly }", token=make_token("a", role="ADMIN"))).json()
    assert admin == {"data": {"adminOnly": "yes"}}


async def test_readyz_reports_an_unreachable_broker():
    from stack.process import free_port

    settings = SETTINGS.model_copy(
        update={"events_enabled": True, "kafka_bootstrap": f"127.0.0.1:{free_port()}"}
    )
    app = probe_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
            response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["kafka"].startswith("unavailable")


def test_metric_labels_stay_bounded_whatever_the_path():
    from shopkit.metrics import route_label

    assert route_label("/graphql") == "/graphql"
    assert route_label("/api/items/123/availability") == "/api/*"
    assert {route_label(f"/probe{n}") for n in range(100)} == {"other"}


async def test_the_same_operation_is_parsed_and_validated_once(monkeypatch):
    """The gateway sends the same few operations over and over (issue 11): the kit's schema
    parses and validates each text once, and still refuses an invalid one every time."""
    validated = []
    real_validate = strawberry_schema.validate_document

    def counting_validate(*args, **kwargs):
        validated.append(args[1])
        return real_validate(*args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate_document", counting_validate)
    validation_cache._get_validate_cache.cache_clear()  # wraps the counting function
    try:
        schema = ShopSchema(query=Query)
        context = RequestContext(None, None, Identity(), SETTINGS)  # type: ignore[arg-type]
        for _ in range(5):
            result = await schema.execute("query Probe { whoami }", context_value=context)
            assert result.errors is None
        assert len(validated) == 1
        for _ in range(2):
            assert (await schema.execute("{ nosuchfield }", context_value=context)).errors
        assert len(validated) == 2
    finally:
        validation_cache._get_validate_cache.cache_clear()
