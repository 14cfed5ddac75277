"""Signed, expiring links to an incident's snapshot, for receivers that cannot log in (LINE
fetches the image of a push from its own servers): no login, only a valid, unexpired signature
made with `notifications.evidence_link_secret` (citywatch.notifiers.evidence_links).

404 when this installation signs no links (no secret configured) or the incident has no
snapshot; 403 when the signature is wrong or the link expired. The signature is checked before
the incident is looked up, so a bad link learns nothing. Each view is audited as by
`services.evidence.SHARED_LINK_ACTOR`.
"""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import FileResponse

from citywatch.api.auth import Context, client_address
from citywatch.api.routers.incidents import IncidentId
from citywatch.notifiers.evidence_links import link_is_valid

router = APIRouter(prefix="/shared", tags=["shared"])


@router.get(
    "/snapshots/{incident_id}.jpg",
    response_class=FileResponse,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "The snapshot"},
        403: {"description": "Wrong signature or expired link"},
        404: {"description": "No shared links here, or no snapshot for this incident"},
    },
)
def shared_snapshot(
    incident_id: IncidentId,
    expires: Annotated[int, Query(ge=0, lt=2**63, description="Unix seconds the link is valid until.")],
    signature: Annotated[str, Query(max_length=128, description="Hex HMAC-SHA256 of the link.")],
    request: Request,
    context: Context,
) -> FileResponse:
    if context.link_secret is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this installation shares no links")
    if not link_is_valid(context.link_secret, incident_id, expires, signature):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid or expired link")
    path = context.evidence.shared_snapshot(incident_id, client_address(request))
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no snapshot for this incident")
    return FileResponse(path, media_type="image/jpeg", filename=path.name, content_disposition_type="inline")
