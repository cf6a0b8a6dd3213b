"""The benchmark's phase 6 (bench/__main__.py): run by default, and its figures are the mean of
the alternated "on" runs over the mean of the "off" runs."""

from __future__ import annotations

from bench.__main__ import _ratios, parse_args
from bench.load import Result


def _run(rps: float, p50_ms: float) -> Result:
    return Result(rps, int(rps * 2), p50_ms, p50_ms * 3, 0, 2.0, 0.04)


def test_phase_6_is_run_by_default_and_can_be_chosen_alone() -> None:
    assert parse_args([]).phases == {1, 2, 3, 4, 5, 6}
    assert parse_args(["--quick", "--phases", "6"]).phases == {6}


def test_the_ratio_is_the_mean_of_the_on_runs_over_the_mean_of_the_off_runs() -> None:
    ratios = _ratios({"off": [_run(100, 10), _run(60, 14)], "on": [_run(90, 12), _run(50, 16)]})
    assert ratios["rps_ratio"] == round(70 / 80, 3)
    assert ratios["p50_ratio"] == round(14 / 12, 3)
    assert ratios["off_rps"] == [100, 60]
    assert ratios["on_rps"] == [90, 50]
