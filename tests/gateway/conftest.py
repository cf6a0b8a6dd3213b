"""Fixtures for the gateway tests: a real Strawberry subgraph, a JWKS server, the real gateway.

The stub subgraph, the JWKS server and a gateway with the default settings (``gateway``) are
started once per session; a test module that needs other settings starts a gateway of its own
(``new_gateway``) with them.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from stack.gateway import compose_supergraph, start_gateway
from stack.process import REPO_ROOT, Process, free_port, spawn

ISSUER = "shop-accounts"
AUDIENCE = "shop"
KID = "test-key-1"


@dataclass
class Keys:
    signing: rsa.RSAPrivateKey
    attacker: rsa.RSAPrivateKey
    jwks_url: str

    def token(
        self,
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str = KID,
        algorithm: str = "RS256",
        **overrides: Any,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": "user-1",
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 300,
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, key or self.signing, algorithm=algorithm, headers={"kid": kid})


class _JwksHandler(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self) -> None:
        if self.path != "/.well-known/jwks.json":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def keys() -> Iterator[Keys]:
    signing = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(signing.public_key()))
    jwk.update(kid=KID, use="sig", alg="RS256")
    handler = type("Handler", (_JwksHandler,), {"body": json.dumps({"keys": [jwk]}).encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Keys(
            signing, attacker, f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
        )
    finally:
        server.shutdown()
        server.server_close()


def _answers(url: str) -> bool:
    try:
        return httpx.post(url, json={"query": "{ hello }"}, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Subgraph:
    url: str
    sdl_path: Path


@dataclass
class RunningStub:
    """A stub subgraph process of a test's own (to freeze or stop without touching others)."""

    process: Process
    url: str


def stub_sdl(workdir: Path) -> Path:
    sdl = subprocess.run(
        [sys.executable, "-m", "tests.gateway.stub_subgraph", "--print-sdl"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sdl_path = workdir / "schema.graphql"
    sdl_path.write_text(sdl)
    return sdl_path


def start_stub(workdir: Path, name: str = "stub") -> RunningStub:
    port = free_port()
    proc = spawn(
        name,
        [sys.executable, "-m", "tests.gateway.stub_subgraph", "--port", str(port)],
        log_dir=workdir,
    )
    url = f"http://127.0.0.1:{port}/graphql"
    proc.wait_until(lambda: _answers(url), 30, "the stub subgraph did not start")
    return RunningStub(process=proc, url=url)


def compose_stub_supergraph(sdl_path: Path, url: str, workdir: Path) -> Path:
    """The supergraph of the stub alone, routed to ``url``."""
    config = workdir / "supergraph.yaml"
    config.write_text(
        "federation_version: =2.9.0\n"
        "subgraphs:\n"
        "  stub:\n"
        "    routing_url: http://localhost:1/graphql\n"
        "    schema:\n"
        f"      file: {sdl_path}\n"
    )
    out = workdir / "supergraph.graphql"
    compose_supergraph(out, routing={"stub": url}, config_path=config)
    return out


@pytest.fixture(scope="session")
def stub_subgraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Subgraph]:
    workdir = tmp_path_factory.mktemp("stub-subgraph")
    sdl_path = stub_sdl(workdir)
    stub = start_stub(workdir)
    try:
        yield Subgraph(url=stub.url, sdl_path=sdl_path)
    finally:
        stub.process.stop()


@pytest.fixture(scope="session")
def supergraph(stub_subgraph: Subgraph, tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("supergraph")
    return compose_stub_supergraph(stub_subgraph.sdl_path, stub_subgraph.url, workdir)


@dataclass
class Gateway:
    url: str
    secret: str
    log_path: Path

    def client(self, local_address: str = "127.0.0.1") -> httpx.Client:
        """A client whose requests come from ``local_address`` (any 127.x address works)."""
        return httpx.Client(
            transport=httpx.HTTPTransport(local_address=local_address),
            timeout=15,
        )

    def post(
        self, query: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        with self.client() as client:
            return client.post(self.url, json={"query": query, **kwargs}, headers=headers)

    def post_content(
        self, content: str | bytes | Iterable[bytes], content_type: str
    ) -> httpx.Response:
        """A POST of ``content`` as it is, labelled ``content_type``: a body no GraphQL client
        would send (malformed, too large, or of another type)."""
        with self.client() as client:
            return client.post(self.url, content=content, headers={"content-type": content_type})


def start_test_gateway(
    supergraph: Path, keys: Keys, log_dir: Path, **env: str
) -> Generator[Gateway, None, None]:
    secret = secrets.token_urlsafe(24)
    port = free_port()
    log_path = log_dir / f"gateway-{port}.log"
    proc = start_gateway(
        supergraph,
        port,
        {
            "SHOP_GATEWAY_SECRET": secret,
            "SHOP_JWKS_URL": keys.jwks_url,
            "SHOP_GATEWAY_LOG_LEVEL": "warn",
            **env,
        },
        log_path=log_path,
    )
    try:
        yield Gateway(url=f"http://127.0.0.1:{port}/graphql", secret=secret, log_path=log_path)
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def new_gateway(
    supergraph: Path, keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Gateway]]:
    """Starts a gateway of the module's own when called, with the settings it is called with
    (environment variables, over the defaults of ``start_test_gateway``); each is stopped when
    the module's tests are done. The modules' gateway fixtures say what differs, and this
    what they share."""
    running = []

    def start(**env: str) -> Gateway:
        gateways = start_test_gateway(supergraph, keys, tmp_path_factory.mktemp("gateway"), **env)
        running.append(gateways)
        return next(gateways)

    yield start
    for gateways in running:
        gateways.close()  # start_test_gateway's finally: the process is stopped


@pytest.fixture(scope="session")
def gateway(
    supergraph: Path, keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """A development-mode gateway with the default limits, shared by the modules that need
    nothing else (starting one takes about 3 s of this machine). Its tests check their own
    answers and the deltas they cause, never a counter's or the log's absolute state."""
    yield from start_test_gateway(supergraph, keys, tmp_path_factory.mktemp("gateway"))
