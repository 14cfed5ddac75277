"""The languages citywatch speaks to people (the dashboard, a user's preference): Thai and English."""

from typing import Literal

Language = Literal["th", "en"]
LANGUAGES: tuple[Language, ...] = ("th", "en")
