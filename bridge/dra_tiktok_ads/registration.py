"""Register a TikTok advertiser as a DRA data source (``tap-tiktok-ads-register``).

Creates or finds the ``dra_data_sources`` row for an advertiser (``data_type 'tiktok_ads'``,
``classification 'marketing_campaign_data'``), with the connection details encrypted the
platform's way. Re-registering the same advertiser (in the same project) updates its
connection details and returns the same id.

Secrets never come from the command line (they would show in ``ps``): the details come from
a JSON file or stdin, and single tokens from named environment variables.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from importlib import resources
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from dra_tiktok_ads import crypto, db
from dra_tiktok_ads.details import ConnectionDetails

DATA_TYPE = "tiktok_ads"
CLASSIFICATION = "marketing_campaign_data"
SYNC_SCHEDULES = ("manual", "hourly", "daily", "weekly", "monthly")
NAME_MAX_LENGTH = 255  # dra_data_sources.name VARCHAR(255)
ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"
_MACRO_BODY = re.compile(
    r"\{%\s*macro\s+dra_platform_contract_sql\(\)\s*%\}(?P<body>.*?)\{%\s*endmacro\s*%\}",
    re.DOTALL,
)


class RegistrationError(RuntimeError):
    """The data source cannot be registered; the message says what to change."""


def platform_contract_sql() -> str:
    """The platform contract's statements (sql/platform_contract.sql, the file dbt also runs
    on-run-start), as plain SQL."""
    text = (
        resources.files("dra_tiktok_ads")
        .joinpath("sql/platform_contract.sql")
        .read_text(encoding="utf-8")
    )
    match = _MACRO_BODY.search(text)
    if match is None or any(tag in match["body"] for tag in ("{{", "{%", "{#")):
        raise RegistrationError("platform_contract.sql must hold one plain-SQL macro body.")
    return match["body"].strip()


def ensure_platform_objects(conn: psycopg.Connection) -> None:
    """Create whatever of the platform contract is absent: the enum (gaining 'tiktok_ads'),
    ``dra_data_sources``, schema ``dra_tiktok_ads`` and its three tables. Commits, so the new
    enum value is usable right after."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise RegistrationError(
            "ensure_platform_objects needs a connection outside a transaction: the new enum"
            " value can only be used once its ALTER TYPE has committed."
        )
    with conn.transaction():
        conn.execute(platform_contract_sql().encode("utf-8"))


def _find_data_source(
    conn: psycopg.Connection, advertiser_id: str, project_id: int | None
) -> int | None:
    row = conn.execute(
        "SELECT id FROM dra_data_sources"
        " WHERE data_type = 'tiktok_ads' AND sync_config ->> 'advertiser_id' = %s"
        " AND project_id IS NOT DISTINCT FROM %s ORDER BY id LIMIT 1",
        (advertiser_id, project_id),
    ).fetchone()
    return None if row is None else int(row[0])


def fitted_name(name: str) -> str:
    """``name`` as ``dra_data_sources.name`` can hold it: shortened with an ellipsis if longer."""
    if len(name) <= NAME_MAX_LENGTH:
        return name
    return name[: NAME_MAX_LENGTH - len(ELLIPSIS)].rstrip() + ELLIPSIS


def register_data_source(
    conn: psycopg.Connection,
    *,
    advertiser_id: str,
    advertiser_name: str,
    details: ConnectionDetails,
    key_hex: str,
    sync_schedule: str = "daily",
    project_id: int | None = None,
    users_platform_id: int | None = None,
    organization_id: int | None = None,
    workspace_id: int | None = None,
) -> int:
    """Create or find the data source of ``advertiser_id``; return its id.

    The advertiser id is kept in clear in ``sync_config`` (it is not a secret) so the row can
    be found again without decrypting every data source. A name longer than the column is
    stored shortened, the whole name in ``sync_config.full_name``.

    On a connection outside a transaction the platform objects are ensured first; inside one
    (several registrations that must land together) the caller ensures them beforehand.
    """
    if not advertiser_id.strip():
        raise RegistrationError("advertiser_id must not be empty.")
    if advertiser_id not in details.advertiser_ids:
        raise RegistrationError(
            f"The connection details are for advertisers {', '.join(details.advertiser_ids)},"
            f" not {advertiser_id}: a data source reads only its own advertiser."
        )
    if sync_schedule not in SYNC_SCHEDULES:
        raise RegistrationError(
            f"sync_schedule {sync_schedule!r} is not one of {', '.join(SYNC_SCHEDULES)}."
        )
    envelope = Jsonb(details.encrypt(key_hex))
    name = fitted_name(advertiser_name)
    config: dict[str, Any] = {"advertiser_id": advertiser_id, "loader": "tap-tiktok-ads"}
    if name != advertiser_name:
        config["full_name"] = advertiser_name
    if len(details.advertiser_ids) > 1:
        # An explicit list of advertisers owned by this data source, in clear for the job's
        # check (tap-tiktok-ads-check); one advertiser per data source is the usual case.
        config["advertiser_ids"] = list(details.advertiser_ids)
    sync_config = Jsonb(config)
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        ensure_platform_objects(conn)
    with conn.transaction():
        # Every path to a `meltano run` of a data source registers it first (and the job's
        # check refuses an unknown one), so Meltano's state schema is in place by then.
        db.ensure_state_schema(conn)
        # One registration per advertiser at a time, so two connects never create two rows.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"tiktok_ads:{advertiser_id}",))
        existing = _find_data_source(conn, advertiser_id, project_id)
        if existing is not None:
            conn.execute(
                "UPDATE dra_data_sources SET connection_details = %s, name = %s,"
                " sync_schedule = %s,"
                " sync_config = (coalesce(sync_config, '{}'::jsonb) - 'full_name'"
                " - 'advertiser_ids') || %s"
                " WHERE id = %s",
                (envelope, name, sync_schedule, sync_config, existing),
            )
            return existing
        row = conn.execute(
            "INSERT INTO dra_data_sources (name, data_type, connection_details, created_at,"
            " users_platform_id, project_id, organization_id, workspace_id, sync_schedule,"
            " sync_enabled, sync_config, classification)"
            " VALUES (%s, 'tiktok_ads', %s, now() AT TIME ZONE 'UTC', %s, %s, %s, %s, %s,"
            " true, %s, %s) RETURNING id",
            (
                name,
                envelope,
                users_platform_id,
                project_id,
                organization_id,
                workspace_id,
                sync_schedule,
                sync_config,
                CLASSIFICATION,
            ),
        ).fetchone()
    assert row is not None
    return int(row[0])


