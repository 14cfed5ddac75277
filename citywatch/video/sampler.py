"""Pick the frames a camera analyses: `fps` of them per second of frame timestamps."""


class Sampler:
    """Says which offered frames are due: on average `fps` per second, never two within half a step.

    Due times sit on a grid of 1/fps steps started by the first frame, so the rate comes out right
    even when the source rate is not a multiple of it: a 12.5 fps camera sampled at 10 fps gives 10
    frames a second, where "at least 1/fps after the last one" would give 6.25. A frame closer than
    half a step to the last due one is never due, so a late frame after a gap is not followed at
    once by the next grid slot's; a gap of a whole step or more starts the grid again. So does a
    timestamp before the last due one (the wall clock was set back), instead of pausing until the
    clock catches up.
    """

    def __init__(self, fps: float) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, not {fps}")
        self._interval = 1.0 / fps
        self._next_due = 0.0
        self._last_due: float | None = None

    def due(self, timestamp: float) -> bool:
        if self._last_due is None or timestamp < self._last_due:
            self._next_due = timestamp
        elif timestamp < self._next_due or timestamp - self._last_due < self._interval / 2:
            return False
        late = timestamp - self._next_due
        self._next_due = (timestamp if late >= self._interval else self._next_due) + self._interval
        self._last_due = timestamp
        return True
