"""The dashboard's parts without a browser: translations, Thai dates, map clustering, the cards'
failing analyzers (the services it calls are tested in tests/services)."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from citywatch.ui import i18n
from citywatch.ui.camera_status import failing_types
from citywatch.ui.clustering import MapPoint, cluster_points

UI_DIR = Path(i18n.__file__).parent
BANGKOK = ZoneInfo("Asia/Bangkok")


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    assert i18n.TH.keys() == i18n.EN.keys()
    for key in i18n.EN:
        assert set(re.findall(r"{(\w+)}", i18n.EN[key])) == set(re.findall(r"{(\w+)}", i18n.TH[key])), key


def _keys_in_source() -> tuple[set[str], set[str], set[str]]:
    """In citywatch/ui: literal keys passed to t(), prefixes of f-string keys passed to t(), and
    every other string constant (keys kept in tables, e.g. the header's pages)."""
    literal, prefixes, constants = set(), set(), set()
    for path in UI_DIR.rglob("*.py"):
        if path.name == "i18n.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                constants.add(node.value)
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            first = node.args[0]
            if name != "t":
                continue
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                literal.add(first.value)
            elif isinstance(first, ast.JoinedStr) and isinstance(first.values[0], ast.Constant):
                prefixes.add(first.values[0].value)
    return literal, prefixes, constants


def test_every_key_the_pages_use_exists_and_every_key_is_used() -> None:
    literal, prefixes, constants = _keys_in_source()
    assert literal, "no t() call found: the scan is broken"
    assert literal <= i18n.EN.keys(), sorted(literal - i18n.EN.keys())
    assert {"type.", "status.", "state.", "role.", "action.", "severity."} <= prefixes
    unused = {key for key in i18n.EN if key not in constants and not key.startswith(tuple(prefixes))}
    assert not unused, sorted(unused)


def test_thai_dates_are_in_the_buddhist_era_with_thai_months() -> None:
    moment = datetime(2025, 2, 14, 7, 5, 9, tzinfo=UTC)  # 14:05:09 in Bangkok
    assert i18n.format_time(moment, "th", BANGKOK) == "14 ก.พ. 2568 14:05:09"
    assert i18n.format_time(moment, "th", BANGKOK, long=True) == "14 กุมภาพันธ์ 2568 14:05:09"
    assert i18n.format_time(moment, "en", BANGKOK) == "14 Feb 2025 14:05:09"
    assert i18n.format_day("2025-12-31", "th") == "31 ธ.ค. 68"
    late = datetime(2024, 12, 31, 18, 0, tzinfo=UTC)  # already 1 January 2025 in Bangkok
    assert i18n.format_time(late, "th", BANGKOK).startswith("1 ม.ค. 2568")


def test_cameras_cluster_when_they_would_overlap_and_part_when_zoomed_in() -> None:
    points = [MapPoint(f"cam{i:02d}", 13.75 + i * 0.0004, 100.50) for i in range(10)]  # ~45 m apart
    points.append(MapPoint("far", 13.90, 100.70))
    far_out = cluster_points(points, zoom=11)
    assert sorted(len(c.members) for c in far_out) == [1, 10]
    assert len(cluster_points(points, zoom=18)) == 11
    big = next(c for c in far_out if len(c.members) == 10)
    assert big.lat == pytest.approx(13.75 + 4.5 * 0.0004)


def test_a_camera_card_names_the_types_whose_analyzer_keeps_failing() -> None:
    failing = {"cam-a/weapon": "KeyError: 'x'", "cam-a/fall": "ValueError: y", "cam-ab/fire": "OSError: z"}
    assert failing_types(failing, "cam-a") == ["fall", "weapon"]
    assert failing_types(failing, "cam-ab") == ["fire"] and failing_types(failing, "cam-b") == []
    assert all("{types}" in table["cameras.analysis_failing"] for table in (i18n.EN, i18n.TH))
