"""compose.yml cannot run here (no Docker engine); it is read as an operator would, and
checked: every engine and service is there with a pinned image, a health check and a restart
policy; ports agree with supergraph.yaml; every variable given to a service is one its
settings class reads; Kafka keeps its log on its volume, is reachable from the host and has
every topic (dead-letter topics included) before a service starts; the engine versions are
the ones the tests run (engines/*/pom.xml); MongoDB is healthy only as a primary; no database
password has a default; the demo pieces live only in compose.dev.yml; the build context
(.dockerignore) holds only what the images copy."""

from __future__ import annotations

import importlib
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from pydantic_settings import BaseSettings

from shopkit.events.envelope import topic_for
from shopkit.events.kafka import dead_letter_topic
from shopkit.settings import ServiceSettings, SqlDatabaseSettings
from stack.local import SUBGRAPHS, uvicorn_command

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yml").read_text())
DEV = yaml.safe_load((ROOT / "compose.dev.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
SUPERGRAPH = yaml.safe_load((ROOT / "supergraph.yaml").read_text())
ENGINES = {"mongo", "kafka", "cassandra", "mysql"}
ONE_SHOT = {"kafka-init"}
VIEWERS = {"jaeger"}  # the trace viewer (README, "Tracing")
ADMIN_VARIABLES = {"SHOP_ADMIN_EMAIL", "SHOP_ADMIN_PASSWORD"}
VARIABLE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?P<op>:?[-?])?(?P<rest>[^}]*)\}")


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
    names: set[str] = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias
        if alias is not None:
            names.update(str(choice).upper() for choice in getattr(alias, "choices", [alias]))
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def published(service: dict[str, Any]) -> dict[int, str]:
    """Container port -> the host interface it is published on."""
    found = {}
    for mapping in service.get("ports", []):
        *host, host_port, container_port = str(mapping).split(":")
        assert host_port == container_port, f"{mapping}: publish on the same port"
        found[int(container_port)] = host[0] if host else "0.0.0.0"
    return found


def listeners(value: str) -> dict[str, tuple[str, int]]:
    """``NAME://host:port,...`` -> {NAME: (host, port)}; the host may be a ${variable}."""
    found = {}
    for listener in value.split(","):
        name, address = listener.split("://")
        host, port = address.rsplit(":", 1)
        found[name] = (host, int(port))
    return found


URL_CREDENTIALS = re.compile(r"^[a-z+]+://(?P<user>[^:@/]+):(?P<password>\$\{[^}]*\})@[^/]+/")


def pom_version(engine: str, prop: str) -> str:
    tree = ET.parse(ROOT / "engines" / engine / "pom.xml")
    [element] = [e for e in tree.iter() if e.tag.endswith(prop)]
    assert element.text
    return element.text


def produced_topics() -> set[str]:
    """The topic of every event type a subgraph produces (it keeps one JSON Schema each)."""
    types = [p.stem for p in ROOT.glob("subgraphs/*/events/schemas/*.json")]
    assert types
    return {topic_for(t) for t in types}


# -- structure, ports, variables -------------------------------------------------------------


def test_every_engine_service_and_the_gateway_are_defined():
    assert set(SERVICES) == ENGINES | set(SUBGRAPHS) | {"gateway"} | ONE_SHOT | VIEWERS


@pytest.mark.parametrize("name", sorted(ENGINES | ONE_SHOT | VIEWERS))
def test_engine_images_are_pinned(name):
    image = SERVICES[name]["image"]
    assert re.fullmatch(r"[\w./-]+:\d[\w.-]*", image), f"{name}: pin a version tag, not {image}"


@pytest.mark.parametrize("name", sorted(set(SERVICES) - ONE_SHOT))
def test_every_long_running_service_is_healthchecked_and_restarted(name):
    service = SERVICES[name]
    assert "healthcheck" in service
    assert service["restart"] in ("unless-stopped", "always")


def test_one_shot_services_are_retried_until_they_succeed():
    for name in ONE_SHOT:
        assert SERVICES[name]["restart"] == "on-failure"


def test_engines_are_the_production_kinds():
    images = {n: SERVICES[n]["image"] for n in ENGINES}
    assert images["mongo"].startswith("mongo:7.")
    assert "--replSet rs0" in " ".join(SERVICES["mongo"]["entrypoint"]), "transactions need rs"
    assert images["kafka"].startswith("apache/kafka:")
    assert "KAFKA_PROCESS_ROLES" in SERVICES["kafka"]["environment"], "KRaft mode"
    assert images["cassandra"].startswith("cassandra:5")
    assert images["mysql"].startswith("mysql:8")


