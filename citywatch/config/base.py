"""What every config section shares: the error, the strict base model and the vocabularies."""

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict

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
