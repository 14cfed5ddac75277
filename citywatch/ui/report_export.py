"""An incident as one self-contained HTML file for a case file: the facts, the snapshot embedded
as a data URI (no link that can break), the boxes and the full history, in the user's language.
Opens in any browser offline; the browser's "print to PDF" makes the PDF (a print stylesheet keeps
it to the page)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from citywatch.domain.lifecycle import IncidentEvent
from citywatch.services.evidence import IncidentExport
from citywatch.ui.session import UiSession

_STYLE = """
body{font-family:'Noto Sans Thai','Loma','Garuda',sans-serif;margin:24px;color:#111}
h1{font-size:22px;margin:0 0 4px} .muted{color:#555;font-size:13px}
table{border-collapse:collapse;width:100%;margin:12px 0} th,td{border:1px solid #bbb;padding:4px 8px;
text-align:left;font-size:13px;vertical-align:top} th{background:#eee}
img{max-width:100%;border:1px solid #999} @media print{body{margin:0}}
"""


def incident_report_html(export: IncidentExport, camera_name: str, session: UiSession) -> str:
    s = session
    incident, history, snapshot = export.incident, export.history, export.snapshot
    facts = [
        (s.t("report.id"), incident.id),
        (s.t("report.type"), s.t(f"type.{incident.type.value}") + _sub(incident.subtype)),
        (s.t("incident.camera"), f"{camera_name} ({incident.camera_id})"),
        (s.t("incident.time"), s.time(incident.started_at, long=True)),
        (s.t("incident.ended"), s.time(incident.ended_at, long=True) if incident.ended_at else "–"),
        (s.t("incident.confidence"), f"{incident.confidence:.0%}"),
        (s.t("incident.status"), s.t(f"status.{incident.status.value}")),
        (s.t("incident.assigned"), incident.assigned_user or incident.assigned_unit or "–"),
        (s.t("incident.locked"), "✔" if incident.locked else "–"),
    ]
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    boxes = "".join(
        f"<tr><td>{escape(b.label)}</td><td>{b.confidence:.0%}</td>"
        f"<td>{', '.join(f'{v:.0f}' for v in b.xyxy)}</td></tr>"
        for b in incident.boxes
    )
    events = "".join(
        f"<tr><td>{escape(s.time(e.at, long=True))}</td><td>{escape(s.t(f'action.{e.action.value}'))}"
        f"{escape(_status_change(e, s))}</td><td>{escape(e.actor)}</td><td>{escape(e.note or '')}</td></tr>"
        for e in history
    )
    image = (
        f'<img alt="snapshot" src="data:image/jpeg;base64,{_base64(snapshot)}">'
        if snapshot is not None
        else f"<p>{escape(s.t('incident.no_snapshot'))}</p>"
    )
    generated = s.t("report.generated", time=s.time(datetime.now(UTC), long=True), actor=s.caller.actor)
    return (
        f'<!DOCTYPE html><html lang="{s.lang}"><head><meta charset="utf-8">'
        f"<title>{escape(s.t('report.heading'))} {escape(incident.id)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(s.t('report.heading'))}</h1><p class='muted'>{escape(generated)}</p>"
        f"<table>{rows}</table><h2>{escape(s.t('incident.snapshot'))}</h2>{image}"
        f"<h2>{escape(s.t('incident.boxes'))}</h2><table>{boxes}</table>"
        f"<h2>{escape(s.t('incident.history'))}</h2><table><tr><th>{escape(s.t('report.when'))}</th>"
        f"<th>{escape(s.t('report.action'))}</th><th>{escape(s.t('report.who'))}</th>"
        f"<th>{escape(s.t('report.note'))}</th></tr>{events}</table></body></html>"
    )


def _sub(subtype: str | None) -> str:
    return f" ({subtype})" if subtype else ""


def _status_change(event: IncidentEvent, session: UiSession) -> str:
    if event.to_status is None:
        return ""
    return f" → {session.t(f'status.{event.to_status.value}')}"


def _base64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()
