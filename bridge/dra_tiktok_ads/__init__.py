"""Glue between the tap and the DRA platform: encrypted connection details, data source
registration, and the database connection every part shares (libpq ``PG*`` variables)."""
