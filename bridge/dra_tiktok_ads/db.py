"""The platform database connection: psycopg with the standard libpq variables.

``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGPASSWORD`` and ``PGDATABASE`` are read by libpq
itself, so the loader, dbt and this module never configure the database twice.
"""

from __future__ import annotations

import os

import psycopg

LIBPQ_VARIABLES = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE")


class DatabaseConnectionError(RuntimeError):
    """The platform database cannot be reached with the current ``PG*`` settings."""


def describe_target() -> str:
    """Where ``connect()`` goes, for messages (never includes the password)."""
    host = os.environ.get("PGHOST") or "localhost"
    port = os.environ.get("PGPORT") or "5432"
    user = os.environ.get("PGUSER") or "(current user)"
    database = os.environ.get("PGDATABASE") or "(default)"
    return f"{user}@{host}:{port}/{database}"


def connect(*, autocommit: bool = False) -> psycopg.Connection:
    """Open a connection from the ``PG*`` environment variables."""
    try:
        return psycopg.connect("", autocommit=autocommit)
    except psycopg.OperationalError as error:
        raise DatabaseConnectionError(
            f"Cannot connect to PostgreSQL at {describe_target()}: set PGHOST, PGPORT, PGUSER,"
            f" PGPASSWORD and PGDATABASE for the platform database. ({error})"
        ) from error


#: Schema of Meltano's system database (state, run records) in the platform database; see
#: ``database_uri`` in meltano.yml. State kept beside the data it describes: a new or
#: restored database never inherits bookmarks from another one.
STATE_SCHEMA = "meltano"


def ensure_state_schema(conn: psycopg.Connection) -> None:
    """Create Meltano's schema if absent: Meltano creates its tables, not the schema."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA}")
