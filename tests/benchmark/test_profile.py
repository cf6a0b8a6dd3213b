"""The benchmark's profile summaries (bench/profile.py): shares by package of py-spy's raw
samples, and a run that goes on when py-spy could not attach (no ptrace on a fresh machine)."""

from __future__ import annotations

from pathlib import Path

from bench.profile import NOT_ATTACHED, summarize


def test_samples_are_shared_by_the_package_of_their_leaf_frame(tmp_path: Path) -> None:
    raw = tmp_path / "1-subgraph-items.txt"
    raw.write_text(
        "run (uvicorn/main.py:1);validate (graphql/validation/validate.py:30) 3\n"
        "run (uvicorn/main.py:1);recv_into (pymongo/network_layer.py:9) 1\n"
    )
    summary = summarize(raw)
    assert summary["samples"] == 4
    assert summary["packages"] == {"graphql-core: validation": 0.75, "mongo driver": 0.25}
    assert next(iter(summary["functions"])) == "validate (validation/validate.py)"  # type: ignore[call-overload]


def test_a_profile_py_spy_never_wrote_is_reported_not_raised(tmp_path: Path) -> None:
    assert summarize(tmp_path / "never-written.txt") == {"samples": 0, "note": NOT_ATTACHED}
