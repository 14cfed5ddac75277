"""`forget_unseen`: the one rule by which fall, no_helmet and weapon end a track's episode."""

from dataclasses import dataclass

from citywatch.analytics.track_episodes import forget_unseen
from citywatch.domain.incident import Incident, IncidentEnded
from citywatch.domain.incident_types import IncidentType


@dataclass(eq=False)
class _Track:
    last_seen: float
    incident: Incident | None = None


def _incident() -> Incident:
    return Incident(type=IncidentType.FALL, camera_id="cam", started_at=0.0, confidence=0.9)


def test_an_unseen_track_is_dropped_and_its_incident_ends_when_it_was_last_seen() -> None:
    raised = _incident()
    tracks = {1: _Track(last_seen=10.0, incident=raised), 2: _Track(last_seen=39.0), 3: _Track(last_seen=5.0)}

    ended = forget_unseen(tracks, now=45.0, after_s=30.0, camera_id="cam")

    assert ended == [IncidentEnded(raised.id, "cam", 10.0)]  # at the last sighting, not at 45 s
    assert set(tracks) == {2}  # 3 had no incident: dropped without an event


def test_a_track_seen_within_the_window_is_kept() -> None:
    tracks = {7: _Track(last_seen=20.0, incident=_incident())}

    assert forget_unseen(tracks, now=50.0, after_s=30.0, camera_id="cam") == []
    assert set(tracks) == {7}
