"""The gateway: composing the supergraph and running Hive Gateway (Node) in front of it.

``compose_supergraph`` runs ``gateway/compose.mjs`` (Rover-format ``supergraph.yaml`` in,
supergraph SDL out); ``start_gateway`` runs the locally installed ``hive-gateway`` with
``gateway/gateway.config.ts`` and waits until it is ready. Both need ``make install``
(``npm ci`` in ``gateway/``). ``write_error_codes`` writes ``gateway/error-codes.json``, the
gateway's copy of the error-code catalogue (``shopkit.errors.CATALOGUE``), for ``make schema``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from shopkit.errors import CATALOGUE
from stack.process import REPO_ROOT, Process, StartError, http_ok, spawn

GATEWAY_DIR = REPO_ROOT / "gateway"
NODE_MODULES = GATEWAY_DIR / "node_modules"
HIVE_GATEWAY_BIN = NODE_MODULES / ".bin" / "hive-gateway"
COMPOSE_SCRIPT = GATEWAY_DIR / "compose.mjs"
GATEWAY_CONFIG = GATEWAY_DIR / "gateway.config.ts"
SUPERGRAPH_CONFIG = REPO_ROOT / "supergraph.yaml"
ERROR_CODES = GATEWAY_DIR / "error-codes.json"
LOG_MODE = 0o600  # the log may name accounts and addresses: its owner only

INSTALL_HINT = "run `make install` (it runs `npm ci` in gateway/) first"


class GatewayError(StartError):
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
    public_out: Path | None = None,
) -> None:
    """Compose the subgraphs listed in ``config_path`` into the supergraph SDL ``out_path``
    (and, with ``public_out``, the API schema clients see).

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
    if public_out is not None:
        cmd += ["--public-out", str(public_out)]
    result = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise GatewayError(f"supergraph composition failed:\n{detail}")


def error_codes_json() -> str:
    """The catalogue as the gateway reads it: code -> HTTP status and meaning, sorted."""
    codes = {
        entry.code: {
            "status": entry.http_status,
            "meaning": entry.meaning,
            "raisedBy": entry.raised_by,
        }
        for entry in sorted(CATALOGUE, key=lambda e: e.code)
    }
    document = {
        "comment": "Generated from shopkit/errors.py by `make schema`; do not edit.",
        "codes": codes,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_error_codes(path: Path = ERROR_CODES) -> None:
    path.write_text(error_codes_json())


def _private_log(path: Path) -> None:
    """Creates the log file readable by its owner only (or narrows an existing one) before
    the gateway writes to it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, LOG_MODE))
    os.chmod(path, LOG_MODE)


def start_gateway(
    supergraph_path: Path,
    port: int,
    env: dict[str, str],
    *,
    host: str = "127.0.0.1",
    log_path: Path | None = None,
    timeout: float = 60.0,
    node_args: tuple[str, ...] = (),
) -> Process:
    """Start Hive Gateway on ``port`` serving ``supergraph_path`` and wait until it is ready.

    ``env`` is laid over this process's environment; it must provide SHOP_GATEWAY_SECRET
    (see gateway/gateway.config.ts for the other SHOP_* settings). The gateway's output goes to
    ``log_path`` (a temporary file by default; mode 0600), whose tail is in the error if it
    fails to start. ``node_args`` go to node itself (the benchmark's ``--cpu-prof``).
    """
    _require_node_modules()
    node = _node()
    if not Path(supergraph_path).is_file():
        raise GatewayError(f"supergraph {supergraph_path} does not exist: run `make schema`")
    if log_path is None:
        log_path = Path(tempfile.mkdtemp(prefix="shop-gateway-")) / "gateway.log"
    _private_log(log_path)
    cmd = [
        node,
        *node_args,
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
    proc = spawn(
        log_path.stem,
        cmd,
        log_dir=log_path.parent,
        cwd=GATEWAY_DIR,
        env={
            **env,
            "SHOP_GATEWAY_PORT": str(port),
            "SHOP_GATEWAY_HOST": host,
            "SHOP_SUPERGRAPH": str(supergraph_path),
        },
        # read by the hive-gateway CLI itself
        unset=("PORT", "HOST", "FORK", "CONFIG_PATH"),
    )
    try:
        proc.wait_until(
            lambda: http_ok(f"http://{host}:{port}/readyz"),
            timeout=timeout,
            hint=f"log {proc.log_path}",
        )
    except StartError as exc:
        raise GatewayError(f"gateway not ready: {exc}") from exc
    return proc
