"""The REST API and the operator dashboard of `citywatch serve`."""

import ipaddress
from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from citywatch.config.base import LocalTime, StrictModel, TimeZoneName
from citywatch.config.cameras import Location


class Shift(StrictModel):
    """A work shift of the command centre: reports give the time to acknowledge per shift."""

    name: str = Field(
        min_length=1,
        max_length=40,
        description="Its name in reports; day, evening and night are shown in the user's language, any "
        "other name as written (e.g. เวรเช้า).",
    )
    start: LocalTime = Field(
        description="Local start time in `api.timezone`, in quotes: '08:00'. A shift lasts until the next "
        "one starts; the latest of the day runs past midnight to the earliest."
    )


DEFAULT_SHIFTS = (
    Shift(name="day", start=time(8)),
    Shift(name="evening", start=time(16)),
    Shift(name="night", start=time(0)),
)


class ApiSettings(StrictModel):
    host: str = Field(default="127.0.0.1", description="Address `citywatch serve` listens on.")
    port: int = Field(default=8080, ge=1, le=65535, description="Port `citywatch serve` listens on.")
    session_hours: float = Field(
        default=25,
        gt=0,
        description="Hours a login session lasts: one whole shift and its handover (the default fits a "
        "24 h shift, signed in up to an hour before it starts). The dashboard warns 10 minutes before the "
        "end and signs in again on the same page.",
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins per user name and address, within the window, before 429."
    )
    login_window_s: float = Field(default=60, gt=0, description="Window of the login failure limit.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (e.g. 10.0.0.5, 10.0.0.0/24) of the reverse proxies in front of "
        "`citywatch serve`, whose X-Forwarded-For and X-Forwarded-Proto are believed (the client address of "
        "the audit log and the login limit, https for the cookie). Empty (the default): no such header is "
        "believed, from anyone; the client address is the connection's.",
    )
    docs: bool = Field(
        default=True,
        description="Serve the interactive API documentation (/docs, /redoc, /openapi.json) to anyone; "
        "false hides it (the same schema is in the repository).",
    )
    health_version: bool = Field(
        default=True,
        description="/api/health (no login) says which citywatch version runs; false leaves it out.",
    )
    timezone: TimeZoneName = Field(
        default="Asia/Bangkok", description="Time zone of the stats' hours and days (IANA name)."
    )
    shifts: tuple[Shift, ...] = Field(
        default=DEFAULT_SHIFTS,
        min_length=1,
        description="The shifts of the reports' time to acknowledge (an incident counts in the shift it "
        "started in): names and local start times, e.g. [{name: day, start: '08:00'}, {name: night, "
        "start: '20:00'}]; default day 08:00, evening 16:00, night 00:00.",
    )

    @field_validator("shifts")
    @classmethod
    def _distinct_shifts(cls, shifts: tuple[Shift, ...]) -> tuple[Shift, ...]:
        for what, values in (("name", [s.name for s in shifts]), ("start", [s.start for s in shifts])):
            twice = sorted({str(v) for v in values if values.count(v) > 1})
            if twice:
                raise ValueError(f"two shifts have the same {what}: {', '.join(twice)}")
        return shifts

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not an address or network (e.g. 10.0.0.5, 10.0.0.0/24)"
                ) from None
        return values


MAP_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


class MapImage(StrictModel):
    """A picture under the cameras of the Live page's map, for command centres without a tile server:
    a city map exported for offline use, or a floor plan. It is stretched between two corners; the
    cameras' `location`s place them on it."""

    path: Path = Field(
        description="The picture (PNG, JPEG or WebP), relative to the config's folder (e.g. "
        "maps/district.png) or absolute. Only logged-in users are served it."
    )
    south_west: Location = Field(
        description="Where the picture's bottom-left corner lies: {lat, lon}. For a floor plan any "
        "corners will do (e.g. lat 0, lon 0 and lat 0.001, lon 0.0015 for a picture 1.5 times as wide "
        "as it is high); give the cameras locations between them."
    )
    north_east: Location = Field(description="Where the picture's top-right corner lies: {lat, lon}.")
    opacity: float = Field(default=1.0, gt=0, le=1, description="1 opaque; less lets tiles show through.")

    @field_validator("path")
    @classmethod
    def _picture(cls, path: Path) -> Path:
        if path.suffix.lower() not in MAP_IMAGE_SUFFIXES:
            raise ValueError(
                f"{path.name!r} is not a PNG, JPEG or WebP picture ({', '.join(MAP_IMAGE_SUFFIXES)})"
            )
        return path

    @model_validator(mode="after")
    def _corners(self) -> "MapImage":
        south, west, north, east = (
            self.south_west.lat,
            self.south_west.lon,
            self.north_east.lat,
            self.north_east.lon,
        )
        if north <= south:
            raise ValueError(
                f"north_east.lat ({north}) must be north of (larger than) south_west.lat ({south})"
            )
        if east <= west:
            raise ValueError(f"north_east.lon ({east}) must be east of (larger than) south_west.lon ({west})")
        return self


class UiSettings(StrictModel):
    tile_url: str = Field(
        default="",
        description="Map tile URL template of the dashboard, e.g. "
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png or a tile server of the command centre; empty "
        "(the default): no tiles, the cameras on a plain background (offline command centres).",
    )
    tile_attribution: str = Field(default="", description="Attribution shown with the tiles (HTML).")
    default_language: Literal["th", "en"] = Field(
        default="th", description="Dashboard language of users who have not chosen one."
    )
    map_image: MapImage | None = Field(
        default=None,
        description="A picture under the cameras of the Live page's map (over the tiles, if any): the "
        "offline alternative to tiles. None (the default): none.",
    )
