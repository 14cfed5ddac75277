"""The dashboard's parts without a browser: translations, Thai dates, map clustering, the zone
file round trip, report numbers, which actions a role is offered, the language preference."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from citywatch.config import Zone, load_config
from citywatch.domain.incident import Incident
from citywatch.domain.incident_types import IncidentType
from citywatch.incidents.lifecycle import Action, IncidentLifecycle
from citywatch.incidents.model import IncidentStatus
from citywatch.incidents.search import IncidentFilter
from citywatch.incidents.store import IncidentStore
from citywatch.incidents.users import Role, UserDirectory
from citywatch.ui import i18n
from citywatch.ui.actions import offered_actions
from citywatch.ui.camera_status import failing_types
from citywatch.ui.clustering import MapPoint, cluster_points
from citywatch.ui.prefs import set_user_language, user_language
from citywatch.ui.reports_data import false_alarm_rates, incidents_csv
from citywatch.ui.zones_file import ZoneFileError, save_zones, zones_of

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


CONFIG = """\
# the command centre's cameras
storage:
  database_url: sqlite:///${CITYWATCH_DATA:-var}/citywatch.db   # kept as written
cameras:
  - id: cam01
    name: ถนนสีลม
    url: rtsp://10.0.0.1/sub
    zones:
      - name: old
        polygon: [[0, 0], [1, 0], [1, 1]]
  - id: cam02
    url: rtsp://10.0.0.2/sub
"""


def test_zones_are_saved_into_the_config_keeping_everything_else(tmp_path: Path) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    zone = Zone(name="crossing", polygon=[(0.1, 0.2), (0.9, 0.2), (0.5, 0.95)], incident_types=["fall"])
    old = zones_of(path, "cam01")
    save_zones(path, "cam01", [zone], old)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# the command centre's cameras")
    assert "${CITYWATCH_DATA:-var}/citywatch.db   # kept as written" in text
    assert "ถนนสีลม" in text
    assert zones_of(path, "cam01") == [zone]
    assert load_config(path).cameras[0].zones == [zone]
    save_zones(path, "cam01", [], [zone])
    assert zones_of(path, "cam01") == []


def test_an_invalid_result_leaves_the_file_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_text(
        CONFIG.replace("url: rtsp://10.0.0.2/sub", "url: rtsp://10.0.0.2/sub\n    fps: 3"), "utf-8"
    )
    before = path.read_text(encoding="utf-8")
    with pytest.raises(ZoneFileError, match="fps"):
        save_zones(path, "cam01", [], zones_of(path, "cam01"))
    with pytest.raises(ZoneFileError, match="no camera 'nope'"):
        save_zones(path, "nope", [], [])
    assert path.read_text(encoding="utf-8") == before
    assert [p.name for p in tmp_path.iterdir()] == ["cameras.yaml"]  # no temporary file left


@pytest.fixture
def store(tmp_path: Path) -> IncidentStore:
    store = IncidentStore(f"sqlite:///{tmp_path / 'cw.db'}")
    store.upgrade()
    return store


def _add(store: IncidentStore, type_: IncidentType, camera: str, started_at: float) -> str:
    incident = Incident(type_, camera, started_at, 0.8)
    assert store.add(incident, None)
    return incident.id


def test_false_alarm_rates_per_type_and_camera_and_the_csv(store: IncidentStore) -> None:
    lifecycle = IncidentLifecycle(store)
    now = datetime.now(UTC).timestamp()
    fires = [_add(store, IncidentType.FIRE, "cam01", now - i) for i in range(4)]
    fall = _add(store, IncidentType.FALL, "cam02", now - 10)
    _add(store, IncidentType.FALL, "cam02", now - 11)  # still open: not counted
    for incident_id in fires[:3]:
        lifecycle.change_status(incident_id, Action.FALSE_ALARM, "somchai")
    lifecycle.change_status(fires[3], Action.RESOLVE, "somchai")
    lifecycle.change_status(fall, Action.RESOLVE, "somchai")
    everything = IncidentFilter()
    assert false_alarm_rates(store, everything, "type") == {"fall": 0.0, "fire": 0.75}
    assert false_alarm_rates(store, everything, "camera_id") == {"cam01": 0.75, "cam02": 0.0}
    lines = incidents_csv(store, IncidentFilter(types=[IncidentType.FIRE])).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,type,subtype,camera_id,status")
    assert len(lines) == 5 and all(",fire," in line for line in lines[1:])


def test_a_role_is_offered_only_what_it_may_do_in_the_incidents_status(store: IncidentStore) -> None:
    incident_id = _add(store, IncidentType.FIRE, "cam01", 1_700_000_000)
    new = store.get(incident_id)
    assert new is not None and new.status is IncidentStatus.NEW
    assert offered_actions(new, Role.VIEWER) == []
    assert offered_actions(new, Role.OPERATOR) == [
        Action.ACKNOWLEDGE,
        Action.ASSIGN,
        Action.RESOLVE,
        Action.FALSE_ALARM,
        Action.NOTE,
    ]
    assert offered_actions(new, Role.SUPERVISOR)[-1] is Action.LOCK
    closed = IncidentLifecycle(store).change_status(incident_id, Action.RESOLVE, "somchai")
    assert offered_actions(closed, Role.SUPERVISOR) == [Action.NOTE, Action.LOCK]


def test_the_language_is_kept_per_user(store: IncidentStore) -> None:
    users = UserDirectory(store)
    somchai = users.add_user("somchai", Role.OPERATOR, "password-1")
    malee = users.add_user("malee", Role.OPERATOR, "password-2")
    assert user_language(store, somchai.id) is None
    set_user_language(store, somchai.id, "th")
    assert (user_language(store, somchai.id), user_language(store, malee.id)) == ("th", None)
    with pytest.raises(ValueError, match="unknown language"):
        set_user_language(store, somchai.id, "fr")  # type: ignore[arg-type]


def test_a_camera_card_names_the_types_whose_analyzer_keeps_failing() -> None:
    failing = {"cam-a/weapon": "KeyError: 'x'", "cam-a/fall": "ValueError: y", "cam-ab/fire": "OSError: z"}
    assert failing_types(failing, "cam-a") == ["fall", "weapon"]
    assert failing_types(failing, "cam-ab") == ["fire"] and failing_types(failing, "cam-b") == []
    assert all("{types}" in table["cameras.analysis_failing"] for table in (i18n.EN, i18n.TH))
