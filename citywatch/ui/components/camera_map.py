"""The camera map of the Live page: Leaflet (bundled with NiceGUI, nothing loaded from the
internet), tiles only when `ui.tile_url` is set, one circle per camera coloured by its state and
ringed in red with a count when it has open incidents; cameras that would overlap are one cluster
circle with their number (see citywatch.ui.clustering), recomputed at every zoom."""

from __future__ import annotations

from html import escape
from typing import Any

from nicegui import background_tasks, ui
from nicegui.elements.leaflet.leaflet_layer import Layer

from citywatch.config import CameraConfig
from citywatch.services.search import OpenIncidents
from citywatch.ui.camera_status import COLORS, OPEN_INCIDENT_COLOR, display_state
from citywatch.ui.clustering import Cluster, MapPoint, cluster_points
from citywatch.ui.services import services
from citywatch.ui.session import UiSession

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


class CameraMap:
    def __init__(self, session: UiSession, cameras: list[CameraConfig]) -> None:
        self.session = session
        self.cameras = {c.id: c for c in cameras}
        self.states: dict[str, str] = {}
        self.open: dict[str, OpenIncidents] = {}
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
        self.layers: list[Layer] = []
        self.map.on("map-zoomend", lambda _: self.redraw())
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

    def update(self, states: dict[str, str], open_incidents: dict[str, OpenIncidents]) -> None:
        self.states, self.open = states, open_incidents
        self.redraw()

    def redraw(self) -> None:
        if not self.map.is_initialized:
            return  # _fit draws once the map is there
        for layer in self.layers:
            self.map.remove_layer(layer)
        self.layers = [self._draw(cluster) for cluster in cluster_points(self.points, self.map.zoom)]

    def _draw(self, cluster: Cluster) -> Layer:
        ids = [p.camera_id for p in cluster.members]
        states = [display_state(self.states.get(i), self.open.get(i)) for i in ids]
        worst = min(states, key=_SEVERITY_ORDER.index)
        open_count = sum(self.open[i].count for i in ids if i in self.open)
        single = len(ids) == 1
        options: dict[str, Any] = {
            "radius": 9 if single else 13 + min(len(ids), 20) // 2,
            "color": OPEN_INCIDENT_COLOR if open_count else "#1f2937",
            "weight": 5 if open_count else 2,
            "fillColor": COLORS[worst],
            "fillOpacity": 0.9,
        }
        layer = self.map.generic_layer(name="circleMarker", args=[[cluster.lat, cluster.lon], options])
        label = str(len(ids)) if not single else (str(open_count) if open_count else "")
        if label:
            self.map.run_layer_method(
                layer.id,
                "bindTooltip",
                label,
                {"permanent": True, "direction": "center", "className": "cw-cluster-label"},
            )
        self.map.run_layer_method(layer.id, "bindPopup", self._popup(ids, open_count))
        return layer

    def _popup(self, ids: list[str], open_count: int) -> str:
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
        footer = f"<br>{escape(s.t('live.open', count=open_count))}" if open_count else ""
        return header + "<br>".join(lines) + footer
