"""Evidence clips: H.264 MP4 files that browsers play and seek."""

import os
import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av

from citywatch.video.frame import Frame

_TIME_BASE = Fraction(1, 1000)
"""Presentation times in milliseconds, taken from the frames' own timestamps: a clip whose frames
came irregularly (thinned, or a camera that hiccuped) plays at the speed things happened."""


def write_clip(frames: Sequence[Frame], path: Path, fps: float) -> Path:
    """Write `frames` (oldest first) to `path` as H.264 (yuv420p) MP4 and return `path`.

    `fps` is the clip's nominal rate (the container's frame rate and the last frame's duration);
    frames keep their own spacing. The file is written under a temporary name in the same folder and
    renamed when complete, so a reader never sees half a clip. H.264 in yuv420p needs an even width
    and height: an odd last row or column is cropped.
    """
    if not frames:
        raise ValueError(f"no frames to write to {path}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, not {fps}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = (frames[0].height // 2) * 2, (frames[0].width // 2) * 2
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".part")
    os.close(fd)
    try:
        # "+faststart" moves the index to the front so a browser can seek before the download ends.
        with av.open(temp_name, "w", format="mp4", options={"movflags": "+faststart"}) as container:
            stream = container.add_stream(
                "libx264", rate=Fraction(fps).limit_denominator(1000), options={"preset": "veryfast"}
            )
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_context.time_base = _TIME_BASE
            start, last_pts = frames[0].timestamp, -1
            for frame in frames:
                # Different-sized frames (the camera changed resolution) are scaled by PyAV on encode.
                picture = av.VideoFrame.from_ndarray(frame.image[:height, :width], format="bgr24")
                picture.pts = last_pts = max(round((frame.timestamp - start) * 1000), last_pts + 1)
                picture.time_base = _TIME_BASE
                container.mux(stream.encode(picture))
            container.mux(stream.encode(None))
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path
