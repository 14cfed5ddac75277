"""Process memory tuning that the pipeline needs to keep a flat footprint.

Decoded frames are 0.3 to 6 MB each and are allocated and freed by the thousand every minute on
many threads. glibc serves blocks that large with mmap, but after the first such block is freed
it raises its mmap threshold (up to 32 MB) and serves later frames from its heaps, which then
fragment: in a 10-minute soak of 4 cameras RSS grew by 58 MB after the first minute. Pinning the
threshold keeps frames on mmap, returned to the system when freed (RSS flat, and about 80 MB
lower; benchmarks/soak.py, docs/BENCHMARKS.md).
"""

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3  # from glibc's malloc.h
FRAME_MMAP_THRESHOLD = 256 * 1024


def keep_frames_on_mmap() -> bool:
    """Pin glibc's mmap threshold; False (and nothing changed) where libc is not glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    if mallopt(_M_MMAP_THRESHOLD, FRAME_MMAP_THRESHOLD) != 1:
        log.warning("could not pin the malloc mmap threshold; memory may grow with fragmentation")
        return False
    return True
