"""The REST API and the operator dashboard of `citywatch serve`."""

import ipaddress
from typing import Literal

from pydantic import Field, field_validator

from citywatch.config.base import StrictModel, TimeZoneName


class ApiSettings(StrictModel):
    host: str = Field(default="127.0.0.1", description="Address `citywatch serve` listens on.")
    port: int = Field(default=8080, ge=1, le=65535, description="Port `citywatch serve` listens on.")
    session_hours: float = Field(default=12, gt=0, description="Hours a login session lasts (one shift).")
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
