"""docs/ARCHITECTURE.md draws the tree; this checks it against the disk both ways: every
folder and file it names exists, and every folder the project keeps (and every module of the
kit's and of each subgraph's top level) is named there.

The drawing's grammar: an entry starts before the description column, two spaces of indent
per level, names separated by ", ", a folder ends with "/". ``<name>`` stands for each
subgraph. A description that starts with "(items, orders)" says the entry exists only in
those subgraphs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUBGRAPHS = sorted(p.name for p in (ROOT / "subgraphs").iterdir() if (p / "app.py").exists())
DESCRIPTION_COLUMN = 25


def drawn_tree() -> dict[str, set[str] | None]:
    """Each path the tree names (folders end with "/"), with the subgraphs it is limited to
    (None: all of them, or not per subgraph)."""
    text = (ROOT / "docs/ARCHITECTURE.md").read_text()
    block = re.search(r"## Tree\n\n```\n(.*?)```", text, re.S)
    assert block, "docs/ARCHITECTURE.md has no ## Tree code block"
    paths: dict[str, set[str] | None] = {}
    parents: list[tuple[int, str, set[str] | None]] = []
    for line in block.group(1).splitlines():
        indent = len(line) - len(line.lstrip())
        if not line.strip() or indent >= DESCRIPTION_COLUMN - 1:
            continue  # a description's next line
        names, _, description = line.strip().partition("  ")
        only = re.match(r"\(([a-z, ]+)\)", description.strip())
        limit = set(only.group(1).split(", ")) if only else None
        parents = [p for p in parents if p[0] < indent]
        parent = parents[-1][1] if parents else ""
        inherited = parents[-1][2] if parents else None
        for name in names.split(", "):
            path = parent + name
            paths[path] = limit if limit is not None else inherited
            if name.endswith("/"):
                parents.append((indent, path, paths[path]))
    return paths


def expand(path: str, limit: set[str] | None) -> list[str]:
    if "<name>" not in path:
        return [path]
    return [path.replace("<name>", s) for s in SUBGRAPHS if limit is None or s in limit]


def on_disk() -> set[str]:
    """The folders git keeps (with "/"), and every file."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    found = {f for f in files if (ROOT / f).exists()}
    for f in list(found):
        parts = f.split("/")[:-1]
        found |= {"/".join(parts[: n + 1]) + "/" for n in range(len(parts))}
    return found


def test_every_path_the_tree_names_exists() -> None:
    disk = on_disk()
    drawn = drawn_tree()
    assert len(drawn) > 40, sorted(drawn)
    missing = sorted(
        path
        for drawn_path, limit in drawn.items()
        for path in expand(drawn_path, limit)
        if path not in disk
    )
    assert not missing, f"docs/ARCHITECTURE.md names what is not on disk: {missing}"


def test_an_entry_limited_to_some_subgraphs_is_in_no_other() -> None:
    disk = on_disk()
    extra = sorted(
        path.replace("<name>", s)
        for path, limit in drawn_tree().items()
        if limit is not None and "<name>" in path
        for s in SUBGRAPHS
        if s not in limit and path.replace("<name>", s) in disk
    )
    assert not extra, f"docs/ARCHITECTURE.md limits these to other subgraphs: {extra}"


def kept(path: str) -> bool:
    """Whether the tree must name ``path``: every top-level folder, every folder of the kit
    and of a subgraph, the tests' suites, and the kit's and each subgraph's own modules."""
    if path.startswith(".") or "__pycache__" in path or path.endswith("__init__.py"):
        return False
    if path.endswith("/"):
        top, depth = path.split("/")[0], path.count("/")
        return depth == 1 or top in {"shopkit", "subgraphs"} or (top == "tests" and depth == 2)
    return bool(re.fullmatch(r"shopkit/\w+\.py|subgraphs/\w+/\w+\.(py|graphql)", path))


def test_every_folder_and_top_level_module_on_disk_is_in_the_tree() -> None:
    drawn = {path for p, limit in drawn_tree().items() for path in expand(p, limit)}
    drawn |= {"/".join(p.split("/")[:n]) + "/" for p in drawn for n in range(1, p.count("/"))}
    undrawn = sorted(path for path in on_disk() if kept(path) and path not in drawn)
    assert not undrawn, f"on disk but not in docs/ARCHITECTURE.md's tree: {undrawn}"
