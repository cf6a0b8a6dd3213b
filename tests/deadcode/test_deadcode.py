"""No dead code: vulture over the tree (``[tool.vulture]`` in pyproject.toml, ``make
deadcode``) finds nothing that is neither used nor in ``whitelist.py`` with its reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_vulture_finds_no_unused_code():
    found = subprocess.run(
        [sys.executable, "-m", "vulture"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert found.returncode == 0, f"unused code (remove it, or whitelist why):\n{found.stdout}"
