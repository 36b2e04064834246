"""Where a finished connection goes: one token store per advertiser, ``.env``, the platform.

* Each chosen advertiser gets its own token store, ``<token_store_dir>/<advertiser_id>.json``
  (the tap's ``StoredTokens`` format, 0600) holding ``advertiser_ids`` = that advertiser only,
  so one tenant's tokens are never mixed with another's, and connecting another account adds
  a store instead of overwriting one. The tap reads it with
  ``TAP_TIKTOK_ADS_TOKEN_STORE_PATH=<that file>`` and rewrites it after a refresh.
* ``.env`` (Meltano loads it from the project root) gets only settings shared by every
  tenant: the app id, the API URL when not production, the app secret when tokens rotate.
  Lines of earlier versions naming one tenant's store or advertisers are removed.
* With a platform database configured (``PGHOST`` or ``PGDATABASE``, and ``ENCRYPTION_KEY``),
  one ``dra_data_sources`` row per advertiser is created or updated, all in one transaction.

All or nothing: every file is first staged under a temporary name, the rows are written in one
transaction, and the files are renamed into place only after it commits. A failure before
that leaves every file and row as it was.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dra_tiktok_ads.connect.envfile import EnvValueError, read_env_text, updated_env_text
from dra_tiktok_ads.connect.settings import DEFAULT_API_URL, ConnectSettings, SettingsError
from dra_tiktok_ads.connect.staging import StagedFile, remove_leftovers, sync_folders
from dra_tiktok_ads.connect.tiktok import Advertiser, Tokens
from dra_tiktok_ads.details import ConnectionDetails
from tap_tiktok_ads.auth import StoredTokens

NO_PLATFORM_REASON = "no platform database configured (PGHOST and ENCRYPTION_KEY)"
# Written by earlier versions; they point every tenant at one store and one advertiser list.
OBSOLETE_ENV_KEYS = ("TAP_TIKTOK_ADS_ADVERTISER_IDS", "TAP_TIKTOK_ADS_TOKEN_STORE_PATH")


class SaveError(Exception):
    """Saving failed; the message names the file or setting and never holds a secret."""


@dataclass(frozen=True)
class SavedAdvertiser:
    advertiser_id: str
    name: str
    token_store_path: Path
    data_source_id: int | None = None


@dataclass(frozen=True)
class SaveResult:
    """What was written, for the done page and the CLI (no secrets)."""

    advertisers: tuple[SavedAdvertiser, ...]
    env_file: Path | None
    env_keys: tuple[str, ...]
    platform_skipped_reason: str = ""

    @property
    def data_source_ids(self) -> dict[str, int]:
        return {
            a.advertiser_id: a.data_source_id
            for a in self.advertisers
            if a.data_source_id is not None
        }


def env_values(settings: ConnectSettings, tokens: Tokens) -> dict[str, str]:
    """The Meltano settings (``TAP_TIKTOK_ADS_*``) shared by every connected advertiser."""
    values = {"TAP_TIKTOK_ADS_APP_ID": settings.app_id}
    if settings.api_url != DEFAULT_API_URL:
        values["TAP_TIKTOK_ADS_API_URL"] = settings.api_url
    if tokens.refresh_token:
        # Rotating tokens can only be renewed with the app secret; .env is 0600 and is
        # where Meltano keeps secrets (`meltano config set` writes them there too).
        values["TAP_TIKTOK_ADS_APP_SECRET"] = settings.app_secret
    return values


def platform_configured(environ: Mapping[str, str]) -> bool:
    return bool(
        (environ.get("PGHOST") or environ.get("PGDATABASE")) and environ.get("ENCRYPTION_KEY")
    )


def connection_details(
    settings: ConnectSettings, tokens: Tokens, advertiser_id: str
) -> ConnectionDetails:
    """One advertiser's connection details; the app secret is never in them."""
    return ConnectionDetails(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        token_expires_at=tokens.token_expires_at,
        advertiser_ids=(advertiser_id,),
        app_id=settings.app_id,
        api_url=settings.api_url,
    )


