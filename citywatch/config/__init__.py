"""The pydantic models of `cameras.yaml`, and the loader that turns mistakes into clear errors.

One module per section (base, cameras, thresholds, models, storage, api, notifications), the whole
document in `settings`, loading in `loader`; this package's names are the ones the rest of citywatch
imports. Every model forbids unknown keys, so a typo is an error rather than a silently ignored
setting. Each field carries a description: it is the documentation of the key (see
examples/cameras.yaml). Relative paths are resolved against the folder of the config file; `${VAR}`
and `${VAR:-default}` are expanded from the environment in every string.
"""

from citywatch.config.api import ApiSettings, Shift, UiSettings
from citywatch.config.base import SENSITIVITY_LEVELS, ConfigError, DetectionType, Sensitivity, StrictModel
from citywatch.config.cameras import (
    CAMERA_ID_MAX_LENGTH,
    CAMERA_ID_PATTERN,
    CameraConfig,
    Location,
    MotionSettings,
    Zone,
    incident_types_of,
)
from citywatch.config.loader import escape_env, expand_env, load_config, parse_config
from citywatch.config.models import ModelSettings
from citywatch.config.notifications import (
    AlertType,
    HttpChannelSettings,
    LineSettings,
    MqttSettings,
    NotificationSettings,
    QuietHours,
    RouteRule,
    WebhookSettings,
)
from citywatch.config.settings import CitywatchConfig
from citywatch.config.storage import EvidenceSettings, HealthSettings, IncidentSettings, StorageSettings
from citywatch.config.thresholds import (
    AccidentThresholds,
    FallThresholds,
    FightThresholds,
    FireThresholds,
    NoHelmetThresholds,
    PersistenceRule,
    Thresholds,
    WeaponThresholds,
)

__all__ = [
    "CAMERA_ID_MAX_LENGTH",
    "CAMERA_ID_PATTERN",
    "SENSITIVITY_LEVELS",
    "AccidentThresholds",
    "AlertType",
    "ApiSettings",
    "CameraConfig",
    "CitywatchConfig",
    "ConfigError",
    "DetectionType",
    "EvidenceSettings",
    "FallThresholds",
    "FightThresholds",
    "FireThresholds",
    "HealthSettings",
    "HttpChannelSettings",
    "IncidentSettings",
    "LineSettings",
    "Location",
    "ModelSettings",
    "MotionSettings",
    "MqttSettings",
    "NoHelmetThresholds",
    "NotificationSettings",
    "PersistenceRule",
    "QuietHours",
    "RouteRule",
    "Sensitivity",
    "Shift",
    "StorageSettings",
    "StrictModel",
    "Thresholds",
    "UiSettings",
    "WeaponThresholds",
    "WebhookSettings",
    "Zone",
    "escape_env",
    "expand_env",
    "incident_types_of",
    "load_config",
    "parse_config",
]
