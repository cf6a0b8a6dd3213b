"""The JVM engines' jars and the ``java`` that runs them.

Each engine has a pinned Maven build file, ``engines/<name>/pom.xml``; ``make install``
resolves it into ``.tools/jvm/<name>/`` (``mvn dependency:copy-dependencies``, see the
Makefile), so the classpath of an engine is every jar of that folder. Nothing is downloaded
here: a missing folder is an error that says to run ``make install``.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

from stack.process import REPO_ROOT, StartError

ENGINES_DIR = REPO_ROOT / "engines"
JARS_DIR = REPO_ROOT / ".tools" / "jvm"
JDKS_DIR = Path("/usr/lib/jvm")  # where Debian installs JDKs: searched for an exact version
JAVA_HINT = (
    "Install OpenJDK 17 (`apt-get install -y openjdk-17-jre-headless`) or set JAVA_HOME to one."
)


def config_file(engine: str, name: str) -> Path:
    """A configuration file kept beside the engine's build file."""
    return ENGINES_DIR / engine / name


def jars(engine: str) -> Path:
    """The folder holding the engine's resolved jars."""
    folder = JARS_DIR / engine
    if not (folder / ".resolved").exists():
        raise StartError(
            f"the {engine} jars are not resolved in {folder}: run `make install` "
            f"(it runs `mvn dependency:copy-dependencies` on engines/{engine}/pom.xml)"
        )
    return folder


def classpath(engine: str) -> str:
    return f"{jars(engine)}/*"


def jar(engine: str, prefix: str) -> Path:
    """The one jar of the engine whose file name starts with ``prefix`` (e.g. ``jamm-``)."""
    found = sorted(jars(engine).glob(f"{prefix}*.jar"))
    if not found:
        raise StartError(f"no {prefix}*.jar among the {engine} jars: run `make install`")
    return found[-1]


@functools.cache
def _version_of(java: str) -> int:
    try:
        result = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as exc:
        raise StartError(f"cannot run {java}: {exc}. {JAVA_HINT}") from exc
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if match is None:
        raise StartError(f"cannot tell the version of {java}. {JAVA_HINT}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def java(*, exactly: int | None = None, at_least: int = 17) -> str:
    """The ``java`` to run an engine with: ``$JAVA_HOME/bin/java``, else the one on PATH,
    else (when a version is required exactly) any JDK of that version under /usr/lib/jvm."""
    candidates: list[str] = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(on_path)
    if exactly is not None:
        candidates += [str(p) for p in sorted(JDKS_DIR.glob(f"*{exactly}*/bin/java"))]
    seen: list[str] = []
    for candidate in candidates:
        if not Path(candidate).exists():
            continue
        version = _version_of(candidate)
        seen.append(f"{candidate} ({version})")
        if (exactly is None and version >= at_least) or version == exactly:
            return candidate
    wanted = f"Java {exactly} exactly" if exactly is not None else f"Java {at_least} or later"
    found = ", ".join(seen) or "no java at all"
    raise StartError(f"{wanted} is needed; found {found}. {JAVA_HINT}")
