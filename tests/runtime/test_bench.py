"""`citywatch bench` keeps working: both runs count real work (no timing is asserted here)."""

import json
from pathlib import Path

import pytest

from citywatch.runtime.bench import (
    RunResult,
    find_capacity,
    format_table,
    run_capacity_search,
    run_citywatch,
    run_naive,
    sustained,
)


@pytest.mark.slow
def test_bench_runs_both_pipelines_on_real_clips() -> None:
    ours = run_citywatch(cameras=2, seconds=4, analytics_fps=2)
    naive = run_naive(cameras=2, seconds=4, analytics_fps=2)

    assert ours.frames_decoded > 50 and ours.frames_analysed > 4
    assert ours.detector_calls >= 1 and ours.cpu_s > 0
    assert ours.frames_sampled >= ours.frames_analysed + ours.frames_motion_skipped - ours.frames_dropped
    # naive: every frame of 4 s of each clip (12.5 and 29.97 fps) decoded, 2 fps of them analysed
    assert 4 * 12.5 + 4 * 29.97 - 4 <= naive.frames_decoded <= 4 * 12.5 + 4 * 29.97 + 2
    assert naive.detector_calls == naive.frames_analysed == pytest.approx(2 * 4 * 2, abs=2)
    table = format_table(ours, naive)
    assert "throughput ratio citywatch / naive" in table and "| frames analysed/s |" in table
    assert "| detector passes skipped by role (priority) |" in table and ours.passes_skipped is not None


def _result(cameras: int, p95_s: float | None, dropped: int = 0, skipped: int = 0) -> RunResult:
    return RunResult(
        "citywatch",
        cameras,
        10.0,
        5.0,
        10.0 * cameras,
        100,
        20,
        0,
        20,
        20,
        dropped,
        0,
        None,
        None,
        100.0,
        latency_p95_s=p95_s,
        frames_shed={},
        passes_skipped={"coco": skipped},
    )


def test_sustained_means_nothing_dropped_no_pass_skipped_and_p95_under_budget() -> None:
    assert sustained(_result(3, 1.9))
    assert not sustained(_result(3, 2.0))
    assert not sustained(_result(3, 0.5, dropped=1))
    assert not sustained(_result(3, 0.5, skipped=1))
    assert not sustained(_result(3, None))


def test_capacity_search_doubles_then_bisects_to_the_largest_sustained_count() -> None:
    tried: list[int] = []

    def trial(cameras: int) -> RunResult:  # this "machine" keeps up with at most 11 cameras
        tried.append(cameras)
        return _result(cameras, 0.15 * cameras if cameras <= 11 else 2.5)

    best, runs = find_capacity(20, trial)
    assert best == 11
    assert tried == [1, 2, 4, 8, 16, 12, 10, 11]
    assert [r.cameras for r in runs] == sorted(tried)
    assert find_capacity(20, lambda n: _result(n, 3.0))[0] == 0
    assert find_capacity(5, lambda n: _result(n, 0.1))[0] == 5


@pytest.mark.slow
def test_synthetic_bench_on_real_clips_reports_the_largest_sustained_count(tmp_path: Path) -> None:
    out = tmp_path / "capacity.json"
    assert run_capacity_search(2, seconds=3, analytics_fps=1, out=str(out)) == 0
    report = json.loads(out.read_text())
    runs = [RunResult(**r) for r in report["runs"]]
    assert runs[0].cameras == 1 and runs[0].frames_analysed > 0
    sustained_counts = [r.cameras for r in runs if sustained(r)]
    assert report["sustained"] == max(sustained_counts, default=0)
