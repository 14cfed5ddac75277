import threading
import time
from collections.abc import Callable, Iterable

import numpy as np
import pytest

from citywatch.perception.scheduler import InferenceJob, InferenceResult, InferenceScheduler
from citywatch.perception.yolo import YoloDetector
from citywatch.video.frame import Frame

Frames = Callable[[str, Iterable[int]], list[np.ndarray]]


class Results:
    """Collects results in the order the scheduler delivers them."""

    def __init__(self) -> None:
        self.items: list[InferenceResult] = []
        self.lock = threading.Lock()

    def __call__(self, result: InferenceResult) -> None:
        with self.lock:
            self.items.append(result)

    def order(self) -> list[tuple[str, int]]:
        return [(r.job.frame.camera_id, r.job.frame.index) for r in self.items]


def _job(
    camera: str, index: int, image: np.ndarray, roles: tuple[str, ...], on_done: Results
) -> InferenceJob:
    return InferenceJob(Frame(camera, index, time.time(), image), roles, on_done)  # captured now


def timed(scheduler: InferenceScheduler, seconds_per_frame: float) -> InferenceScheduler:
    """As if the worker had already timed its batches at `seconds_per_frame` a frame (an untimed
    worker takes one frame at a time until it has: what these batching tests are not about)."""
    scheduler._batches_timed = 1
    scheduler._mean_seconds_per_frame, scheduler._deviation = seconds_per_frame, 0.0
    return scheduler


@pytest.fixture
def detectors(coco: YoloDetector, fire_smoke: YoloDetector) -> dict[str, YoloDetector]:
    return {"coco": coco, "fire_smoke": fire_smoke}


