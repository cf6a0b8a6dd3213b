"""The app's lifespan: demo catalog seeding and readiness."""

from __future__ import annotations

from stack.process import free_port
from subgraphs.items.store.database import ItemsDatabase
from subgraphs.items.store.seed import DEMO_CATALOG
from tests.items.helpers import items_settings, running_app


async def test_the_demo_catalog_is_seeded_once_into_an_empty_database(mongo_url):
    settings = items_settings(mongo_url, seed_demo_catalog=True)
    for _ in range(2):
        async with running_app(settings) as (_, client):
            page = (await client.get("/api/items", params={"first": 100})).json()
            assert len(page["items"]) == len(DEMO_CATALOG) >= 8
    assert all(item["availability"]["available"] > 0 for item in page["items"])
    assert {item["upc"] for item in page["items"]} == {e["upc"] for e in DEMO_CATALOG}


async def test_without_the_flag_nothing_is_seeded(mongo_url):
    async with running_app(items_settings(mongo_url)) as (_, client):
        assert (await client.get("/api/items")).json()["items"] == []


async def test_ready_when_the_database_and_the_broker_answer(mongo_url, kafka_bootstrap):
    settings = items_settings(mongo_url, events_enabled=True, kafka_bootstrap=kafka_bootstrap)
    async with running_app(settings) as (_, client):
        response = await client.get("/readyz")
        assert response.status_code == 200
        assert response.json()["checks"] == {"mongo": "ok", "kafka": "ok"}


async def test_not_ready_when_the_database_does_not_answer(mongo_url):
    async with running_app(items_settings(mongo_url)) as (app, client):
        down = ItemsDatabase(
            f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
            "nothing",
            serverSelectionTimeoutMS=300,
        )
        app.state.readiness["mongo"] = down.ping
        try:
            response = await client.get("/readyz")
        finally:
            down.close()
        assert response.status_code == 503
        assert response.json()["checks"]["mongo"].startswith("unavailable")
