"""YOLO-labelled image folders (Roboflow exports), grouped by the source video of each frame."""

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_ROBOFLOW_NAME = re.compile(r"^(?P<video>.+)_(?:mp4|MP4)-(?P<frame>\d+)_jpg\.rf\.[0-9a-f]+$")


@dataclass(frozen=True, slots=True)
class LabelledImage:
    """One image, the video and frame it came from, and its YOLO boxes."""

    path: Path
    video: str
    frame: int
    classes: np.ndarray
    """[N] int class ids."""
    boxes: np.ndarray
    """[N, 4] float32 cx, cy, w, h normalised to the image size (as in the label file)."""

    def boxes_xyxy(self, width: int, height: int) -> np.ndarray:
        """The boxes as [N, 4] xyxy pixels of an image of this size."""
        cx, cy, w, h = self.boxes.T
        return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1) * np.float32(
            [width, height, width, height]
        )


def video_and_frame(stem: str) -> tuple[str, int]:
    """('<video>', frame) from a Roboflow name '<video>_mp4-<frame>_jpg.rf.<hash>'."""
    match = _ROBOFLOW_NAME.match(stem)
    if match is None:
        raise ValueError(f"{stem!r} is not a Roboflow '<video>_mp4-<frame>_jpg.rf.<hash>' name")
    return match["video"], int(match["frame"])


def read_yolo_split(root: Path, split: str = "train") -> list[LabelledImage]:
    """The images of `root/images/<split>` with the boxes of `root/labels/<split>`, by file name."""
    images = []
    for path in sorted((root / "images" / split).glob("*.jpg")):
        label_file = root / "labels" / split / f"{path.stem}.txt"
        rows = [line.split() for line in label_file.read_text().splitlines() if line.strip()]
        values = np.array([[float(v) for v in row] for row in rows], dtype=np.float32).reshape(-1, 5)
        video, frame = video_and_frame(path.stem)
        images.append(LabelledImage(path, video, frame, values[:, 0].astype(int), values[:, 1:]))
    return images