def register_on_platform(
    settings: ConnectSettings, tokens: Tokens, advertisers: Sequence[Advertiser]
) -> dict[str, int]:
    """One ``dra_data_sources`` row per advertiser (created, or updated on re-connect), all
    in one transaction: either every row is written or none.

    Uses the same code as ``tap-tiktok-ads-register``; the database comes from ``PG*`` and
    the key from ``ENCRYPTION_KEY``.
    """
    # Imported here: the platform glue (and its database) is optional for Singer users.
    import psycopg

    from dra_tiktok_ads import crypto, db, registration

    ids: dict[str, int] = {}
    try:
        key_hex = crypto.key_from_env()
        with db.connect(autocommit=True) as conn:
            registration.ensure_platform_objects(conn)
            with conn.transaction():
                for advertiser in advertisers:
                    ids[advertiser.advertiser_id] = registration.register_data_source(
                        conn,
                        advertiser_id=advertiser.advertiser_id,
                        advertiser_name=advertiser.name,
                        details=connection_details(settings, tokens, advertiser.advertiser_id),
                        key_hex=key_hex,
                    )
    except (
        crypto.ConnectionDetailsError,
        db.DatabaseConnectionError,
        registration.RegistrationError,
    ) as exc:
        raise SaveError(f"platform registration failed: {exc}") from None
    except psycopg.Error as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0]
        raise SaveError(
            f"platform registration failed ({type(exc).__name__}: {first_line})"
        ) from None
    return ids


class ConnectionSaver:
    """Saves a chosen connection everywhere the pipeline reads it, all or nothing."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def __call__(
        self, settings: ConnectSettings, tokens: Tokens, advertisers: Sequence[Advertiser]
    ) -> SaveResult:
        remove_leftovers(settings.token_store_dir)
        if settings.env_file is not None:  # a staged .env may hold the app secret
            remove_leftovers(settings.env_file.parent)
        staged: list[StagedFile] = []
        try:
            stores = {
                a.advertiser_id: _stage_tokens(settings, tokens, a, staged) for a in advertisers
            }
            env_keys: tuple[str, ...] = ()
            if settings.env_file is not None:
                values = env_values(settings, tokens)
                _stage_env_file(settings.env_file, values, staged)
                env_keys = tuple(values)
            ids: dict[str, int] = {}
            skipped = NO_PLATFORM_REASON
            if platform_configured(self._environ):
                ids, skipped = register_on_platform(settings, tokens, advertisers), ""
        except BaseException:
            for file in staged:
                file.discard()
            raise
        _install(staged, rows_saved=bool(ids))
        return SaveResult(
            advertisers=tuple(
                SavedAdvertiser(
                    a.advertiser_id, a.name, stores[a.advertiser_id], ids.get(a.advertiser_id)
                )
                for a in advertisers
            ),
            env_file=settings.env_file,
            env_keys=env_keys,
            platform_skipped_reason=skipped,
        )


def _stage_tokens(
    settings: ConnectSettings, tokens: Tokens, advertiser: Advertiser, staged: list[StagedFile]
) -> Path:
    """Stage the token store of ``advertiser`` (its own tokens file, that advertiser only)."""
    try:
        path = settings.token_store_path(advertiser.advertiser_id)
    except SettingsError as exc:
        raise SaveError(str(exc)) from None
    content = StoredTokens(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        token_expires_at=tokens.token_expires_at,
        advertiser_ids=[advertiser.advertiser_id],
    ).to_json()
    try:
        staged.append(StagedFile(path, json.dumps(content, indent=2)))
    except OSError as exc:
        raise SaveError(
            f"cannot write the token store {path} ({exc.strerror}); "
            "set TIKTOK_ADS_TOKEN_STORE_DIR to a writable folder"
        ) from None
    return path


def _stage_env_file(path: Path, values: Mapping[str, str], staged: list[StagedFile]) -> None:
    try:
        text = updated_env_text(read_env_text(path), values, remove=OBSOLETE_ENV_KEYS)
        staged.append(StagedFile(path, text))
    except EnvValueError as exc:
        raise SaveError(f"cannot write {path}: {exc}") from None
    except OSError as exc:
        raise SaveError(
            f"cannot write {path} ({exc.strerror}); set TIKTOK_ADS_ENV_FILE to a writable file"
        ) from None


def _install(staged: Sequence[StagedFile], *, rows_saved: bool) -> None:
    """Rename every staged file into place (after the rows committed)."""
    for index, file in enumerate(staged):
        try:
            file.install()
        except OSError as exc:
            for rest in staged[index:]:
                rest.discard()
            saved = "the files before it" + (" and the platform rows" if rows_saved else "")
            raise SaveError(
                f"cannot put {file.path} in place ({exc.strerror}); {saved} were saved: save again"
            ) from None
    sync_folders({file.path.parent for file in staged})
