"""What every config section shares: the error, the strict base model and the vocabularies."""

from datetime import time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from citywatch.domain.incident_types import DETECTION_TYPES

DetectionType = Literal[tuple(t.value for t in DETECTION_TYPES)]  # type: ignore[valid-type]
"""The incident types a camera may look for (domain.incident_types: the ones with an analyzer)."""


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file, the camera and the key."""


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Sensitivity = Literal["low", "normal", "high"]
SENSITIVITY_LEVELS: tuple[str, ...] = Sensitivity.__args__


def _known_time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


TimeZoneName = Annotated[str, AfterValidator(_known_time_zone)]
"""An IANA time zone name ('Asia/Bangkok'), checked when the config is read."""


def _quoted_time(value: Any) -> Any:
    if isinstance(value, int):  # YAML 1.1 reads 16:00 unquoted as the number 960 (16 x 60)
        raise ValueError("write the time in quotes, e.g. '16:00' (without them YAML reads a number)")
    return value


def _without_offset(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a local time of the section's time zone: leave out the offset")
    return value


LocalTime = Annotated[time, BeforeValidator(_quoted_time), AfterValidator(_without_offset)]
"""A time of day ('22:00') in a configured time zone. An unquoted 16:00 is refused, not read as the
number YAML makes of it (which pydantic would take as 00:16)."""
