"""The Reports page's bar charts as ECharts options.

Types and cameras are horizontal bars with their names on the left, every one labelled
(`axisLabel.interval: 0`) and the chart as tall as its bars need (BAR_PX a bar): a city's 50 cameras
keep their names at 1366x768 as at 1920x1080, where a fixed-height chart had to drop every other
one. The chart's title is the page's heading above it, never drawn over the bars. No animation: a
printed or screenshot report shows the final bars.
"""

from __future__ import annotations

from typing import Any

BAR_PX = 24
"""Height of one horizontal bar with its gap: room for one line of a 12 px label."""
AXIS_PX = 36
"""Height of the value axis under horizontal bars."""
COLUMNS_PX = 260
"""Height of the day and hour charts."""
COLOR = "#2563eb"


def horizontal_bars(
    labels: list[str], values: list[float], nothing: str, *, percent: bool = False
) -> tuple[dict, int]:
    """The options of a bar per label, first on top, and the height (px) that shows every label;
    without a label, the text `nothing` instead of an empty axis."""
    value_axis: dict[str, Any] = {"type": "value", "minInterval": 1, "splitNumber": 4}
    if percent:
        value_axis = {"type": "value", "max": 100, "axisLabel": {"formatter": "{value}%"}}
    options: dict[str, Any] = {
        "animation": False,
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 8, "right": 48, "top": 8, "bottom": 4, "containLabel": True},
        "xAxis": value_axis,
        "yAxis": {
            "type": "category",
            "data": labels,
            "inverse": True,
            "axisTick": {"show": False},
            "axisLabel": {"interval": 0, "fontSize": 12},
        },
        "series": [
            {
                "type": "bar",
                "data": values,
                "barMaxWidth": 16,
                "itemStyle": {"color": COLOR},
                "label": {"show": True, "position": "right", "formatter": "{c}%" if percent else "{c}"},
            }
        ],
    }
    if not labels:
        options["yAxis"]["show"] = options["xAxis"]["show"] = False
        options["graphic"] = {"type": "text", "left": "center", "top": "middle", "style": {"text": nothing}}
    return options, max(len(labels), 2) * BAR_PX + AXIS_PX


def column_bars(labels: list[str], values: list[float]) -> dict:
    """Columns along a time axis (days, hours): labels that would overlap are thinned out, as a time
    axis may be."""
    return {
        "animation": False,
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 8, "right": 16, "top": 16, "bottom": 4, "containLabel": True},
        "xAxis": {"type": "category", "data": labels, "axisLabel": {"hideOverlap": True}},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"type": "bar", "data": values, "barMaxWidth": 32, "itemStyle": {"color": COLOR}}],
    }
