"""What the API's handlers (and the dashboard's pages) share: the store and the services over it
(citywatch.services), the cameras of the config, the running Supervisor (if any), the live hubs.
One per app, kept in `app.state.context`. The cameras follow the config file as the dashboard saves
it (`apply_config`, a listener of the file)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher

from citywatch.config import ApiSettings, CameraConfig, CitywatchConfig
from citywatch.notifiers.live import LiveHub
from citywatch.services.accounts import Accounts
from citywatch.services.audit import AuditTrail
from citywatch.services.camera_config import CameraAdmin
from citywatch.services.camera_monitor import CameraMonitor
from citywatch.services.config_file import ConfigFile
from citywatch.services.evidence import Evidence
from citywatch.services.incident_actions import IncidentActions
from citywatch.services.permissions import Authority
from citywatch.services.ratelimit import LoginRateLimiter
from citywatch.services.search import IncidentSearch
from citywatch.services.stats import IncidentStatistics
from citywatch.services.store_feed import StoreFeed
from citywatch.services.zones import Zones
from citywatch.storage.audit import AuditLog
from citywatch.storage.lifecycle import IncidentLifecycle
from citywatch.storage.store import IncidentStore
from citywatch.storage.users import UserDirectory

if TYPE_CHECKING:
    from citywatch.runtime.supervisor import Supervisor


@dataclass
class AppContext:
    store: IncidentStore
    users: UserDirectory
    lifecycle: IncidentLifecycle
    audit: AuditLog
    """The audit log's rows; the services write them."""
    limiter: LoginRateLimiter
    authority: Authority
    """Credentials to callers, checked against the one table of roles."""
    actions: IncidentActions
    """Every action on an incident, from the REST routes and the dashboard alike."""
    incidents: IncidentSearch
    stats: IncidentStatistics
    evidence: Evidence
    accounts: Accounts
    audit_trail: AuditTrail
    changes: LiveHub
    """{"event": "incident_changed", "data": {"id", "action", "status", "locked"}} for every action
    on an incident, so every open dashboard shows it at once."""
    monitor: CameraMonitor
    zones: Zones
    camera_admin: CameraAdmin
    cameras: Sequence[CameraConfig]
    """As the config file has them now: replaced whole when it is saved (`apply_config`)."""
    settings: ApiSettings
    live: LiveHub
    """What /api/live pushes: the pipeline's hub, or one fed from the store by `feed`."""
    supervisor: Supervisor | None = None
    feed: StoreFeed | None = None
    """Without a pipeline in this process: polls the store for new incidents and camera states."""
    link_secret: str | None = None
    """notifications.evidence_link_secret: signs the public snapshot links; None serves none."""
    camera_time_zones: Mapping[str, ZoneInfo] = field(default_factory=dict)
    """Camera id -> its time zone (config.timezone_for), the one its evidence header is written in."""
    config_file: ConfigFile | None = None
    """The file the dashboard saves cameras and zones into; None when it runs without one."""

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def time_zone_of(self, camera_id: str) -> ZoneInfo:
        """The camera's time zone; the installation's for a camera no longer in the config."""
        return self.camera_time_zones.get(camera_id, self.timezone)

    @classmethod
    def build(
        cls,
        config: CitywatchConfig,
        store: IncidentStore,
        supervisor: Supervisor | None = None,
        password_hasher: PasswordHasher | None = None,
        config_path: Path | None = None,
    ) -> AppContext:
        """Services over `store` (already migrated) for `config`; `supervisor` when the pipeline runs;
        `config_path`, the file `config` was read from, when cameras and zones may be saved into it
        (the context then follows it; the composition root has the pipeline follow it too)."""
        api = config.api
        live = supervisor.live if supervisor is not None else LiveHub()
        users = UserDirectory(store, session_ttl_s=api.session_hours * 3600, password_hasher=password_hasher)
        lifecycle = IncidentLifecycle(store)
        audit = AuditLog(store)
        limiter = LoginRateLimiter(store, api.login_max_failures, api.login_window_s)
        authority = Authority(store, users)
        changes = LiveHub()
        config_file = ConfigFile(config_path) if config_path is not None else None
        context = cls(
            store=store,
            users=users,
            lifecycle=lifecycle,
            audit=audit,
            limiter=limiter,
            authority=authority,
            actions=IncidentActions(store, authority, lifecycle, audit, changes),
            incidents=IncidentSearch(store, lifecycle),
            stats=IncidentStatistics(store),
            evidence=Evidence(store, lifecycle, audit, config.storage.evidence_dir),
            accounts=Accounts(users, audit, limiter),
            audit_trail=AuditTrail(audit),
            changes=changes,
            monitor=CameraMonitor(store),
            zones=Zones(authority, audit, config_file),
            camera_admin=CameraAdmin(authority, audit, config_file),
            cameras=config.cameras,
            settings=api,
            live=live,
            supervisor=supervisor,
            feed=None if supervisor is not None else StoreFeed(store, live.publish),
            link_secret=config.notifications.evidence_link_secret,
            camera_time_zones=_time_zones(config),
            config_file=config_file,
        )
        if config_file is not None:
            config_file.listen(context.apply_config)
        return context

    def apply_config(self, config: CitywatchConfig) -> frozenset[str]:
        """Take the cameras of a saved config (pages and routes read them from here)."""
        self.cameras = config.cameras
        self.camera_time_zones = _time_zones(config)
        return frozenset()


def _time_zones(config: CitywatchConfig) -> dict[str, ZoneInfo]:
    return {camera.id: config.timezone_for(camera) for camera in config.cameras}
