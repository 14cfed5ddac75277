"""Prometheus metrics at /metrics, read from the Supervisor's counters at scrape time (a
collector, not counters updated on the hot path) and from the store (incidents by status).

Without a running pipeline only the store's numbers and the last known camera states appear.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from citywatch.services.context import AppContext
from citywatch.storage.schema import IncidentRow
from citywatch.video.state import CameraState


class CitywatchCollector(Collector):
    def __init__(self, context: AppContext) -> None:
        self._context = context

    def collect(self) -> Iterator[Metric]:
        yield from self._store_metrics()
        yield from self._camera_states()
        supervisor = self._context.supervisor
        if supervisor is None:
            return
        stats = supervisor.stats()
        frames = CounterMetricFamily(
            "citywatch_frames", "Frames per camera and stage", labels=["camera", "stage"]
        )
        detections = CounterMetricFamily(
            "citywatch_detections", "Detector boxes per camera", labels=["camera"]
        )
        failures = CounterMetricFamily(
            "citywatch_analyzer_failures",
            "Analyzer exceptions per camera and incident type (each reset that analyzer's state)",
            labels=["camera", "type"],
        )
        for camera_id, camera in stats.cameras.items():
            for incident_type, health in camera.analyzers.items():
                failures.add_metric([camera_id, incident_type.value], health.failures)
            counters, source = camera.counters, camera.source
            for stage, value in (
                ("decoded", source.frames_decoded),
                ("dropped", source.frames_dropped),
                ("sampled", counters.frames_sampled),
                ("motion_skipped", counters.frames_motion_skipped),
                ("submitted", counters.frames_submitted),
                ("analysed", counters.frames_analysed),
            ):
                frames.add_metric([camera_id, stage], value)
            detections.add_metric([camera_id], counters.detections)
        yield frames
        yield detections
        yield failures
        scheduler, sink = stats.scheduler, stats.sink
        queue = GaugeMetricFamily("citywatch_queue_depth", "Items waiting per queue", labels=["queue"])
        queue.add_metric(["inference"], scheduler.queue_depth)
        queue.add_metric(["store_outbox"], sink.outbox)
        yield queue
        dropped = CounterMetricFamily("citywatch_inference_dropped", "Frames dropped by the inference queue")
        dropped.add_metric([], scheduler.jobs_dropped)
        yield dropped
        yield _per_camera(
            "citywatch_frames_shed",
            "Frames not analysed under load, per camera and reason (superseded, late, queue_full, "
            "low_priority)",
            "reason",
            scheduler.shed,
        )
        yield _per_camera(
            "citywatch_passes_skipped",
            "Frames analysed without a detector role's pass under load (models.type_priority), per camera",
            "role",
            scheduler.skipped_passes,
        )
        passes = CounterMetricFamily(
            "citywatch_detector_frames",
            "Frames each detector role ran on, and frames it skipped because its trigger did not fire",
            labels=["role", "outcome"],
        )
        for role, count in scheduler.frames_per_role.items():
            passes.add_metric([role, "run"], count)
        for role, count in scheduler.frames_gated_per_role.items():
            passes.add_metric([role, "gated"], count)
        yield passes
        stored = CounterMetricFamily("citywatch_incidents_stored", "Incidents stored by this process")
        stored.add_metric([], sink.incidents_stored)
        yield stored
        errors = CounterMetricFamily("citywatch_evidence_errors", "Snapshots and clips that failed")
        errors.add_metric([], sink.evidence_errors)
        yield errors

    def _store_metrics(self) -> Iterator[Metric]:
        query = select(IncidentRow.type, IncidentRow.status, func.count()).group_by(
            IncidentRow.type, IncidentRow.status
        )
        rows = self._context.store.read(
            "count incidents for metrics", lambda s: [tuple(row) for row in s.execute(query)]
        )
        incidents = GaugeMetricFamily(
            "citywatch_incidents", "Stored incidents by type and status", labels=["type", "status"]
        )
        for type_, status, count in rows:
            incidents.add_metric([type_.value, status.value], count)
        yield incidents

    def _camera_states(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "citywatch_camera_state", "1 for each camera's current health state", labels=["camera", "state"]
        )
        states = self._context.monitor.states()
        for camera in self._context.cameras:
            current = states.get(camera.id)
            for state in CameraState:
                gauge.add_metric([camera.id, state.value], 1.0 if current and current.state == state else 0.0)
        yield gauge


def metrics_registry(context: AppContext) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(CitywatchCollector(context))
    return registry


def render(registry: CollectorRegistry) -> tuple[bytes, str]:
    return generate_latest(registry), CONTENT_TYPE_LATEST


def _per_camera(
    name: str, documentation: str, key: str, counts: dict[str, dict[str, int]]
) -> CounterMetricFamily:
    """A counter family labelled by camera and `key` from camera -> key -> count."""
    family = CounterMetricFamily(name, documentation, labels=["camera", key])
    for camera_id, per_key in counts.items():
        for value, count in per_key.items():
            family.add_metric([camera_id, value], count)
    return family
