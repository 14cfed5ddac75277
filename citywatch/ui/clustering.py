"""Grouping camera markers that would overlap on the map at a zoom level.

Done here rather than with a Leaflet plugin so the dashboard loads nothing from the internet
(command centres are often offline). Distances are screen pixels of the Web Mercator projection
at the zoom level; a cluster is drawn at its cameras' mean position. 50 cameras take well under a
millisecond.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TILE_PX = 256


@dataclass(frozen=True, slots=True)
class MapPoint:
    camera_id: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Cluster:
    lat: float
    lon: float
    members: tuple[MapPoint, ...]


def pixel_xy(lat: float, lon: float, zoom: float) -> tuple[float, float]:
    """Web Mercator pixel coordinates of a point at `zoom` (what Leaflet draws)."""
    scale = TILE_PX * 2**zoom
    sin_lat = min(max(math.sin(math.radians(lat)), -0.9999), 0.9999)
    x = (lon + 180) / 360 * scale
    y = (0.5 - math.log((1 + sin_lat) / (1 - sin_lat)) / (4 * math.pi)) * scale
    return x, y


def cluster_points(points: list[MapPoint], zoom: float, radius_px: float = 40) -> list[Cluster]:
    """Greedy distance clustering, as Leaflet.markercluster does: each camera (in id order) joins
    the first cluster whose first camera is within `radius_px` screen pixels at `zoom`, else starts
    one. Unlike a fixed grid, two cameras a few metres apart are never split by a cell border."""
    seeds: list[tuple[float, float]] = []
    groups: list[list[MapPoint]] = []
    for point in sorted(points, key=lambda p: p.camera_id):
        x, y = pixel_xy(point.lat, point.lon, zoom)
        for (sx, sy), group in zip(seeds, groups, strict=True):
            if math.hypot(x - sx, y - sy) <= radius_px:
                group.append(point)
                break
        else:
            seeds.append((x, y))
            groups.append([point])
    return [
        Cluster(
            lat=sum(p.lat for p in group) / len(group),
            lon=sum(p.lon for p in group) / len(group),
            members=tuple(group),
        )
        for group in groups
    ]
