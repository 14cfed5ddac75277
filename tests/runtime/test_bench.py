"""`citywatch bench` keeps working: both runs count real work (no timing is asserted here)."""

import pytest

from citywatch.runtime.bench import format_table, run_citywatch, run_naive


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
