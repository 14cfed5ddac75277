"""Evidence files of an incident, served with HTTP range requests so a browser can seek a clip.

Every view is written to the audit log, whatever its Range header asks for; the requests of one
person for one file within `audit.VIEW_WINDOW_S` (a player seeking a clip) are one view. A stored
path is only served from inside the evidence folder.
"""

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import FileResponse

from citywatch.api.auth import Context, Viewer, client_address
from citywatch.api.routers.incidents import IncidentId

router = APIRouter(prefix="/incidents", tags=["evidence"])

_MEDIA_TYPES = {"snapshot": "image/jpeg", "clip": "video/mp4"}
_RESPONSES = {
    200: {"content": {"image/jpeg": {}, "video/mp4": {}}, "description": "The file"},
    206: {"description": "Part of the file (a Range request)"},
    404: {"description": "No such incident or no such file"},
    416: {"description": "Range not satisfiable"},
}


@router.get("/{incident_id}/{kind}", response_class=FileResponse, responses=_RESPONSES)
def evidence_file(
    incident_id: IncidentId,
    kind: Literal["snapshot", "clip"],
    request: Request,
    principal: Viewer,
    context: Context,
) -> FileResponse:
    incident = context.store.get(incident_id)
    relative = (
        None if incident is None else (incident.snapshot_path if kind == "snapshot" else incident.clip_path)
    )
    path = evidence_path(context.evidence_dir, relative)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {kind} for this incident")
    context.audit.record_view(
        principal.actor, "evidence.view", f"incident:{incident_id}/{kind}", client_address(request)
    )
    return FileResponse(
        path, media_type=_MEDIA_TYPES[kind], filename=path.name, content_disposition_type="inline"
    )


def evidence_path(root: Path, relative: str | None) -> Path | None:
    """The file `relative` names under `root`, or None if there is none or it would be outside."""
    if relative is None:
        return None
    root = root.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path
