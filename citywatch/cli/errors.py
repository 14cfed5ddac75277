"""The errors that mean "your input is wrong" (printed as one line), as opposed to bugs."""

from citywatch.analytics.base import UnsupportedIncidentType
from citywatch.perception.model_pack import ModelPackError
from citywatch.runtime.media_analysis import MediaError
from citywatch.storage.evidence import EvidenceError
from citywatch.storage.store import StoreError

USER_ERRORS: tuple[type[Exception], ...] = (
    ModelPackError,
    MediaError,
    UnsupportedIncidentType,
    StoreError,
    EvidenceError,
)
