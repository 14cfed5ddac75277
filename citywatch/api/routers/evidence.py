"""Evidence files of an incident, served with HTTP range requests so a browser can seek a clip.

Every view is written to the audit log (services.evidence), whatever its Range header asks for;
the requests of one person for one file within `audit.VIEW_WINDOW_S` (a player seeking a clip)
are one view. A stored path is only served from inside the evidence folder.
"""

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

from citywatch.api.auth import Context, Viewer
from citywatch.api.routers.incidents import IncidentId
from citywatch.services.evidence import EvidenceKind

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
    incident_id: IncidentId, kind: EvidenceKind, caller: Viewer, context: Context
) -> FileResponse:
    path = context.evidence.file(caller, incident_id, kind)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {kind} for this incident")
    return FileResponse(
        path, media_type=_MEDIA_TYPES[kind], filename=path.name, content_disposition_type="inline"
    )
