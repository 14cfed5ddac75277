import platform

import pytest

from citywatch.memory import keep_frames_on_mmap


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the tuning is for glibc only")
def test_mmap_threshold_is_pinned_on_glibc() -> None:
    assert keep_frames_on_mmap() is True
