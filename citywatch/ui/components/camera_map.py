"""The camera map of the Live page, read at a glance (after Milestone XProtect's maps): Leaflet
(bundled with NiceGUI, nothing loaded from the internet), tiles only when `ui.tile_url` is set and
the picture of `ui.map_image` under the cameras (a city map or floor plan, offline).

One circle per camera, filled with the colour of its state; its ring says what waits there: red,
with a red halo and a count badge, while an incident is new (nobody has taken it up), amber while
its incidents are being handled, dark when none is open. A camera that has just raised an incident
pulses for ALARM_S seconds. Names show on hover, and stay when zoomed in to
LABEL_ZOOM or when there are at most FEW_MARKERS circles. Cameras that would overlap are one cluster
circle with their number (citywatch.ui.clustering), recomputed at every zoom.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from html import escape

from nicegui import background_tasks, ui
from nicegui.elements.leaflet.leaflet_layer import Layer

from citywatch.config import CameraConfig
from citywatch.services.search import OpenIncidents
from citywatch.ui.camera_status import COLORS, RING_COLORS, Ring, display_state, open_text, ring_of
from citywatch.ui.clustering import Cluster, MapPoint, cluster_points
from citywatch.ui.map_image import map_image_url
from citywatch.ui.services import services
from citywatch.ui.session import UiSession

LABEL_ZOOM = 17
"""From this zoom in (a few streets across) every camera's name stays on the map."""
FEW_MARKERS = 12
"""At most this many circles: every camera's name stays on the map, whatever the zoom."""
ALARM_S = 30.0
"""How long a camera that raised an incident pulses."""

_SEVERITY_ORDER = (
    "offline",
    "tampered",
    "stalled",
    "reconnecting",
    "connecting",
    "unknown",
    "stopped",
    "streaming",
)
_RING_ORDER: tuple[Ring, ...] = ("new", "handling", "none")
_CSS = """
.leaflet-tooltip.cw-count { padding: 0 5px; min-width: 20px; border: 2px solid #fff; border-radius: 9999px;
  background: #dc2626; color: #fff; text-align: center; font-weight: 700; font-size: 12px; line-height: 16px;
  box-shadow: 0 1px 3px #0007; }
.leaflet-tooltip.cw-count::before, .leaflet-tooltip.cw-raised::before { display: none; }
.leaflet-tooltip.cw-raised { padding: 0; background: none; border: 0; box-shadow: none; }
.cw-raised > div { border: 4px solid #dc2626; border-radius: 50%; will-change: transform, opacity;
  animation: cw-raised 0.9s ease-out infinite; }
@keyframes cw-raised { from { transform: scale(0.8); opacity: 1; } to { transform: scale(2.6); opacity: 0; } }
@media (prefers-reduced-motion: reduce) { .cw-raised > div { animation: none; } }
.leaflet-tooltip.cw-name { padding: 1px 6px; font-size: 12px; font-weight: 600; color: #0f172a;
  background: rgba(255, 255, 255, 0.92); border: 1px solid #94a3b8; box-shadow: none; }
"""
"""How the marks are drawn, for speed (measured with 50 cameras and 10,000 incidents in headless
Chromium on the 2-CPU machine). A waiting (new) incident is a still halo in the map's SVG with its
count as the halo's tooltip; only a camera that has just raised one pulses, as HTML over the map
animated by transform and opacity (composited, no repaint): 50 pulsing SVG rings made the next page
of the list 22 s instead of 1.3 s. The circles carry only classes they share (no camera id): with a
class of its own on each SVG path (the browser then styles each path on its own), the style and
layout that placing each tooltip forces took 45 ms a tooltip instead of 3 to 5 (4 to 6 s a map)."""