def test_jobs_from_many_cameras_are_batched_and_answered_in_order(
    detectors: dict[str, YoloDetector], frames: Frames
) -> None:
    images = frames("person", [100, 300]) + frames("car", [224, 232])
    results, submitted, order_lock = Results(), [], threading.Lock()
    scheduler = InferenceScheduler(
        detectors, batch_size=4, max_wait_ms=50, per_camera=4, latency_budget_s=None
    )
    scheduler.start()

    def camera(name: str) -> None:
        for index in range(4):
            roles = ("coco", "fire_smoke") if index % 2 else ("coco",)
            with order_lock:  # the queue's order is the order jobs got into it
                assert scheduler.submit(_job(name, index, images[index], roles, results))
                submitted.append((name, index))

    threads = [threading.Thread(target=camera, args=(f"cam{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert scheduler.stop(timeout=60)

    assert sorted(results.order()) == sorted(submitted)
    for name in ("cam0", "cam1", "cam2"):  # each camera's frames in the order it sent them
        assert [i for c, i in results.order() if c == name] == [i for c, i in submitted if c == name]
    stats = scheduler.stats
    assert (stats.jobs_submitted, stats.jobs_done, stats.jobs_dropped, stats.queue_depth) == (12, 12, 0, 0)
    assert stats.frames_per_role == {"coco": 12, "fire_smoke": 6}
    assert stats.detector_calls["coco"] >= 3  # at most 4 frames a call
    assert stats.busy_seconds > 0 and stats.errors == 0
    for result in results.items:
        assert result.error is None and set(result.detections) == set(result.job.roles)
        assert result.finished_at >= result.job.submitted_at
        expected = detectors["coco"].detect(result.job.frame.image)
        np.testing.assert_allclose(result.detections["coco"].xyxy, expected.xyxy)
    person = results.items[submitted.index(("cam0", 1))].detections["coco"]
    assert "person" in person.data["class_name"]


def test_a_full_queue_drops_the_oldest_jobs(detectors: dict[str, YoloDetector], frames: Frames) -> None:
    image = frames("car", [232])[0]
    results = Results()
    scheduler = timed(InferenceScheduler(detectors, batch_size=8, max_wait_ms=0, queue_size=2), 0.0)
    for index in range(5):  # not started yet: nothing is taken off the queue
        assert scheduler.submit(_job("cam", index, image, ("coco",), results))
    assert (scheduler.stats.jobs_dropped, scheduler.stats.queue_depth) == (3, 2)
    scheduler.start()
    assert scheduler.stop(timeout=30)
    assert results.order() == [("cam", 3), ("cam", 4)]
    assert scheduler.stats.detector_calls == {"coco": 1, "fire_smoke": 0}  # both in one batch


def test_stop_finishes_queued_jobs_then_refuses_new_ones(
    detectors: dict[str, YoloDetector], frames: Frames
) -> None:
    image = frames("person", [300])[0]
    results = Results()
    # No latency budget: on a busy machine six queued frames outlive 2 s, and this test is about
    # stopping, not shedding.
    scheduler = InferenceScheduler(detectors, batch_size=2, per_camera=8, latency_budget_s=None)
    scheduler.start()
    for index in range(6):
        scheduler.submit(_job("cam", index, image, ("fire_smoke",), results))
    assert scheduler.stop(timeout=30)
    assert len(results.items) == 6 and scheduler.stats.jobs_done == 6
    assert not scheduler.submit(_job("cam", 6, image, ("coco",), results))


def test_failures_are_reported_and_the_worker_goes_on(
    detectors: dict[str, YoloDetector], frames: Frames
) -> None:
    image = frames("car", [232])[0]
    results = Results()

    def failing_callback(result: InferenceResult) -> None:
        raise RuntimeError("operator display went away")

    scheduler = timed(InferenceScheduler(detectors, batch_size=8, max_wait_ms=0, per_camera=4), 0.0)
    broken = np.zeros((0, 0, 3), dtype=np.uint8)  # a frame no detector can read
    scheduler.submit(_job("cam", 0, broken, ("coco",), results))
    scheduler.submit(_job("cam", 1, image, ("coco", "fire_smoke"), results))
    scheduler.submit(_job("cam", 2, image, ("fire_smoke",), failing_callback))
    scheduler.submit(_job("cam", 3, image, ("fire_smoke",), results))
    scheduler.start()
    assert scheduler.stop(timeout=30)

    first, second, last = results.items
    # The coco call of that batch failed, for every frame in it; fire_smoke still ran.
    assert first.error is not None and first.error.startswith("coco:")
    assert second.error == first.error and set(second.detections) == {"fire_smoke"}
    assert last.error is None and "fire_smoke" in last.detections
    assert scheduler.stats.jobs_done == 4 and scheduler.stats.errors == 2


def test_an_unknown_role_is_refused(detectors: dict[str, YoloDetector], frames: Frames) -> None:
    scheduler = InferenceScheduler(detectors)
    with pytest.raises(ValueError, match="weapon"):
        scheduler.submit(_job("cam", 0, frames("car", [0])[0], ("weapon",), Results()))


def test_a_busy_camera_cannot_crowd_out_the_others_and_late_frames_are_shed(
    detectors: dict[str, YoloDetector], frames: Frames
) -> None:
    """Overload: one camera submits ten frames, two others one each, one frame is already 5 s old.
    The busy camera keeps only its newest two (superseded), batches take the cameras in turn, and
    the old frame is shed as late instead of analysed 5 s after it was captured."""
    image = frames("car", [232])[0]
    results = Results()
    scheduler = InferenceScheduler(
        detectors, batch_size=2, max_wait_ms=0, queue_size=16, latency_budget_s=2.0
    )
    for index in range(10):
        scheduler.submit(_job("busy", index, image, ("coco",), results))
    scheduler.submit(_job("quiet", 0, image, ("coco",), results))
    old = InferenceJob(Frame("stale", 0, time.time() - 5, image), ("coco",), results)
    scheduler.submit(old)
    scheduler.start()
    assert scheduler.stop(timeout=30)
    assert results.order()[:2] == [("busy", 8), ("quiet", 0)]  # the first batch: one of each camera
    assert sorted(results.order()) == [("busy", 8), ("busy", 9), ("quiet", 0)]
    stats = scheduler.stats
    assert stats.shed == {"busy": {"superseded": 8}, "stale": {"late": 1}}
    assert len(stats.latencies_s) == 3 and max(stats.latencies_s) < 2.0


def test_under_load_the_least_important_passes_go_first(
    detectors: dict[str, YoloDetector], frames: Frames
) -> None:
    """A frame that waited past half the budget loses its low-ranked roles, more of them the longer
    it waited; the most important role runs until the frame is late; a frame left with nothing is
    shed. Ranks: fire_smoke 0 (fire), coco 2 (a later type); three priority levels."""
    image = frames("car", [232])[0]
    now = 1_000.0
    results = Results()
    scheduler = InferenceScheduler(
        detectors, batch_size=8, max_wait_ms=0, latency_budget_s=2.0, priority_levels=3, clock=lambda: now
    )
    timed(scheduler, 0.0)  # one batch, each frame judged by its own wait
    ranks = {"fire_smoke": 0, "coco": 2}
    for camera, waited, roles in (
        ("fresh", 0.5, ("coco", "fire_smoke")),  # under half the budget: everything runs
        ("waiting", 1.4, ("coco", "fire_smoke")),  # cut-off 1.8: coco (2) skipped, fire kept
        ("coco_only", 1.4, ("coco",)),  # nothing left: shed
        ("almost_late", 1.9, ("coco", "fire_smoke")),  # only rank 0 left
    ):
        frame = Frame(camera, 0, now - waited, image)
        scheduler.submit(InferenceJob(frame, roles, results, role_ranks=ranks))
    scheduler.start()
    assert scheduler.stop(timeout=30)
    ran = {r.job.frame.camera_id: (sorted(r.detections), sorted(r.job.skipped_roles)) for r in results.items}
    assert ran == {
        "fresh": (["coco", "fire_smoke"], []),
        "waiting": (["fire_smoke"], ["coco"]),
        "almost_late": (["fire_smoke"], ["coco"]),
    }
    stats = scheduler.stats
    assert stats.shed == {"coco_only": {"low_priority": 1}}
    assert stats.skipped_passes == {"waiting": {"coco": 1}, "almost_late": {"coco": 1}}
    assert stats.jobs_dropped == 1 and stats.frames_per_role == {"coco": 1, "fire_smoke": 3}


def test_a_frame_is_not_taken_when_it_would_be_done_past_the_budget(
    detectors: dict[str, YoloDetector], frames: Frames
) -> None:
    """With the worker at 0.5 s a frame (as if measured), a batch is done 0.5 s per frame after it
    starts, all its frames at once. A frame 1.0 s old and one 0.2 s old make a batch done when the
    older is 2.0 s old: within the 2 s budget. A third would make it 2.5 s: that frame waits to go
    first in the next batch instead of making the oldest late. A frame already 1.8 s old cannot be
    done in time even alone: shed as late."""
    image = frames("car", [232])[0]
    now = 1_000.0
    results = Results()
    scheduler = InferenceScheduler(
        detectors, batch_size=8, max_wait_ms=0, latency_budget_s=2.0, clock=lambda: now
    )
    timed(scheduler, 0.5)
    for camera, waited in (("a", 1.0), ("b", 0.2), ("c", 0.2), ("old", 1.8)):
        scheduler.submit(InferenceJob(Frame(camera, 0, now - waited, image), ("coco",), results))
    scheduler.start()
    assert scheduler.stop(timeout=30)
    assert results.order() == [("a", 0), ("b", 0), ("c", 0)]
    stats = scheduler.stats
    assert stats.shed == {"old": {"late": 1}}
    assert stats.detector_calls == {"coco": 2, "fire_smoke": 0}  # [a, b], then [c]


def test_an_untimed_worker_takes_one_frame_before_it_batches(
    detectors: dict[str, YoloDetector], frames: Frames
) -> None:
    """Until it has timed a batch the worker cannot tell how long a batch takes (and the first runs
    of a model are the slowest): its first batch is one frame, then it batches."""
    image = frames("car", [232])[0]
    results = Results()
    scheduler = InferenceScheduler(detectors, batch_size=8, max_wait_ms=0, latency_budget_s=30.0)
    for camera in ("a", "b", "c"):
        scheduler.submit(_job(camera, 0, image, ("coco",), results))
    scheduler.start()
    assert scheduler.stop(timeout=30)
    assert results.order() == [("a", 0), ("b", 0), ("c", 0)]
    assert scheduler.stats.detector_calls["coco"] == 2  # [a], then [b, c]


def test_a_stale_estimate_over_the_budget_does_not_starve_the_worker(
    detectors: dict[str, YoloDetector], frames: Frames
) -> None:
    """After a stall the worker's planned cost of one frame (3 s) exceeds the whole budget (2 s): no
    frame could be planned in time. Shedding every frame as late would never run a batch, so the
    estimate would never be measured again and the cameras would go blind for good (seen under load
    on 2 cores: every frame shed, jobs done frozen). Frames still within the budget are taken one at
    a time instead; one already past it is shed."""
    image = frames("car", [232])[0]
    now = 1_000.0
    results = Results()
    scheduler = InferenceScheduler(
        detectors, batch_size=8, max_wait_ms=0, latency_budget_s=2.0, clock=lambda: now
    )
    timed(scheduler, 3.0)
    for camera, waited in (("a", 0.1), ("b", 0.1), ("old", 2.5)):
        scheduler.submit(InferenceJob(Frame(camera, 0, now - waited, image), ("coco",), results))
    scheduler.start()
    assert scheduler.stop(timeout=30)
    assert results.order() == [("a", 0), ("b", 0)]
    assert scheduler.stats.shed == {"old": {"late": 1}}
    assert scheduler.stats.detector_calls["coco"] == 2  # one frame a batch while the estimate is over
