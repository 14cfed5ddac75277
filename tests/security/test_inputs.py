"""Findings 4, 6, 7 and 9 of the security probe (issue 14): input that sent a browser elsewhere,
put evidence outside its folder, raised a 500, or became a spreadsheet formula."""

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from api_support import Api

from citywatch.config import ConfigError, EvidenceSettings, parse_config
from citywatch.domain.incident import Incident
from citywatch.domain.incident_types import IncidentType
from citywatch.services.search import IncidentFilter
from citywatch.services.stats import incidents_csv
from citywatch.storage.evidence import EvidenceError, EvidenceWriter
from citywatch.storage.users import Role
from citywatch.ui.pages.login import safe_next


@pytest.mark.parametrize(
    "target",
    [
        "/\t/127.0.0.1:18099/phish",  # the probe's: browsers drop the tab and go to //127.0.0.1...
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/\\evil.example",
        "//evil.example",
        "https://evil.example/",
        "/ /evil.example",
        "javascript:alert(1)",
        "",
    ],
)
def test_login_never_sends_the_browser_to_another_host(target: str) -> None:
    assert safe_next(target) == "/"


def test_login_keeps_a_path_of_this_site() -> None:
    assert safe_next("/incidents?status=new&camera=cam01") == "/incidents?status=new&camera=cam01"
    assert safe_next("/cameras/%E0%B8%AA") == "/cameras/%E0%B8%AA"


@pytest.mark.parametrize("camera_id", ["..", ".", "..."])
def test_a_camera_id_of_dots_is_refused_by_the_config(camera_id: str) -> None:
    with pytest.raises(ConfigError, match="not a camera id"):
        parse_config({"cameras": [{"id": camera_id, "url": "rtsp://10.0.0.1/sub"}]})
    assert (
        parse_config({"cameras": [{"id": "cam.01", "url": "rtsp://10.0.0.1/sub"}]}).cameras[0].id == "cam.01"
    )


def test_evidence_never_lands_outside_its_folder(tmp_path: Path) -> None:
    """Ids that come from anywhere but the config (an old database row, a future API) are checked too."""
    writer = EvidenceWriter(tmp_path / "evidence", EvidenceSettings())
    frame = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(EvidenceError, match="outside"):
        writer.snapshot(Incident(IncidentType.FIRE, "..", 1_700_000_000, 0.9, frame=frame))
    assert list(tmp_path.rglob("*.jpg")) == []
    written = writer.snapshot(Incident(IncidentType.FIRE, "cam01", 1_700_000_000, 0.9, frame=frame))
    assert written.is_relative_to(tmp_path / "evidence" / "cam01")


def _cursor(raw: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/incidents", {"since": "9999-12-31T23:59:59-14:00"}),
        ("/api/incidents", {"until": "0001-01-01T00:00:00+14:00"}),
        ("/api/stats", {"since": "0001-01-01T00:00:00+14:00"}),
        ("/api/stats", {"until": "9999-12-31T23:59:59-14:00"}),
    ],
)
def test_times_beyond_what_utc_can_hold_are_a_422_not_a_500(api: Api, path: str, params: dict) -> None:
    response = api.client.get(path, params=params, headers=api.headers(Role.VIEWER))
    assert response.status_code == 422, response.text
    assert "out of range" in response.text


@pytest.mark.parametrize(
    ("sort", "value"),
    [
        ("-confidence", 10**320),  # the probe's 320-digit number
        ("-confidence", 7.5),
        ("-started_at", "9999-12-31T23:59:59-14:00"),
        ("-started_at", "0001-01-01T00:00:00+14:00"),
    ],
)
def test_a_forged_cursor_is_a_400(api: Api, sort: str, value: object) -> None:
    cursor = _cursor([sort, value, "x"])
    response = api.client.get(
        "/api/incidents", params={"cursor": cursor, "sort": sort}, headers=api.headers(Role.VIEWER)
    )
    assert response.status_code == 400, response.text


def test_text_typed_by_users_is_not_a_formula_in_the_reports_csv(api: Api) -> None:
    incident_id = api.add_incident()
    response = api.client.post(
        f"/api/incidents/{incident_id}/assign",
        json={"unit": '=HYPERLINK("http://evil.example","x")'},
        headers=api.headers(Role.OPERATOR),
    )
    assert response.status_code == 200, response.text
    lines = incidents_csv(api.store, IncidentFilter()).decode("utf-8-sig").splitlines()
    row = next(line for line in lines if incident_id in line)
    assert "'=HYPERLINK" in row and ',"=HYPERLINK' not in row and ",=HYPERLINK" not in row
