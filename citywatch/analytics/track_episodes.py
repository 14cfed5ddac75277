"""The end of a tracked episode: a person or rider track unseen for a while is forgotten, and the
incident it raised ends when the track was last seen.

Shared by the analyzers that keep one state per track (fall, no_helmet, weapon). The end time is
the last sighting, not the moment the track is dropped: an operator reads "ended 14:02:10" as when
it was last seen, not half a minute later.
"""

from collections.abc import MutableMapping
from typing import Protocol, TypeVar

from citywatch.domain.incident import Incident, IncidentEnded


class TrackEpisode(Protocol):
    last_seen: float
    incident: Incident | None


Key = TypeVar("Key")


def forget_unseen(
    tracks: MutableMapping[Key, TrackEpisode], now: float, after_s: float, camera_id: str
) -> list[IncidentEnded]:
    """Drops from `tracks` every track unseen for more than `after_s` at `now`; one IncidentEnded
    (at its last sighting) for each that had raised an incident."""
    ended: list[IncidentEnded] = []
    for key in [k for k, state in tracks.items() if now - state.last_seen > after_s]:
        state = tracks.pop(key)
        if state.incident is not None:
            ended.append(IncidentEnded(state.incident.id, camera_id, state.last_seen))
    return ended
