"""``tap-tiktok-ads-check``: the first step of the job ``tiktok-ads``, before anything is read.

A run stamps every row with ``TAP_TIKTOK_ADS_DATA_SOURCE_ID``; nothing in the tap can know
whether that data source exists or owns the advertisers it is about to read. This step
does, against ``dra_data_sources``, so neither a manual ``meltano run tiktok-ads`` nor the
sync runner can load one tenant's advertiser under another tenant's id:

- ``TAP_TIKTOK_ADS_DATA_SOURCE_ID`` must be set, a whole number, and a TikTok data source;
- the advertisers the tap would read (``TAP_TIKTOK_ADS_ADVERTISER_IDS``, else those in the
  token store at ``TAP_TIKTOK_ADS_TOKEN_STORE_PATH``) must all be that data source's.
  Which advertisers it owns: ``sync_config.advertiser_ids`` or ``.advertiser_id`` (written
  by registration, in clear), else its encrypted connection details (with
  ``ENCRYPTION_KEY``), else what the sync runner states from the details it decrypted
  (``TIKTOK_ADS_OWNED_ADVERTISER_IDS``).

It also removes what a killed run may have left in Meltano's run folder: plugin config
files (they hold the access token and the database password), and makes the folder private.
Every refusal is one line naming the variable and value, exit status 2.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import psycopg

from dra_tiktok_ads import crypto, db
from dra_tiktok_ads.details import ConnectionDetails
from tap_tiktok_ads.auth import TokenError, TokenStore

DATA_SOURCE_VAR = "TAP_TIKTOK_ADS_DATA_SOURCE_ID"
ADVERTISERS_VAR = "TAP_TIKTOK_ADS_ADVERTISER_IDS"
TOKEN_STORE_VAR = "TAP_TIKTOK_ADS_TOKEN_STORE_PATH"  # noqa: S105 - a variable name
#: Set by tap-tiktok-ads-sync only: the advertisers of the details it decrypted.
OWNED_VAR = "TIKTOK_ADS_OWNED_ADVERTISER_IDS"
EXIT_REFUSED = 2
#: How a refusal starts, so the runner's log reader finds it among Meltano's lines.
REFUSED_PREFIX = "tap-tiktok-ads-check refused the run:"


class OwnershipError(RuntimeError):
    """The run must not start; the message is the one line a person reads."""


def data_source_id(env: Mapping[str, str]) -> int:
    raw = (env.get(DATA_SOURCE_VAR) or "").strip()
    if not raw:
        raise OwnershipError(
            f"{DATA_SOURCE_VAR} is not set: set it to the id of the data source this run"
            " loads (printed by tap-tiktok-ads-connect and tap-tiktok-ads-register)."
        )
    if not raw.isdigit() or int(raw) == 0:
        raise OwnershipError(
            f"{DATA_SOURCE_VAR}={raw!r} is not a data source id: use the whole number printed"
            " by tap-tiktok-ads-connect or tap-tiktok-ads-register."
        )
    return int(raw)


def configured_advertisers(env: Mapping[str, str]) -> list[str]:
    """The advertisers the tap will read: the setting, else the token store's."""
    raw = (env.get(ADVERTISERS_VAR) or "").strip()
    if raw:
        try:
            ids = json.loads(raw)
        except ValueError:
            ids = None
        if not isinstance(ids, list) or not all(isinstance(i, str | int) for i in ids):
            raise OwnershipError(
                f"{ADVERTISERS_VAR}={raw!r} is not a JSON array of advertiser ids: write it"
                " as '[\"7012345678901234567\"]'."
            )
        if ids:
            return [str(i) for i in ids]
    store = (env.get(TOKEN_STORE_VAR) or "").strip()
    if store:
        try:
            stored = TokenStore(store).load()
        except TokenError as error:
            raise OwnershipError(str(error)) from None
        if stored is not None and stored.advertiser_ids:
            return list(stored.advertiser_ids)
    raise OwnershipError(
        f"No advertiser is named ({ADVERTISERS_VAR} empty, no token store with advertisers):"
        " the tap would read every advertiser the token can see into one data source. Set"
        f" {TOKEN_STORE_VAR} to that data source's token store (.secrets/tiktok/<advertiser"
        f" id>.json) or {ADVERTISERS_VAR}."
    )


