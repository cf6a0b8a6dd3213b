"""Where the time goes: py-spy sampling the subgraph processes while a measurement runs.

``py-spy record --pid PID --rate 100 --nonblocking --format raw`` writes collapsed stacks
(``frame;frame;...;leaf count``, loadable in speedscope or flamegraph.pl); the summary counts
each sample once per package of its leaf frame (graphql-core, strawberry, starlette, uvicorn,
the database drivers, ...) and lists the busiest functions, so a reader sees at a glance
whether a process spends its time validating queries, encoding JSON or waiting on a driver.
``--idle`` samples are left out: time a process spends waiting is not its CPU.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

PY_SPY = Path(sys.executable).with_name("py-spy")
NOT_ATTACHED = "no samples: py-spy could not attach (it needs ptrace: root or CAP_SYS_PTRACE)"

# Which package a frame belongs to, by its file path.
_PACKAGES = [
    ("graphql-core: validation", re.compile(r"graphql/validation/")),
    ("graphql-core: parser", re.compile(r"graphql/language/")),
    ("graphql-core: execution", re.compile(r"graphql/(execution|type|pyutils|utilities)/")),
    ("strawberry", re.compile(r"strawberry/")),
    ("starlette", re.compile(r"starlette/")),
    ("uvicorn/h11/httptools", re.compile(r"(uvicorn|h11|httptools)/")),
    # uvloop's loop is C: py-spy sees its time, waiting included, as this Python frame.
    ("event loop (uvloop, incl. waiting)", re.compile(r"asyncio/runners\.py")),
    ("asyncio", re.compile(r"(asyncio/|uvloop)")),
    ("json", re.compile(r"(json/|orjson)")),
    ("jwt/crypto", re.compile(r"(jwt/|cryptography/)")),
    ("mongo driver", re.compile(r"(pymongo|motor|odmantic|bson)/")),
    ("cql driver", re.compile(r"acsylla")),
    ("sql driver", re.compile(r"(sqlalchemy|sqlmodel|aiomysql|aiosqlite|sqlite3)")),
    ("kafka", re.compile(r"aiokafka")),
    ("pydantic", re.compile(r"pydantic")),
    ("prometheus", re.compile(r"prometheus_client")),
    ("argon2", re.compile(r"argon2")),
    ("httpx", re.compile(r"(httpx|httpcore)/")),
    ("shop code", re.compile(r"(shopkit|subgraphs)/")),
]
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(:\d+)?\)$")


def package_of(frame: str) -> str:
    match = _FRAME.match(frame)
    path = match.group("file") if match else frame
    for name, pattern in _PACKAGES:
        if pattern.search(path):
            return name
    return "other"


def summarize(raw: Path, top: int = 8) -> dict[str, object]:
    """Shares of the samples by the leaf frame's package, and the busiest leaf functions.
    No file: py-spy could not attach, which the summary says instead of failing the run."""
    if not raw.exists():
        return {"samples": 0, "note": NOT_ATTACHED}
    by_package: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        leaf = frames[-1]
        n = int(count)
        total += n
        by_package[package_of(leaf)] += n
        match = _FRAME.match(leaf)
        name = leaf
        if match:
            short = "/".join(match.group("file").split("/")[-2:])
            name = f"{match.group('function')} ({short})"
        by_function[name] += n
    if total == 0:
        return {"samples": 0}
    return {
        "samples": total,
        "packages": {k: round(v / total, 3) for k, v in by_package.most_common()},
        "functions": {k: round(v / total, 3) for k, v in by_function.most_common(top)},
    }


@contextlib.contextmanager
def sampling(pids: dict[str, int], folder: Path, label: str) -> Iterator[dict[str, Path]]:
    """Samples each process in ``pids`` while the block runs; yields the raw profile paths
    (filled once the block ends)."""
    if not PY_SPY.exists() and shutil.which("py-spy") is None:
        raise RuntimeError("py-spy is missing: run `make install` (a dev dependency)")
    binary = str(PY_SPY) if PY_SPY.exists() else "py-spy"
    folder.mkdir(parents=True, exist_ok=True)
    outputs = {name: folder / f"{label}-{name}.txt" for name in pids}
    recorders = [
        subprocess.Popen(
            [binary, "record", "--pid", str(pid), "--rate", "100", "--nonblocking",
             "--format", "raw", "--output", str(outputs[name])],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    ]  # fmt: skip
    time.sleep(0.5)  # attached before the load starts
    try:
        yield outputs
    finally:
        for recorder in recorders:
            recorder.send_signal(signal.SIGINT)
        for recorder in recorders:
            try:
                recorder.wait(30)
            except subprocess.TimeoutExpired:
                recorder.kill()


GATEWAY_PROFILER = Path(__file__).with_name("gateway_profile.cjs")


def node_profiling(folder: Path) -> tuple[tuple[str, ...], dict[str, str]]:
    """The node arguments and environment that make the gateway write a V8 CPU profile into
    ``folder`` when it is stopped (bench/gateway_profile.cjs)."""
    folder.mkdir(parents=True, exist_ok=True)
    return ("--require", str(GATEWAY_PROFILER)), {"SHOP_BENCH_CPU_PROFILE_DIR": str(folder)}


def summarize_node(profile: Path, top: int = 10) -> dict[str, object]:
    """Shares of a V8 CPU profile's samples by package (``node_modules/<package>``, node's own
    internals, the gateway's own files) and its busiest functions; idle and GC are apart."""
    import json

    data = json.loads(profile.read_text())
    nodes = {node["id"]: node for node in data["nodes"]}
    counts: Counter[int] = Counter(data.get("samples", []))
    by_package: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    total = 0
    for node_id, n in counts.items():
        frame = nodes[node_id]["callFrame"]
        url, name = frame.get("url", ""), frame.get("functionName") or "(anonymous)"
        if name in ("(idle)", "(program)", "(garbage collector)"):
            package = name
        elif "node_modules/" in url:
            rest = url.split("node_modules/")[-1].split("/")
            package = "/".join(rest[:2]) if rest[0].startswith("@") else rest[0]
        elif url.startswith("node:"):
            package = "node internals"
        elif url:
            package = "gateway config"
        else:
            package = "native"
        total += n
        by_package[package] += n
        if package not in ("(idle)",):
            by_function[f"{name} ({url.rsplit('/', 1)[-1]})"] += n
    busy = total - by_package["(idle)"]
    return {
        "samples": total,
        "busy_share": round(busy / total, 3) if total else 0,
        "packages": {k: round(v / busy, 3) for k, v in by_package.most_common() if k != "(idle)"},
        "functions": {k: round(v / busy, 3) for k, v in by_function.most_common(top)},
    }
