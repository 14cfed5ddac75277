"""Expiring, signed links to an incident's snapshot, for receivers that cannot log in.

LINE shows an image message by fetching `originalContentUrl` from its own servers: the URL must be
public https and cannot carry our login. So the link carries `expires` (Unix seconds) and
`signature` (hex HMAC-SHA256 with `notifications.evidence_link_secret` over
`<incident_id>.<expires>`); the API serves the snapshot at that path to anyone holding a valid,
unexpired pair, and to no one else.
"""

import hashlib
import hmac
import time

SNAPSHOT_PATH = "/api/shared/snapshots/{incident_id}.jpg"


def _signature(secret: str, incident_id: str, expires: int) -> str:
    return hmac.new(secret.encode(), f"{incident_id}.{expires}".encode(), hashlib.sha256).hexdigest()


def snapshot_link(
    base_url: str, secret: str, incident_id: str, ttl_s: float, now: float | None = None
) -> str:
    expires = int((time.time() if now is None else now) + ttl_s)
    path = SNAPSHOT_PATH.format(incident_id=incident_id)
    return (
        f"{base_url.rstrip('/')}{path}?expires={expires}&signature={_signature(secret, incident_id, expires)}"
    )


def link_is_valid(
    secret: str, incident_id: str, expires: int, signature: str, now: float | None = None
) -> bool:
    """For the API route: the signature matches and the link has not expired. `signature` is
    whatever the request carried (compared as bytes: a non-ASCII one is simply wrong)."""
    if expires < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(_signature(secret, incident_id, expires).encode(), signature.encode())