def owned_advertisers(
    conn: psycopg.Connection, data_source: int, env: Mapping[str, str]
) -> set[str]:
    row = conn.execute(
        "SELECT data_type::text, sync_config, connection_details FROM dra_data_sources"
        " WHERE id = %s",
        (data_source,),
    ).fetchone()
    if row is None or row[0] != "tiktok_ads":
        what = "no data source" if row is None else f"a {row[0]} data source, not TikTok Ads"
        raise OwnershipError(
            f"{DATA_SOURCE_VAR}={data_source} is {what} in dra_data_sources at"
            f" {db.describe_target()}: use the id tap-tiktok-ads-connect printed, or register"
            " the advertiser with tap-tiktok-ads-register."
        )
    sync_config: Any = row[1] if isinstance(row[1], dict) else {}
    listed = sync_config.get("advertiser_ids")
    if isinstance(listed, list) and listed:
        return {str(i) for i in listed}
    if sync_config.get("advertiser_id"):
        return {str(sync_config["advertiser_id"])}
    key = env.get(crypto.KEY_ENV_VAR)
    if key:
        try:
            return set(ConnectionDetails.decrypt(row[2], crypto.key_from_env()).advertiser_ids)
        except crypto.ConnectionDetailsError as error:
            raise OwnershipError(f"data source {data_source}: {error}") from None
    stated = env.get(OWNED_VAR)
    if stated:
        return {str(i) for i in json.loads(stated)}
    raise OwnershipError(
        f"data source {data_source} does not say which advertiser it owns"
        " (no sync_config.advertiser_id): set ENCRYPTION_KEY so its connection details can be"
        " read, or register it again with tap-tiktok-ads-register."
    )


def owners_of(conn: psycopg.Connection, advertiser_id: str) -> list[int]:
    rows = conn.execute(
        "SELECT id FROM dra_data_sources WHERE data_type::text = 'tiktok_ads'"
        " AND sync_config ->> 'advertiser_id' = %s ORDER BY id",
        (advertiser_id,),
    ).fetchall()
    return [int(r[0]) for r in rows]


def check(env: Mapping[str, str], connect: Any = db.connect) -> tuple[int, list[str]]:
    """Raise ``OwnershipError`` unless the run's advertisers are its data source's."""
    data_source = data_source_id(env)
    advertisers = configured_advertisers(env)
    try:
        with connect() as conn:
            owned = owned_advertisers(conn, data_source, env)
            foreign = [a for a in advertisers if a not in owned]
            if foreign:
                owners = owners_of(conn, foreign[0])
                hint = (
                    f"; it belongs to data source {', '.join(map(str, owners))}"
                    if owners
                    else "; no data source owns it: connect it first"
                )
                raise OwnershipError(
                    f"Advertiser {foreign[0]} is not data source {data_source}'s (it owns"
                    f" {', '.join(sorted(owned))}){hint}. Run one data source at a time with"
                    f" its own token store ({TOKEN_STORE_VAR}) or {ADVERTISERS_VAR}."
                )
    except psycopg.Error as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise OwnershipError(
            f"Cannot check {DATA_SOURCE_VAR} against dra_data_sources at"
            f" {db.describe_target()}: {first}"
        ) from None
    return data_source, advertisers


def clean_run_folder(env: Mapping[str, str]) -> int:
    """Remove plugin config files a killed run left in Meltano's run folder; make it private.

    Meltano writes each plugin's config (access token, database password) to
    ``<system dir>/run/<plugin>/*.config.json`` and deletes it when the plugin ends, which a
    killed run never does. This step runs before the job's plugins write theirs, so every
    such file is a leftover. Returns how many were removed.
    """
    root = env.get("MELTANO_SYS_DIR_ROOT") or str(
        Path(env.get("MELTANO_PROJECT_ROOT") or Path.cwd()) / ".meltano"
    )
    run_dir = Path(root) / "run"
    if not run_dir.is_dir():
        return 0
    removed = 0
    with contextlib.suppress(OSError):
        run_dir.chmod(0o700)
    for leftover in run_dir.glob("*/*.config.json"):
        with contextlib.suppress(OSError):
            leftover.unlink()
            removed += 1
    return removed


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args not in ([], ["data-source"]):  # everything else comes from the environment
        print(f"usage: tap-tiktok-ads-check [data-source] (got {' '.join(args)})", file=sys.stderr)
        return EXIT_REFUSED
    env = dict(os.environ)
    removed = clean_run_folder(env)
    try:
        data_source, advertisers = check(env)
    except (OwnershipError, db.DatabaseConnectionError) as error:
        print(f"{REFUSED_PREFIX} {error}", file=sys.stderr)
        return EXIT_REFUSED
    note = f"; removed {removed} config file(s) a killed run left" if removed else ""
    print(
        f"tap-tiktok-ads-check: data source {data_source} owns advertiser"
        f" {', '.join(advertisers)}{note}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
