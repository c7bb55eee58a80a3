"""The benchmark's command line and its arithmetic (never its timings: no wall-clock bounds here)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.booking import TARGETS, Result, ratio_of, ratio_rows, slowdown_verdict

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("module", ["bench.booking", "bench.availability"])
def test_help_runs(module: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert "usage:" in completed.stdout


def test_booking_skips_with_a_message_when_the_ceiling_is_absent(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.booking", "--ceiling", str(tmp_path / "nowhere")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("SKIPPED: the reference ceiling is not at")


def test_ratio_is_ours_over_the_mean_of_the_surrounding_ceilings() -> None:
    assert ratio_of(300.0, [900.0, 1100.0]) == pytest.approx(0.3)
    assert ratio_of(50.0, [20.0, math.nan]) == pytest.approx(2.5)  # a missing ceiling figure is left out
    assert math.isnan(ratio_of(50.0, []))


def test_rows_pair_each_run_with_the_ceiling_runs_around_it() -> None:
    ceiling = [
        {"booking": 1000.0, "contention50": 60.0, "single": 5.0},
        {"booking": 800.0, "contention50": 80.0, "single": 5.0},
        {"booking": 600.0, "contention50": 100.0, "single": 5.0},
    ]
    ours = [
        {"booking": 450.0, "hold": 450.0, "contention50": 140.0, "single": 10.0},
        {"booking": 420.0, "hold": 140.0, "contention50": 270.0, "single": 20.0},
    ]
    rows = {row.target.key: row for row in ratio_rows(ceiling, ours)}

    # run 1 against mean(1000, 800) = 900 -> 0.5; run 2 against mean(800, 600) = 700 -> 0.6
    assert rows["booking"].ratio == pytest.approx(0.55)
    assert rows["booking"].ours == pytest.approx(435.0)
    assert rows["booking"].ceiling == pytest.approx(800.0)
    assert not rows["booking"].met  # 0.55 < 0.6
    # the hold is compared with the ceiling's booking: 450 / 900 = 0.5, 140 / 700 = 0.2
    assert rows["hold"].ratio == pytest.approx(0.35)
    # latency: lower is better; 140 / 70 = 2.0 and 270 / 90 = 3.0
    assert rows["contention50"].ratio == pytest.approx(2.5)
    assert not rows["contention50"].met
    assert rows["single"].ratio == pytest.approx(3.0)
    assert rows["single"].met  # <= 3 x
    assert "contention200" not in rows  # measured by neither side: no row


def test_targets_point_the_right_way() -> None:
    by_key = {t.key: t for t in TARGETS}
    assert by_key["booking"].met(0.6) and not by_key["booking"].met(0.59)
    assert by_key["contention50"].met(2.0) and not by_key["contention50"].met(2.01)


def test_interleaving_needs_one_more_ceiling_run() -> None:
    with pytest.raises(ValueError):
        ratio_rows([{"booking": 1.0}], [{"booking": 1.0}])


def test_slowdown_compares_the_last_thirty_seconds_with_the_first() -> None:
    timeline = [100] * 30 + [95] * 60 + [90] * 30 + [7]  # the last, partial second is dropped
    verdict = slowdown_verdict(timeline)
    assert verdict["first"] == pytest.approx(100)
    assert verdict["last"] == pytest.approx(90)
    assert verdict["ratio"] == pytest.approx(0.9)


def test_contention_problems_name_wrong_winner_counts_and_errors() -> None:
    clean = Result({"ok_2xx": 80, "conflict": 20, "other_status": 0, "transport_errors": 0}, 0)
    assert clean.problems(expect_ok=80) == []
    short = Result({"ok_2xx": 79, "conflict": 20, "other_status": 1, "transport_errors": 0}, 0)
    found = short.problems(expect_ok=80)
    assert any("79 winners" in p for p in found) and any("errors" in p for p in found)
    assert Result({"double_booked_rounds": 1}, 3).problems()[-1].startswith("DOUBLE-BOOKED")
