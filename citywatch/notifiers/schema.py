"""Tables of the notifiers (created by migration 0003_notifications, on the store's `Base`)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from citywatch.storage.schema import JSON_TYPE, Base, UTCDateTime


class DeadLetterRow(Base):
    """A message a channel gave up on (tries used up, refused, or shutdown before delivery)."""

    __tablename__ = "notification_dead_letters"
    __table_args__ = (Index("ix_notification_dead_letters_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(64))
    message_key: Mapped[str] = mapped_column(String(128))
    """The message's stable id (webhook X-Citywatch-Delivery, LINE X-Line-Retry-Key)."""
    target: Mapped[str] = mapped_column(Text)
    """Where it was going: URL, LINE recipient id or MQTT topic."""
    incident_id: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
