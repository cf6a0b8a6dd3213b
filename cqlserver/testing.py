"""Helpers for test suites: start the server as a subprocess on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 15.0,
                  proc: subprocess.Popen | None = None) -> None:  # fmt: skip
    """Wait until ``host:port`` accepts TCP connections (or raise RuntimeError)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with code {proc.returncode} before listening")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing accepted connections on {host}:{port} within {timeout}s")


def start_cql_server(port: int, data_dir: str | None = None, host: str = "127.0.0.1",
                     timeout: float = 15.0) -> subprocess.Popen:  # fmt: skip
    """Start ``python -m cqlserver`` on ``port`` and wait until it listens.

    The caller owns the process (terminate/kill it at the end).
    """
    cmd = [sys.executable, "-m", "cqlserver", "--host", host, "--port", str(port)]
    if data_dir:
        cmd += ["--data-dir", data_dir]
    env = dict(os.environ, CQLSERVER_LOG_LEVEL=os.environ.get("CQLSERVER_LOG_LEVEL", "WARNING"))
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    try:
        wait_for_port(port, host, timeout, proc)
    except RuntimeError as e:
        proc.kill()
        proc.wait()
        raise RuntimeError(
            f"could not start the CQL server ({e}); run it by hand to see why: {' '.join(cmd)}"
        ) from None
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