def read_connection_details(
    conn: psycopg.Connection, data_source_id: int, key_hex: str
) -> ConnectionDetails:
    """Decrypt the stored connection details of a data source."""
    row = conn.execute(
        "SELECT connection_details FROM dra_data_sources WHERE id = %s", (data_source_id,)
    ).fetchone()
    if row is None:
        raise RegistrationError(f"No data source with id {data_source_id}.")
    return ConnectionDetails.decrypt(row[0], key_hex)


def _load_details(args: argparse.Namespace) -> ConnectionDetails:
    details: dict[str, Any] = {}
    if args.details_file:
        try:
            text = sys.stdin.read() if args.details_file == "-" else _read(args.details_file)
            loaded = json.loads(text)
        except (OSError, json.JSONDecodeError) as error:
            raise RegistrationError(
                f"--details-file {args.details_file}: not a readable JSON object ({error})."
            ) from error
        if not isinstance(loaded, dict):
            raise RegistrationError(f"--details-file {args.details_file}: expected a JSON object.")
        details.update(loaded)
    for field, variable in (
        ("access_token", args.access_token_env),
        ("refresh_token", args.refresh_token_env),
    ):
        if variable:
            value = os.environ.get(variable)
            if not value:
                raise RegistrationError(f"Environment variable {variable} is empty or not set.")
            details[field] = value
    for field in ("token_expires_at", "app_id", "api_url"):
        if getattr(args, field):
            details[field] = getattr(args, field)
    if not details.get("access_token"):
        raise RegistrationError(
            "No access token: give --access-token-env VAR or an access_token in --details-file."
        )
    details.setdefault("advertiser_ids", [args.advertiser_id])
    return ConnectionDetails.from_json(details)


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:  # noqa: PTH123 - plain path from argv
        return handle.read()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tap-tiktok-ads-register",
        description=(
            "Create or find the DRA data source of a TikTok advertiser and store its"
            " connection details encrypted with ENCRYPTION_KEY. Prints the data source id."
            " Database from PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE."
        ),
    )
    parser.add_argument("--advertiser-id", required=True, help="TikTok advertiser id")
    parser.add_argument("--name", help="data source name (default: 'TikTok Ads <id>')")
    parser.add_argument(
        "--details-file",
        help="JSON file with the connection details ('-' reads stdin): access_token,"
        " refresh_token, token_expires_at, advertiser_ids, app_id, api_url",
    )
    parser.add_argument("--access-token-env", help="name of the env var holding the access token")
    parser.add_argument("--refresh-token-env", help="name of the env var holding the refresh token")
    parser.add_argument("--token-expires-at", help="access token expiry (ISO 8601)")
    parser.add_argument("--app-id", help="TikTok app id")
    parser.add_argument("--api-url", help="API base URL override (simulator, proxy)")
    parser.add_argument("--schedule", default="daily", choices=SYNC_SCHEDULES)
    parser.add_argument("--project-id", type=int)
    parser.add_argument("--users-platform-id", type=int)
    parser.add_argument("--organization-id", type=int)
    parser.add_argument("--workspace-id", type=int)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        key_hex = crypto.key_from_env()
        details = _load_details(args)
        with db.connect(autocommit=True) as conn:
            data_source_id = register_data_source(
                conn,
                advertiser_id=args.advertiser_id,
                advertiser_name=args.name or f"TikTok Ads {args.advertiser_id}",
                details=details,
                key_hex=key_hex,
                sync_schedule=args.schedule,
                project_id=args.project_id,
                users_platform_id=args.users_platform_id,
                organization_id=args.organization_id,
                workspace_id=args.workspace_id,
            )
    except (RegistrationError, crypto.ConnectionDetailsError, db.DatabaseConnectionError) as error:
        print(f"tap-tiktok-ads-register: {error}", file=sys.stderr)
        return 2
    except psycopg.Error as error:
        print(f"tap-tiktok-ads-register: database error: {error}", file=sys.stderr)
        return 1
    print(data_source_id)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