def test_kafka_and_cassandra_are_the_versions_the_tests_run():
    kafka = pom_version("kafka", "kafka.version")
    cassandra = pom_version("cassandra", "cassandra.version")
    assert kafka.startswith("4.1."), kafka
    assert cassandra.startswith("5.0."), cassandra
    assert SERVICES["kafka"]["image"] == f"apache/kafka:{kafka}"
    assert SERVICES["kafka-init"]["image"] == SERVICES["kafka"]["image"]
    assert SERVICES["cassandra"]["image"] == f"cassandra:{cassandra}"


@pytest.mark.parametrize("name", SUBGRAPHS)
def test_subgraph_port_matches_supergraph_yaml(name):
    routing = urlparse(SUPERGRAPH["subgraphs"][name]["routing_url"])
    service = SERVICES[name]
    assert routing.port in published(service)
    assert str(routing.port) in service["command"]
    assert f"subgraphs.{name}.app:create_app" in service["command"]


@pytest.mark.parametrize("name", SUBGRAPHS)
def test_subgraphs_are_served_as_the_local_stack_serves_them(name):
    """uvloop, httptools and a keep-alive longer than the gateway's (stack.local)."""
    local = uvicorn_command(f"subgraphs.{name}.app:create_app", 1)
    options = local[local.index("--no-access-log") + 1 :]
    command = SERVICES[name]["command"]
    assert command[command.index("--port") + 2 :] == options


def test_only_the_gateway_is_published_beyond_the_hosts_loopback():
    for name, service in SERVICES.items():
        for port, interface in published(service).items():
            if name == "gateway":
                assert (port, interface) == (4000, "0.0.0.0")
            else:
                assert interface == "127.0.0.1", f"{name} publishes :{port} on {interface}"


@pytest.mark.parametrize("name", SUBGRAPHS)
def test_subgraph_environment_is_read_by_its_settings(name):
    known = env_names(settings_class(name)) | ADMIN_VARIABLES
    for compose in (COMPOSE, DEV):
        given = set(compose["services"].get(name, {}).get("environment", {}))
        assert given - known == set(), f"{name} is given variables its settings do not read"


@pytest.mark.parametrize("name", SUBGRAPHS)
def test_service_urls_point_at_compose_services(name):
    env = SERVICES["items"]["environment"]
    url = urlparse(env[f"SHOP_{name.upper()}_URL"])
    routing = urlparse(SUPERGRAPH["subgraphs"][name]["routing_url"])
    assert (url.hostname, url.port) == (name, routing.port)


def test_gateway_routes_to_the_compose_services_and_waits_for_them():
    gateway = SERVICES["gateway"]
    command = " ".join(gateway["command"])
    for name in SUBGRAPHS:
        port = urlparse(SUPERGRAPH["subgraphs"][name]["routing_url"]).port
        assert f"--routing {name}=http://{name}:{port}/graphql" in command
        assert gateway["depends_on"][name]["condition"] == "service_healthy"
    assert "npx" not in command, "npx may download at start; run the installed binary"
    assert gateway["environment"]["SHOP_ENV"] == "production"
    assert "volumes" not in gateway, "the gateway's image holds what it needs"


# -- Kafka -----------------------------------------------------------------------------------


def test_kafka_keeps_its_log_on_its_volume():
    kafka = SERVICES["kafka"]
    log_dir = kafka["environment"]["KAFKA_LOG_DIRS"]
    assert f"kafka-data:{log_dir}" in kafka["volumes"]
    assert "kafka-data" in COMPOSE["volumes"]


