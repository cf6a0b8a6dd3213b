"""The load generator: wrk (C, event-driven, HTTP/1.1 keep-alive), driven with a Lua script
that POSTs one GraphQL request over and over.

wrk is used because a load generator written in Python would compete with the servers for
the machine's two cores and saturate before they do: one wrk thread sends several thousand
requests per second for a fraction of one core. Every run reports the client's own CPU
(``client_cpu``: wrk's user+system seconds over the run's wall seconds, so 0.25 = a quarter
of one core), read from ``getrusage(RUSAGE_CHILDREN)``.

Two ways to run it:

* **saturated** (``connections`` 16): the servers are never idle, so requests per second is
  the throughput the servers can give;
* **below saturation** (``connections`` 1): one request at a time, so the latency
  percentiles are the servers' own service time, not time spent queueing.
"""

from __future__ import annotations

import json
import re
import resource
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class LoadError(RuntimeError):
    """wrk is missing, failed, or the request it would send does not answer correctly."""


@dataclass(frozen=True)
class Request:
    """One GraphQL POST: where, what, and with which headers."""

    url: str
    query: str
    variables: dict[str, Any] | None = None
    headers: dict[str, str] | None = None

    @property
    def body(self) -> str:
        return json.dumps({"query": self.query, "variables": self.variables or {}})

    def check(self) -> bytes:
        """Sends the request once and returns the response body; raises if the answer is not
        a 200 with data and without errors (wrk itself only counts non-2xx answers)."""
        response = httpx.post(
            self.url,
            content=self.body,
            headers={"content-type": "application/json", **(self.headers or {})},
            timeout=30,
        )
        answer = response.json()
        if response.status_code != 200 or answer.get("errors") or not answer.get("data"):
            raise LoadError(
                f"{self.url} answered {response.status_code} {response.text[:500]} to "
                f"{self.query[:120]}"
            )
        return response.content


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    requests: int
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors, timeouts and non-2xx answers
    seconds: float
    client_cpu: float  # wrk's CPU seconds per wall second (1.0 = one whole core)

    def as_dict(self) -> dict[str, float]:
        return {
            "rps": round(self.requests_per_second, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "errors": self.errors,
            "client_cpu": round(self.client_cpu, 3),
        }


def _lua(request: Request) -> str:
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(request.body)}"]
    headers = {"content-type": "application/json", **(request.headers or {})}
    for name, value in headers.items():
        lines.append(f"wrk.headers[ {_lua_string(name)} ] = {_lua_string(value)}")
    return "\n".join(lines) + "\n"


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        raise LoadError(f"cannot read wrk's latency {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(output: str, seconds: float, client_cpu: float) -> Result:
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    total = re.search(r"^\s+(\d+) requests in ([\d.]+)(\w+)", output, re.MULTILINE)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    if not (total and rate and "50" in percentiles and "99" in percentiles):
        raise LoadError(f"cannot read wrk's output:\n{output}")
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Result(
        requests_per_second=float(rate.group(1)),
        requests=int(total.group(1)),
        p50_ms=_ms(percentiles["50"]),
        p99_ms=_ms(percentiles["99"]),
        errors=errors,
        seconds=seconds,
        client_cpu=client_cpu,
    )


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise LoadError("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    return path


def run(request: Request, *, seconds: float, connections: int) -> Result:
    """Runs wrk (one thread) for ``seconds`` with ``connections`` open connections."""
    request.check()
    with tempfile.TemporaryDirectory(prefix="shop-bench-") as folder:
        script = Path(folder) / "request.lua"
        script.write_text(_lua(request))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        completed = subprocess.run(
            [
                wrk_path(),
                "--latency",
                "-t1",
                f"-c{connections}",
                f"-d{seconds:g}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                request.url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0 or completed.stderr.strip():
        raise LoadError(f"wrk failed: {completed.stderr or completed.stdout}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = parse(completed.stdout, seconds, cpu / seconds)
    if result.errors:
        raise LoadError(
            f"{result.errors} of {result.requests} requests failed:\n{completed.stdout}"
        )
    request.check()  # still answering correctly after the load
    return result


def saturated(request: Request, seconds: float) -> Result:
    return run(request, seconds=seconds, connections=16)


def one_at_a_time(request: Request, seconds: float) -> Result:
    return run(request, seconds=seconds, connections=1)
