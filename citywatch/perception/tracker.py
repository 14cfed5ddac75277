"""Per-camera multi-object tracking: ByteTrack from the `trackers` library."""

import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

from citywatch.perception.yolo import empty_detections

TRACKED_ROLE = "coco"
"""The detector role whose detections get track ids (people and vehicles)."""

# ByteTrack counts its lost-track buffer in frames of a 30 fps video, whatever the real rate.
_BUFFER_REFERENCE_FPS = 30.0


class ObjectTracker:
    """Gives detections of one camera stable `tracker_id`s across its analysed frames.

    `frame_rate` is the rate frames reach the tracker (the camera's analytics fps, not the stream's);
    a track that sees no detection for `lost_track_seconds` ends, and its object gets a new id if it
    comes back. Tracking is class-agnostic, so an object whose class flickers keeps its id.
    """

    def __init__(self, frame_rate: float, lost_track_seconds: float = 2.0) -> None:
        if lost_track_seconds <= 0:
            raise ValueError(f"lost_track_seconds must be positive, not {lost_track_seconds}")
        self._tracker = ByteTrackTracker(
            lost_track_buffer=max(1, round(lost_track_seconds * _BUFFER_REFERENCE_FPS)),
            frame_rate=frame_rate,
        )

    def update(self, detections: sv.Detections, timestamp: float) -> sv.Detections:
        """The confirmed tracks among `detections` of the frame taken at `timestamp`.

        `timestamp` is absolute seconds (Frame.timestamp); ByteTrack predicts motion over the real
        time since the previous frame, so skipped frames are handled. A timestamp earlier than the
        previous one is ignored by ByteTrack (with a warning) and returns nothing here. Detections
        not (yet) confirmed as a track are left out; `data["class_name"]` is kept.
        """
        tracked = self._tracker.update(detections, timestamp=timestamp)
        confirmed = tracked[tracked.tracker_id >= 0] if len(tracked) else tracked
        if len(confirmed) == 0:
            result = empty_detections()
            result.tracker_id = np.empty(0, dtype=int)
            return result
        return confirmed
