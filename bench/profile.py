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

# Which package a frame belongs to, by its file path.
_PACKAGES = [
    ("graphql-core: validation", re.compile(r"graphql/validation/")),
    ("graphql-core: parser", re.compile(r"graphql/language/")),
    ("graphql-core: execution", re.compile(r"graphql/(execution|type|pyutils|utilities)/")),
    ("strawberry", re.compile(r"strawberry/")),
    ("starlette", re.compile(r"starlette/")),
    ("uvicorn/h11/httptools", re.compile(r"(uvicorn|h11|httptools)/")),
    ("asyncio/uvloop", re.compile(r"(asyncio/|uvloop)")),
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
    """Shares of the samples by the leaf frame's package, and the busiest leaf functions."""
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
