"""Dead letters: messages a channel gave up on, kept in the database for an operator to see and resend."""

import logging
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from citywatch.notifiers.delivery import Message
from citywatch.notifiers.schema import DeadLetterRow

log = logging.getLogger(__name__)


class DeadLetters:
    """Writes dead letters to the `notification_dead_letters` table of the store's database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, message: Message, attempts: int, error: str) -> None:
        """Store one dead letter; when the database refuses too, the whole message goes to the log."""
        row = DeadLetterRow(
            channel=message.channel,
            message_key=message.key,
            target=message.target,
            incident_id=message.incident_id,
            payload=message.body,
            attempts=attempts,
            last_error=error[:2000],
            created_at=datetime.now(UTC),
        )
        try:
            with Session(self._engine) as session, session.begin():
                session.add(row)
        except SQLAlchemyError as exc:
            log.error(
                "dead letter not stored (%s): %s %s %s", exc, message.channel, message.target, message.body
            )

    def list(self, limit: int = 100) -> list[DeadLetterRow]:
        """Newest first."""
        query = select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(limit)
        with Session(self._engine, expire_on_commit=False) as session:
            return list(session.scalars(query))
