"""Zone filtering shared by analyzers: a detection counts where its anchor lies in a zone."""

import cv2
import numpy as np
import supervision as sv

from citywatch.config import Zone
from citywatch.domain.incident_types import IncidentType


class ZoneFilter:
    """Keeps the detections whose box centre lies inside a zone that applies to one incident type.

    A camera without zones for the type keeps everything. Zones are in frame fractions, so the
    same config works for a main stream and a sub-stream of another resolution.
    """

    def __init__(self, zones: list[Zone], incident_type: IncidentType) -> None:
        self._polygons = [
            np.asarray(zone.polygon, dtype=np.float32)
            for zone in zones
            if zone.incident_types is None or incident_type.value in zone.incident_types
        ]

    def __call__(self, detections: sv.Detections, width: int, height: int) -> sv.Detections:
        if not self._polygons or len(detections) == 0:
            return detections
        centres = detections.get_anchors_coordinates(sv.Position.CENTER) / np.array([width, height])
        inside = np.zeros(len(detections), dtype=bool)
        for polygon in self._polygons:
            inside |= np.array(
                [cv2.pointPolygonTest(polygon, (float(x), float(y)), False) >= 0 for x, y in centres]
            )
        return detections[inside]
