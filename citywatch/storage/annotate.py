"""Drawing an incident on its frame: the boxes (a colour per label) and a header line."""

import zlib
from datetime import UTC, datetime, tzinfo

import cv2
import numpy as np
import supervision as sv

from citywatch.domain.incident import Incident

_PALETTE = sv.ColorPalette.DEFAULT


def label_color_index(label: str) -> int:
    """A palette index that is the same for a label in every snapshot, run and process."""
    return zlib.crc32(label.encode("utf-8")) % len(_PALETTE.colors)


def header_text(incident: Incident, zone: tzinfo) -> str:
    """'fire/smoke  cam01  2025-01-31 14:05:09 +0700': type code, camera id and the start in the
    camera's local time (`zone`) with its UTC offset, so the picture says when it was taken whatever
    server wrote it.

    ASCII on purpose: the header is drawn with OpenCV's Hershey font, which has no Thai glyphs, and
    a Thai font would have to be installed on every server that writes evidence (a missing one
    would burn boxes instead of letters into the evidence, unnoticed). The codes and the numbers
    read the same everywhere; the incident report gives the type and camera names in Thai.
    """
    kind = incident.type.value + (f"/{incident.subtype}" if incident.subtype else "")
    when = datetime.fromtimestamp(incident.started_at, zone).strftime("%Y-%m-%d %H:%M:%S %z")
    return f"{kind}  {incident.camera_id}  {when}"


def annotate(incident: Incident, image: np.ndarray, zone: tzinfo = UTC) -> np.ndarray:
    """A copy of the BGR `image` with the incident's boxes and header (its time in `zone`) drawn on it."""
    canvas = image.copy()
    scale = max(canvas.shape[:2]) / 1000  # line and text sizes follow the picture size
    thickness = max(2, round(2 * scale))  # 2 px at least: JPEG smears thinner lines away
    if incident.boxes:
        detections = sv.Detections(
            xyxy=np.array([box.xyxy for box in incident.boxes], dtype=np.float32),
            confidence=np.array([box.confidence for box in incident.boxes], dtype=np.float32),
            class_id=np.array([label_color_index(box.label) for box in incident.boxes], dtype=int),
        )
        labels = [f"{box.label} {box.confidence:.2f}" for box in incident.boxes]
        canvas = sv.BoxAnnotator(color=_PALETTE, thickness=thickness).annotate(canvas, detections)
        canvas = sv.LabelAnnotator(
            color=_PALETTE, text_scale=max(0.4, 0.6 * scale), text_thickness=thickness, smart_position=True
        ).annotate(canvas, detections, labels=labels)
    return _with_header(canvas, header_text(incident, zone), scale)


def _with_header(image: np.ndarray, text: str, scale: float) -> np.ndarray:
    """The image below a black bar with white text: readable on any scene, and never hiding the
    top of the picture (where smoke boxes often are)."""
    font_scale = max(0.45, 0.7 * scale)
    thickness = max(1, round(1.5 * scale))
    (_, text_height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
    pad = max(4, text_height // 2)
    bar_height = text_height + baseline + 2 * pad
    canvas = cv2.copyMakeBorder(image, bar_height, 0, 0, 0, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    cv2.putText(
        canvas,
        text,
        (pad, pad + text_height),
        cv2.FONT_HERSHEY_SIMPLEX,
        font_scale,
        (255, 255, 255),
        thickness,
        cv2.LINE_AA,
    )
    return canvas
