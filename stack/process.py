"""Child processes: start, wait until ready, stop cleanly; and the private files they keep.

Everything a stack keeps under its data folder (databases, Kafka's log, Cassandra's commit
log, secrets, logs that may quote a request) is for its owner alone: folders 0700, files
0600. The stack creates its own folders and files so, and starts every child process with
the umask 077, so that what the engines and services write is private too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
PRIVATE_UMASK = 0o077
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Creates ``path`` and any missing parent as 0700 folders; an existing ``path`` is made
    0700 (a folder made by an older version, readable by everyone)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    path.chmod(PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Creates ``path`` (empty) as a 0600 file, or makes an existing one 0600."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE))
    path.chmod(PRIVATE_FILE)
    return path


def write_private(path: Path, text: str) -> Path:
    """Writes ``text`` to ``path``, which never exists with wider rights than 0600."""
    private_file(path).write_text(text)
    return path


def make_private(root: Path) -> None:
    """Takes the group's and others' rights off everything under ``root`` (data written
    before the stack kept it private)."""
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode) and mode & 0o077:
                path.chmod(stat.S_IMODE(mode) & ~0o077)
    root.chmod(PRIVATE_DIR)


class StartError(RuntimeError):
    """A process did not become ready; the message says how to get it."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_until(self, ready: Callable[[], bool], timeout: float, hint: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise StartError(
                    f"{self.name} exited with {self.popen.returncode} while starting. {hint} "
                    f"Its log: {self.log_path}\n{self.log_tail()}"
                )
            if ready():
                return
            time.sleep(0.1)
        self.stop()
        raise StartError(
            f"{self.name} was not ready after {timeout:.0f}s. {hint} "
            f"Its log: {self.log_path}\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout)

    def kill(self) -> None:
        """Stop abruptly, as a crash would."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    log_dir: Path,
    env: dict[str, str] | None = None,
    cwd: Path = REPO_ROOT,
    unset: Sequence[str] = (),
) -> Process:
    private_dir(log_dir)
    log_path = private_file(log_dir / f"{name}.log")
    log_file = log_path.open("ab")
    popen = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env={k: v for k, v in {**os.environ, **(env or {})}.items() if k not in unset},
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        umask=PRIVATE_UMASK,
    )
    log_file.close()
    return Process(name=name, popen=popen, log_path=log_path)
