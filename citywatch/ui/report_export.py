"""An incident as one self-contained HTML file for a case file: the facts, the snapshot embedded
as a data URI (no link that can break), the boxes and the full history, in the user's language,
its times in the camera's time zone (the one burned into the snapshot's header) with that zone named.
Opens in any browser offline; the browser's "print to PDF" makes the PDF (a print stylesheet keeps
it to the page)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from citywatch.domain.lifecycle import IncidentEvent
from citywatch.services.evidence import IncidentExport
from citywatch.ui.box_labels import box_label
from citywatch.ui.i18n import format_time
from citywatch.ui.services import services
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
    zone = services().context.time_zone_of(incident.camera_id)

    def when(moment: datetime) -> str:
        return format_time(moment, s.lang, zone, long=True)

    facts = [
        (s.t("report.id"), incident.id),
        (s.t("report.type"), s.t(f"type.{incident.type.value}") + _sub(incident.subtype)),
        (s.t("incident.camera"), f"{camera_name} ({incident.camera_id})"),
        (s.t("incident.time"), when(incident.started_at)),
        (s.t("incident.ended"), when(incident.ended_at) if incident.ended_at else "–"),
        (s.t("report.timezone"), _zone_name(zone, incident.started_at)),
        (s.t("incident.confidence"), f"{incident.confidence:.0%}"),
        (s.t("incident.status"), s.t(f"status.{incident.status.value}")),
        (s.t("incident.assigned"), incident.assigned_user or incident.assigned_unit or "–"),
        (s.t("incident.locked"), "✔" if incident.locked else "–"),
    ]
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    boxes = "".join(
        f"<tr><td>{escape(box_label(b, s))}</td><td>{', '.join(f'{v:.0f}' for v in b.xyxy)}</td></tr>"
        for b in incident.boxes
    )
    events = "".join(
        f"<tr><td>{escape(when(e.at))}</td><td>{escape(s.t(f'action.{e.action.value}'))}"
        f"{escape(_status_change(e, s))}</td><td>{escape(e.actor)}</td><td>{escape(e.note or '')}</td></tr>"
        for e in history
    )
    image = (
        f'<img alt="snapshot" src="data:image/jpeg;base64,{_base64(snapshot)}">'
        if snapshot is not None
        else f"<p>{escape(s.t('incident.no_snapshot'))}</p>"
    )
    generated = s.t("report.generated", time=when(datetime.now(UTC)), actor=s.caller.actor)
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


def _zone_name(zone: ZoneInfo, moment: datetime) -> str:
    """'Asia/Bangkok (UTC+0700)': the zone and its offset when the incident started."""
    return f"{zone.key} (UTC{moment.astimezone(zone).strftime('%z')})"


def _sub(subtype: str | None) -> str:
    return f" ({subtype})" if subtype else ""


def _status_change(event: IncidentEvent, session: UiSession) -> str:
    if event.to_status is None:
        return ""
    return f" → {session.t(f'status.{event.to_status.value}')}"


def _base64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()
