"""compose.yml cannot run here (no Docker engine); its structure is checked instead: every
engine and service is there with a pinned image and a health check, ports agree with
supergraph.yaml, and every variable given to a service is one its settings class reads."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from pydantic_settings import BaseSettings

from shopkit.settings import ServiceSettings
from stack.local import SUBGRAPHS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yml").read_text())
SUPERGRAPH = yaml.safe_load((ROOT / "supergraph.yaml").read_text())
ENGINES = {"mongo", "kafka", "cassandra", "mysql"}


def settings_class(name: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"subgraphs.{name}.settings")
    found = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, ServiceSettings)
        and obj.__module__ == module.__name__  # defined there, not imported (ProcessorSettings)
    ]
    assert len(found) == 1, f"subgraphs.{name}.settings should define one settings class"
    return found[0]


def env_names(cls: type[BaseSettings]) -> set[str]:
    prefix = cls.model_config.get("env_prefix", "")
    names = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias
        if alias is not None:
            names.update(str(choice).upper() for choice in getattr(alias, "choices", [alias]))
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def test_every_engine_service_and_the_gateway_are_defined():
    assert set(COMPOSE["services"]) == ENGINES | set(SUBGRAPHS) | {"gateway"}


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_engine_images_are_pinned_and_healthchecked(name):
    service = COMPOSE["services"][name]
    image = service["image"]
    assert re.fullmatch(r"[\w./-]+:\d[\w.-]*", image), f"{name}: pin a version tag, not {image}"
    assert "healthcheck" in service


def test_engines_are_the_production_kinds():
    images = {n: COMPOSE["services"][n]["image"] for n in ENGINES}
    assert images["mongo"].startswith("mongo:")
    assert "--replSet" in COMPOSE["services"]["mongo"]["command"], "transactions need a replica set"
    assert images["kafka"].startswith("apache/kafka:")
    assert "KAFKA_PROCESS_ROLES" in COMPOSE["services"]["kafka"]["environment"], "KRaft mode"
    assert images["cassandra"].startswith("cassandra:5")
    assert images["mysql"].startswith("mysql:8")


@pytest.mark.parametrize("name", SUBGRAPHS)
def test_subgraph_port_matches_supergraph_yaml(name):
    routing = urlparse(SUPERGRAPH["subgraphs"][name]["routing_url"])
    service = COMPOSE["services"][name]
    assert f"{routing.port}:{routing.port}" in service["ports"]
    assert str(routing.port) in service["command"]
    assert f"subgraphs.{name}.app:create_app" in service["command"]
    assert "healthcheck" in service


@pytest.mark.parametrize("name", SUBGRAPHS)
def test_subgraph_environment_is_read_by_its_settings(name):
    known = env_names(settings_class(name)) | {"SHOP_ADMIN_EMAIL", "SHOP_ADMIN_PASSWORD"}
    given = set(COMPOSE["services"][name]["environment"])
    assert given - known == set(), f"{name} is given variables its settings do not read"


@pytest.mark.parametrize("name", SUBGRAPHS)
def test_service_urls_point_at_compose_services(name):
    env = COMPOSE["services"]["items"]["environment"]
    url = urlparse(env[f"SHOP_{name.upper()}_URL"])
    routing = urlparse(SUPERGRAPH["subgraphs"][name]["routing_url"])
    assert (url.hostname, url.port) == (name, routing.port)


def test_gateway_routes_to_the_compose_services_and_waits_for_them():
    gateway = COMPOSE["services"]["gateway"]
    command = " ".join(gateway["command"])
    for name in SUBGRAPHS:
        port = urlparse(SUPERGRAPH["subgraphs"][name]["routing_url"]).port
        assert f"--routing {name}=http://{name}:{port}/graphql" in command
        assert gateway["depends_on"][name]["condition"] == "service_healthy"
    assert "4000:4000" in gateway["ports"]
    assert gateway["environment"]["SHOP_ENV"] == "production"
