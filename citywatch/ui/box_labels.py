"""An evidence box as an operator reads it: what the analyzer saw, in the user's language, and how
sure it was."""

from __future__ import annotations

from citywatch.domain.incident import EvidenceBox
from citywatch.ui.i18n import EN
from citywatch.ui.session import UiSession


def box_label(box: EvidenceBox, session: UiSession) -> str:
    """'มีด 62%' or 'Knife 62%'; a label without a translation (a model from outside our pack, an
    incident stored by an older version) as the model named it."""
    name = session.t(f"label.{box.label}") if f"label.{box.label}" in EN else box.label
    return f"{name} {box.confidence:.0%}"