def test_kafka_advertises_a_listener_for_the_services_and_one_the_host_can_reach():
    env = SERVICES["kafka"]["environment"]
    advertised = listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    internal_host, internal_port = advertised[env["KAFKA_INTER_BROKER_LISTENER_NAME"]]
    assert internal_host == "kafka"
    for name in SUBGRAPHS:
        bootstrap = SERVICES[name]["environment"]["SHOP_KAFKA_BOOTSTRAP"]
        assert bootstrap == f"kafka:{internal_port}"
    host = [h for h, port in advertised.values() if port in published(SERVICES["kafka"])]
    assert host == ["${KAFKA_HOST_NAME:-localhost}"], "one listener on the host's published port"
    bound = {port for _, port in listeners(env["KAFKA_LISTENERS"]).values()}
    assert {port for _, port in advertised.values()} <= bound
    protocols = dict(p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(advertised) | {env["KAFKA_CONTROLLER_LISTENER_NAMES"]} == set(protocols)
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_every_topic_and_its_dead_letter_topic_exist_before_a_service_starts():
    init = SERVICES["kafka-init"]
    created = set(init["environment"]["SHOP_TOPICS"].split())
    wanted = produced_topics()
    assert created == wanted | {dead_letter_topic(t) for t in wanted}
    assert "--if-not-exists" in " ".join(init["command"])
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name in SUBGRAPHS:
        depends = SERVICES[name]["depends_on"]
        assert depends["kafka-init"]["condition"] == "service_completed_successfully"


# -- engines ---------------------------------------------------------------------------------


def test_mongo_is_healthy_only_as_a_writable_primary():
    check = SERVICES["mongo"]["healthcheck"]["test"]
    script = " ".join(check)
    assert "rs.initiate(" in script
    assert "quit(db.hello().isWritablePrimary ? 0 : 1)" in script


def test_mongo_requires_authentication_and_items_has_a_user_of_its_own():
    mongo = SERVICES["mongo"]
    assert "--keyFile" in " ".join(mongo["entrypoint"]), "a replica set with auth needs a key"
    init = (ROOT / "deploy" / "mongo-init.js").read_text()
    assert 'createUser({\n  user: "shop"' in init
    assert "process.env.MONGO_SHOP_PASSWORD" in init
    url = SERVICES["items"]["environment"]["ITEMS_MONGO_URL"]
    credentials = URL_CREDENTIALS.match(url)
    assert credentials
    assert credentials["user"] == "shop"
    assert url.endswith("&authSource=shop_items")


def test_no_password_or_secret_has_a_default():
    """Every variable that carries a password, a secret or a key is required (``:?``)."""
    text = (ROOT / "compose.yml").read_text()
    for match in VARIABLE.finditer(text):
        name = match["name"]
        if re.search(r"PASSWORD|SECRET|PRIVATE_KEY|API_KEY", name) and name not in ADMIN_VARIABLES:
            assert match["op"] == ":?", f"{name} must be required, not {match.group(0)}"
    assert "MYSQL_ROOT_PASSWORD: ${MYSQL_ROOT_PASSWORD:?" in text
    assert "MONGO_INITDB_ROOT_PASSWORD: ${MONGO_ROOT_PASSWORD:?" in text


def test_the_relational_services_name_their_database_one_way():
    """Payments and accounts read the same setting (SqlDatabaseSettings: <PREFIX>DATABASE_URL,
    empty for the embedded SQLite file), and compose gives each a MySQL URL through it."""
    for name in ("payments", "accounts"):
        cls = settings_class(name)
        assert issubclass(cls, SqlDatabaseSettings), name
        key = f"{cls.model_config['env_prefix']}DATABASE_URL"
        assert key in env_names(cls)
        assert SERVICES[name]["environment"][key].startswith("mysql+aiomysql://"), name


def test_database_urls_take_their_password_from_required_variables():
    for name, key in [
        ("items", "ITEMS_MONGO_URL"),
        ("payments", "PAYMENTS_DATABASE_URL"),
        ("accounts", "ACCOUNTS_DATABASE_URL"),
    ]:
        url = SERVICES[name]["environment"][key]
        credentials = URL_CREDENTIALS.match(url)
        assert credentials, url
        password = VARIABLE.fullmatch(credentials["password"])
        assert password, url
        assert password["op"] == ":?", url


# -- production only -------------------------------------------------------------------------


def test_no_demo_pieces_in_production():
    items = SERVICES["items"]["environment"]
    assert "ITEMS_SEED_DEMO_CATALOG" not in items
    assert settings_class("items").model_fields["seed_demo_catalog"].default is False
    for name in ("payments", "accounts"):  # one processor for both: charges and saved cards
        env = SERVICES[name]["environment"]
        assert env["SHOP_PROCESSOR"] == "http", name
        assert env["SHOP_PROCESSOR_API_KEY"].startswith("${SHOP_PROCESSOR_API_KEY:?"), name
    for name in SUBGRAPHS:
        assert SERVICES[name]["environment"]["SHOP_ENV"] == "production"


def test_the_demo_pieces_are_in_the_development_file_alone():
    dev = DEV["services"]
    assert dev["items"]["environment"] == {"ITEMS_SEED_DEMO_CATALOG": "true"}
    assert dev["payments"]["environment"] == {"SHOP_PROCESSOR": "simulated"}
    assert dev["accounts"]["environment"] == {"SHOP_PROCESSOR": "simulated"}
    assert set(dev) == {"items", "payments", "accounts"}


def test_the_admin_account_comes_from_documented_variables():
    env = SERVICES["accounts"]["environment"]
    assert env["SHOP_ADMIN_EMAIL"] == "${SHOP_ADMIN_EMAIL:-}"
    assert env["SHOP_ADMIN_PASSWORD"] == "${SHOP_ADMIN_PASSWORD:-}"
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Production on Docker") :]
    assert "SHOP_ADMIN_EMAIL" in section
    assert "SHOP_ADMIN_PASSWORD" in section


# -- images and the build context ------------------------------------------------------------


def test_one_image_for_the_four_subgraphs():
    images = {SERVICES[name]["image"] for name in SUBGRAPHS}
    assert images == {"${SHOP_IMAGE:-shop-subgraphs:local}"}
    builders = [name for name in SUBGRAPHS if "build" in SERVICES[name]]
    assert builders == ["items"], "built once; the others run the same image"
    assert SERVICES["items"]["build"] == "."


class DockerIgnore:
    """The rules of a .dockerignore as Docker applies them (moby's patternmatcher): the last
    pattern that matches a path or one of its parent folders decides; ``!`` re-includes."""

    def __init__(self, text: str) -> None:
        self.rules: list[tuple[re.Pattern[str], bool, str]] = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            pattern = os.path.normpath(line.removeprefix("!").strip()).lstrip("/")
            self.rules.append((self._regex(pattern), negated, pattern))

    @staticmethod
    def _regex(pattern: str) -> re.Pattern[str]:
        out = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out += "(.*/)?"
                i += 3
            elif pattern.startswith("**", i):
                out += ".*"
                i += 2
            elif pattern[i] == "*":
                out += "[^/]*"
                i += 1
            elif pattern[i] == "?":
                out += "[^/]"
                i += 1
            else:
                out += re.escape(pattern[i])
                i += 1
        return re.compile(out)

    def excluded(self, path: str) -> bool:
        parts = path.split("/")
        candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        verdict = False
        for regex, negated, _ in self.rules:
            if any(regex.fullmatch(c) for c in candidates):
                verdict = not negated
        return verdict

    def may_include_below(self, folder: str) -> bool:
        return any(neg and p.startswith(f"{folder}/") for _, neg, p in self.rules)

    def context(self, root: Path) -> dict[str, int]:
        """The files sent to Docker, with their sizes."""
        sent = {}
        for folder, dirs, files in os.walk(root):
            rel = os.path.relpath(folder, root)
            rel = "" if rel == "." else f"{rel}/"
            dirs[:] = [
                d for d in dirs if not self.excluded(rel + d) or self.may_include_below(rel + d)
            ]
            for name in files:
                if not self.excluded(rel + name):
                    sent[rel + name] = os.lstat(os.path.join(folder, name)).st_size
        return sent


DOCKERIGNORE = DockerIgnore((ROOT / ".dockerignore").read_text())


@pytest.mark.parametrize(
    "secret_or_bulk",
    [
        ".data/secrets.env",
        ".data/payments.db",
        ".data/accounts/jwt-private.pem",
        ".venv/bin/python",
        ".tools/jvm/kafka/kafka_2.13-4.1.1.jar",
        "gateway/node_modules/graphql/index.js",
        ".git/config",
        "tests/conftest.py",
        "subgraphs/items/__pycache__/app.cpython-311.pyc",
        ".env",
    ],
)
def test_the_build_context_leaves_out(secret_or_bulk):
    assert DOCKERIGNORE.excluded(secret_or_bulk)


def test_the_build_context_holds_what_the_dockerfiles_copy_and_little_else():
    sent = DOCKERIGNORE.context(ROOT)
    assert not [p for p in sent if p.startswith((".data/", ".venv/", ".tools/", ".git/"))]
    assert not [p for p in sent if "node_modules/" in p]
    assert sum(sent.values()) < 5_000_000, f"{sum(sent.values())} bytes sent to Docker"
    for dockerfile in ("Dockerfile", "gateway/Dockerfile"):
        for line in (ROOT / dockerfile).read_text().splitlines():
            if line.startswith("COPY ") and "--from" not in line:
                for source in line.split()[1:-1]:
                    source = source.rstrip("/")
                    assert source in sent or any(p.startswith(f"{source}/") for p in sent), (
                        f"{dockerfile} copies {source}, which .dockerignore leaves out"
                    )
    assert SERVICES["gateway"]["build"] == {"context": ".", "dockerfile": "gateway/Dockerfile"}
