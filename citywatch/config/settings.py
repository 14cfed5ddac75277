"""`CitywatchConfig`: the whole of `cameras.yaml`, one field a section."""

from typing import Literal, Self
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator

from citywatch.config.api import ApiSettings, UiSettings
from citywatch.config.base import StrictModel
from citywatch.config.cameras import CameraConfig, MotionSettings
from citywatch.config.models import ModelSettings
from citywatch.config.notifications import NotificationSettings
from citywatch.config.storage import EvidenceSettings, HealthSettings, IncidentSettings, StorageSettings
from citywatch.config.thresholds import Thresholds


class CitywatchConfig(StrictModel):
    cameras: list[CameraConfig] = Field(default_factory=list, description="The cameras to watch.")
    models: ModelSettings = Field(default_factory=ModelSettings, description="Model pack and runtime.")
    storage: StorageSettings = Field(default_factory=StorageSettings, description="Database and evidence.")
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings, description="Snapshots and clips.")
    health: HealthSettings = Field(default_factory=HealthSettings, description="Camera health timings.")
    thresholds: Thresholds = Field(default_factory=Thresholds, description="Default per-type thresholds.")
    motion: MotionSettings = Field(default_factory=MotionSettings, description="Default motion gate.")
    incidents: IncidentSettings = Field(
        default_factory=IncidentSettings, description="Grouping of related incidents."
    )
    api: ApiSettings = Field(default_factory=ApiSettings, description="The REST API of `citywatch serve`.")
    notifications: NotificationSettings = Field(
        default_factory=NotificationSettings, description="Outgoing alerts: MQTT, webhooks, LINE."
    )
    ui: UiSettings = Field(
        default_factory=UiSettings, description="The operator dashboard of `citywatch serve`."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="Log level.")

    @model_validator(mode="after")
    def _unique_camera_ids(self) -> Self:
        seen: set[str] = set()
        for camera in self.cameras:
            if camera.id in seen:
                raise ValueError(f"camera id {camera.id!r} is used twice")
            seen.add(camera.id)
        return self

    def thresholds_for(self, camera: CameraConfig) -> Thresholds:
        """The camera's own thresholds (else the top-level ones) at the camera's sensitivity."""
        return (camera.thresholds or self.thresholds).at_sensitivity(camera.sensitivity)

    def motion_for(self, camera: CameraConfig) -> MotionSettings:
        return camera.motion or self.motion

    def timezone_for(self, camera: CameraConfig) -> ZoneInfo:
        """The camera's own time zone, else the installation's (`api.timezone`)."""
        return ZoneInfo(camera.timezone or self.api.timezone)
