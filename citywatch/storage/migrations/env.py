"""Alembic environment of the incident store.

There is no alembic.ini: `IncidentStore.upgrade()` builds the Alembic config in code and hands
over an open connection in `config.attributes["connection"]`, so migrations run on the store's
own engine (with its SQLite pragmas) inside one transaction.
"""

from alembic import context

import citywatch.notifiers.schema  # noqa: F401  (its tables join Base.metadata)
from citywatch.storage.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "citywatch migrations run through IncidentStore(url).upgrade() (or `citywatch db upgrade`), "
        "which passes the connection in config.attributes['connection']"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
