"""The incident-type table is complete: every type has what every part of citywatch derives from it."""

import pytest

from citywatch.analytics.catalog import available_types, roles_for
from citywatch.config import AlertType, DetectionType
from citywatch.domain.incident_types import (
    DETECTION_TYPES,
    INCIDENT_TYPES,
    IncidentType,
    name_of,
    severity_of,
)
from citywatch.evaluation.labels import VOCABULARY
from citywatch.ui import i18n


@pytest.mark.parametrize("incident_type", list(IncidentType))
def test_every_type_has_a_row_with_severity_and_both_names(incident_type: IncidentType) -> None:
    info = INCIDENT_TYPES[incident_type]
    assert severity_of(incident_type) in ("low", "medium", "high")
    assert info.english.strip() and info.thai.strip() and info.english != info.thai
    assert any("\u0e00" <= c <= "\u0e7f" for c in name_of(incident_type, "th"))  # Thai script (LINE, UI)
    assert i18n.EN[f"type.{incident_type}"] == info.english and i18n.TH[f"type.{incident_type}"] == info.thai


def test_every_detection_type_has_a_registered_analyzer_and_the_config_knows_it() -> None:
    assert set(available_types()) == set(DETECTION_TYPES)
    assert all(roles_for(t) for t in DETECTION_TYPES)
    assert set(DetectionType.__args__) == set(DETECTION_TYPES)
    assert set(AlertType.__args__) == set(IncidentType)
    health = set(IncidentType) - set(DETECTION_TYPES)
    assert health == {IncidentType.CAMERA_OFFLINE, IncidentType.CAMERA_TAMPERED}


def test_every_evaluation_label_means_its_type() -> None:
    for incident_type, info in INCIDENT_TYPES.items():
        for label in (*info.eval_labels, *([incident_type.value] if info.analyzer else [])):
            assert VOCABULARY[label] is incident_type
    assert VOCABULARY["weapon_gun"] is IncidentType.WEAPON and VOCABULARY["smoke"] is IncidentType.FIRE
