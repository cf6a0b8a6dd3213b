"""The gateway: composing the supergraph and running Hive Gateway (Node) in front of it.

``compose_supergraph`` runs ``gateway/compose.mjs`` (Rover-format ``supergraph.yaml`` in,
supergraph SDL out); ``start_gateway`` runs the locally installed ``hive-gateway`` with
``gateway/gateway.config.ts`` and waits until it is ready. Both need ``make install``
(``npm ci`` in ``gateway/``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
GATEWAY_DIR = REPO_ROOT / "gateway"
NODE_MODULES = GATEWAY_DIR / "node_modules"
HIVE_GATEWAY_BIN = NODE_MODULES / ".bin" / "hive-gateway"
COMPOSE_SCRIPT = GATEWAY_DIR / "compose.mjs"
GATEWAY_CONFIG = GATEWAY_DIR / "gateway.config.ts"
SUPERGRAPH_CONFIG = REPO_ROOT / "supergraph.yaml"
DEFAULT_SUPERGRAPH = GATEWAY_DIR / "supergraph.graphql"

INSTALL_HINT = "run `make install` (it runs `npm ci` in gateway/) first"


class GatewayError(RuntimeError):
    """Composition failed, or the gateway could not be started."""


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise GatewayError("`node` (Node.js 20 or later) is not on PATH; the gateway needs it")
    return node


def _require_node_modules() -> None:
    if not HIVE_GATEWAY_BIN.exists() or not (NODE_MODULES / "@theguild").is_dir():
        raise GatewayError(f"gateway dependencies are missing in {NODE_MODULES}: {INSTALL_HINT}")


def compose_supergraph(
    out_path: Path,
    routing: dict[str, str] | None = None,
    allow_missing: bool = False,
    config_path: Path = SUPERGRAPH_CONFIG,
) -> None:
    """Compose the subgraphs listed in ``config_path`` into the supergraph SDL ``out_path``.

    ``routing`` overrides subgraph routing URLs (name -> URL). Subgraphs whose schema file is
    missing are skipped with a warning when ``allow_missing``; otherwise they are an error.
    Raises GatewayError with the composition errors.
    """
    _require_node_modules()
    cmd = [
        _node(),
        str(COMPOSE_SCRIPT),
        "--config",
        str(config_path),
        "--out",
        str(out_path),
    ]
    for name, url in (routing or {}).items():
        cmd += ["--routing", f"{name}={url}"]
    if allow_missing:
        cmd.append("--allow-missing")
    result = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise GatewayError(f"supergraph composition failed:\n{detail}")


def start_gateway(
    supergraph_path: Path,
    port: int,
    env: dict[str, str],
    *,
    host: str = "127.0.0.1",
    log_path: Path | None = None,
    timeout: float = 60.0,
) -> subprocess.Popen[bytes]:
    """Start Hive Gateway on ``port`` serving ``supergraph_path`` and wait until it is ready.

    ``env`` is laid over this process's environment; it must provide SHOP_GATEWAY_SECRET
    (see gateway/gateway.config.ts for the other SHOP_* settings). The gateway's output goes to
    ``log_path`` (a temporary file by default), whose tail is in the error if it fails to start.
    """
    _require_node_modules()
    node = _node()
    if not Path(supergraph_path).is_file():
        raise GatewayError(f"supergraph {supergraph_path} does not exist: run `make schema`")
    full_env = {**os.environ, **env}
    full_env.update(
        SHOP_GATEWAY_PORT=str(port),
        SHOP_GATEWAY_HOST=host,
        SHOP_SUPERGRAPH=str(supergraph_path),
    )
    for name in ("PORT", "HOST", "FORK", "CONFIG_PATH"):  # read by the hive-gateway CLI itself
        full_env.pop(name, None)
    if log_path is None:
        fd, name = tempfile.mkstemp(prefix="shop-gateway-", suffix=".log")
        os.close(fd)
        log_path = Path(name)
    cmd = [
        node,
        str(HIVE_GATEWAY_BIN),
        "supergraph",
        str(supergraph_path),
        "--config-path",
        str(GATEWAY_CONFIG),
        "--host",
        host,
        "--port",
        str(port),
    ]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=GATEWAY_DIR,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://{host}:{port}/readiness"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise GatewayError(
                f"gateway exited with code {proc.returncode} before it was ready; "
                f"log {log_path}:\n{_tail(log_path)}"
            )
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop_process(proc)
            raise GatewayError(
                f"gateway not ready at {url} after {timeout:.0f}s; log {log_path}:\n"
                f"{_tail(log_path)}"
            )
        time.sleep(0.2)


def stop_process(p: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Stop ``p`` (and its process group): SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if p.poll() is not None:
        return
    try:
        group = os.getpgid(p.pid) == p.pid  # started with start_new_session=True
    except ProcessLookupError:
        group = False

    def send(sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(p.pid, sig)
            else:
                p.send_signal(sig)

    send(signal.SIGTERM)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        p.wait(timeout=timeout)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