class CameraMap:
    def __init__(self, session: UiSession, cameras: list[CameraConfig]) -> None:
        self.session = session
        self.cameras = {c.id: c for c in cameras}
        self.states: dict[str, str] = {}
        self.open: dict[str, OpenIncidents] = {}
        self.alarms: dict[str, float] = {}
        """Camera id -> until when (time.monotonic) it shows the alarm pulse."""
        located = [c for c in cameras if c.location is not None]
        self.points = [MapPoint(c.id, c.location.lat, c.location.lon) for c in located if c.location]
        center = (
            (
                sum(p.lat for p in self.points) / len(self.points),
                sum(p.lon for p in self.points) / len(self.points),
            )
            if self.points
            else (13.7563, 100.5018)
        )
        settings = services().settings
        ui.add_css(_CSS)
        self.map = ui.leaflet(
            center=center, zoom=14, options={"attributionControl": bool(settings.tile_attribution)}
        )
        self.map.classes("cw-map w-full grow").props("data-test=camera-map")
        self.map.clear_layers()  # NiceGUI adds OpenStreetMap's tiles: none unless configured
        if settings.tile_url:
            self.map.tile_layer(
                url_template=settings.tile_url,
                options={"attribution": settings.tile_attribution, "maxZoom": 19},
            )
        picture = settings.map_image
        if picture is not None:
            corners = [
                [picture.south_west.lat, picture.south_west.lon],
                [picture.north_east.lat, picture.north_east.lon],
            ]
            self.map.image_overlay(
                url=map_image_url(picture.path), bounds=corners, options={"opacity": picture.opacity}
            )
        self.layers: list[Layer] = []
        self.map.on("map-zoomend", lambda _: self.redraw())
        ui.timer(1.0, self._end_alarms)
        background_tasks.create(self._fit(), name="camera-map-fit", context=ui.context.client)
        if len(self.points) < len(cameras):
            ui.label(session.t("live.no_location", count=len(cameras) - len(self.points))).classes(
                "text-xs text-gray-600"
            )

    async def _fit(self) -> None:
        await self.map.initialized()
        if len(self.points) > 1:
            lats, lons = [p.lat for p in self.points], [p.lon for p in self.points]
            self.map.run_map_method(
                "fitBounds", [[min(lats), min(lons)], [max(lats), max(lons)]], {"padding": [40, 40]}
            )
        self.redraw()

    def update(
        self, states: dict[str, str], open_incidents: dict[str, OpenIncidents], alarming: Iterable[str] = ()
    ) -> None:
        """New camera states and open incidents; `alarming`: cameras that just raised an incident."""
        self.states, self.open = states, open_incidents
        until = time.monotonic() + ALARM_S
        self.alarms.update({camera_id: until for camera_id in alarming})
        self.redraw()

    def _end_alarms(self) -> None:
        now = time.monotonic()
        ended = [camera_id for camera_id, until in self.alarms.items() if until <= now]
        for camera_id in ended:
            del self.alarms[camera_id]
        if ended:
            self.redraw()

    def redraw(self) -> None:
        if not self.map.is_initialized:
            return  # _fit draws once the map is there
        for layer in self.layers:
            self.map.remove_layer(layer)
        clusters = cluster_points(self.points, self.map.zoom)
        names = self.map.zoom >= LABEL_ZOOM or len(clusters) <= FEW_MARKERS
        self.layers = [layer for cluster in clusters for layer in self._draw(cluster, names)]

    def _draw(self, cluster: Cluster, names: bool) -> list[Layer]:
        """The cluster's (or camera's) circle and what stands out on it (`_mark`)."""
        ids = [p.camera_id for p in cluster.members]
        opens = [self.open[i] for i in ids if i in self.open]
        worst = min(
            (display_state(self.states.get(i), self.open.get(i)) for i in ids), key=_SEVERITY_ORDER.index
        )
        ring = min((ring_of(self.open.get(i)) for i in ids), key=_RING_ORDER.index)
        new = sum(o.new for o in opens)
        single = len(ids) == 1
        radius = 9 if single else 13 + min(len(ids), 20) // 2
        where = [cluster.lat, cluster.lon]
        circle = self.map.generic_layer(
            name="circleMarker",
            args=[
                where,
                {
                    "radius": radius,
                    "color": RING_COLORS[ring],
                    "weight": 2 if ring == "none" else 4,
                    "fillColor": COLORS[worst],
                    "fillOpacity": 0.9,
                    "className": f"cw-ring-{ring}",
                },
            ],
        )
        if single:
            name = self.cameras[ids[0]].name or ids[0]
            tooltip = {
                "permanent": names,
                "direction": "bottom",
                "offset": [0, radius],
                "className": "cw-name",
            }
            self.map.run_layer_method(circle.id, "bindTooltip", escape(name), tooltip)
        else:
            label = {"permanent": True, "direction": "center", "className": "cw-cluster-label"}
            self.map.run_layer_method(circle.id, "bindTooltip", str(len(ids)), label)
        self.map.run_layer_method(circle.id, "bindPopup", self._popup(ids, opens))
        layers = [circle]
        if new:
            layers.append(self._waiting(where, radius, new))
        if any(i in self.alarms for i in ids):
            layers.append(self._raised(where, radius))
        return layers

    def _waiting(self, where: list[float], radius: int, new: int) -> Layer:
        """A red halo round a circle with new incidents, and a badge with their count."""
        halo = self.map.generic_layer(
            name="circleMarker",
            args=[
                where,
                {
                    "radius": radius + 5,
                    "color": RING_COLORS["new"],
                    "weight": 5,
                    "opacity": 0.35,
                    "fill": False,
                    "interactive": False,
                    "className": "cw-halo",
                },
            ],
        )
        badge = {
            "permanent": True,
            "direction": "right",
            "offset": [radius - 4, -radius],
            "className": "cw-count",
        }
        self.map.run_layer_method(halo.id, "bindTooltip", str(new), badge)
        return halo

    def _raised(self, where: list[float], radius: int) -> Layer:
        """A ring that pulses round a camera that has just raised an incident (HTML over the map,
        moved and faded: the browser composites it without painting the map again)."""
        size = 2 * radius + 8
        pulse = f'<div style="width:{size}px;height:{size}px"></div>'
        options = {"content": pulse, "direction": "center", "className": "cw-raised", "interactive": False}
        return self.map.generic_layer(name="tooltip", args=[where, options])

    def _popup(self, ids: list[str], opens: list[OpenIncidents]) -> str:
        s = self.session
        lines = []
        for camera_id in ids:
            state = display_state(self.states.get(camera_id), self.open.get(camera_id))
            name = escape(self.cameras[camera_id].name or camera_id)
            lines.append(
                f'<a href="/cameras#camera-{escape(camera_id)}"><b>{name}</b></a> · '
                f'<span style="color:{COLORS[state]}">{escape(s.t(f"state.{state}"))}</span>'
            )
        header = f"<b>{escape(s.t('live.cluster', count=len(ids)))}</b><br>" if len(ids) > 1 else ""
        summary = open_text(s, sum(o.new for o in opens), sum(o.handling for o in opens))
        return header + "<br>".join(lines) + (f"<br>{escape(summary)}" if summary else "")
