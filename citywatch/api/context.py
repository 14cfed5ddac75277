"""What the API's handlers share: the store and the services over it, the cameras of the config,
the running Supervisor (if any), the live hub. One per app, kept in `app.state.context`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher

from citywatch.api.audit import AuditLog
from citywatch.api.camera_monitor import CameraMonitor
from citywatch.api.ratelimit import LoginRateLimiter
from citywatch.api.store_feed import StoreFeed
from citywatch.config import ApiSettings, CameraConfig, CitywatchConfig
from citywatch.incidents.acting import IncidentActions
from citywatch.incidents.lifecycle import IncidentLifecycle
from citywatch.incidents.store import IncidentStore
from citywatch.incidents.users import UserDirectory
from citywatch.notifiers.live import LiveHub

if TYPE_CHECKING:
    from citywatch.runtime.supervisor import Supervisor


@dataclass
class ApiContext:
    store: IncidentStore
    users: UserDirectory
    lifecycle: IncidentLifecycle
    actions: IncidentActions
    """Every action on an incident, from the REST routes and the dashboard alike."""
    audit: AuditLog
    monitor: CameraMonitor
    limiter: LoginRateLimiter
    cameras: Sequence[CameraConfig]
    evidence_dir: Path
    settings: ApiSettings
    live: LiveHub
    """What /api/live pushes: the pipeline's hub, or one fed from the store by `feed`."""
    supervisor: Supervisor | None = None
    feed: StoreFeed | None = None
    """Without a pipeline in this process: polls the store for new incidents and camera states."""
    link_secret: str | None = None
    """notifications.evidence_link_secret: signs the public snapshot links; None serves none."""

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    @classmethod
    def build(
        cls,
        config: CitywatchConfig,
        store: IncidentStore,
        supervisor: Supervisor | None = None,
        password_hasher: PasswordHasher | None = None,
    ) -> ApiContext:
        """Services over `store` (already migrated) for `config`; `supervisor` when the pipeline runs."""
        api = config.api
        live = supervisor.live if supervisor is not None else LiveHub()
        users = UserDirectory(store, session_ttl_s=api.session_hours * 3600, password_hasher=password_hasher)
        lifecycle = IncidentLifecycle(store)
        return cls(
            store=store,
            users=users,
            lifecycle=lifecycle,
            actions=IncidentActions(store, users, lifecycle),
            audit=AuditLog(store),
            monitor=CameraMonitor(store),
            limiter=LoginRateLimiter(store, api.login_max_failures, api.login_window_s),
            cameras=config.cameras,
            evidence_dir=config.storage.evidence_dir,
            settings=api,
            live=live,
            supervisor=supervisor,
            feed=None if supervisor is not None else StoreFeed(store, live.publish),
            link_secret=config.notifications.evidence_link_secret,
        )
