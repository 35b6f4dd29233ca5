"""Alembic's entry for vbank-desk: always run from ``lib/db/appdb.upgrade`` on a connection it opened (and locked),
never from an alembic.ini; there is no offline (SQL script) mode."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
