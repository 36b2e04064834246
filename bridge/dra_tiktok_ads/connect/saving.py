"""Where a finished connection goes: the token store, the Meltano ``.env``, the platform table.

* Tokens live only in the token store (``tap_tiktok_ads.auth.TokenStore``: atomic, 0600),
  which the tap reads first on start and rewrites after a refresh.
* ``.env`` (Meltano loads it from the project root) gets the non-secret settings that point
  the tap at the store and the chosen advertisers; other lines are kept as they are.
* With a platform database configured (``PGHOST`` or ``PGDATABASE``, and ``ENCRYPTION_KEY``),
  one ``dra_data_sources`` row per advertiser is created or updated through the registration
  module, with encrypted connection details.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dra_tiktok_ads.connect.settings import DEFAULT_API_URL, ConnectSettings
from dra_tiktok_ads.connect.tiktok import Advertiser, Tokens
from dra_tiktok_ads.details import ConnectionDetails
from tap_tiktok_ads.auth import StoredTokens, TokenStore

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


NO_PLATFORM_REASON = "no platform database configured (PGHOST and ENCRYPTION_KEY)"


class SaveError(Exception):
    """Saving failed; the message names the file or setting and never holds a secret."""


@dataclass(frozen=True)
class SaveResult:
    """What was written, for the done page and the CLI (no secrets)."""

    token_store_path: Path
    env_file: Path | None
    env_keys: tuple[str, ...]
    data_source_ids: dict[str, int] = field(default_factory=dict)
    platform_skipped_reason: str = ""


def _quote(value: str) -> str:
    """Single-quote for dotenv: python-dotenv and Meltano read it literally."""
    if "'" in value or "\n" in value:
        raise SaveError("a .env value cannot contain quotes or newlines")
    return f"'{value}'"


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    """Update or append ``KEY='value'`` lines, keep every other line, write atomically 0600."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    except OSError as exc:
        raise SaveError(f"cannot read {path} ({exc.strerror})") from None
    pending = dict(values)
    output: list[str] = []
    for line in lines:
        match = _ENV_LINE.match(line)
        key = match.group(1) if match else None
        if key in values:
            if key in pending:
                output.append(f"{key}={_quote(pending.pop(key))}")
            continue  # drop duplicates of a key we own
        output.append(line)
    output.extend(f"{key}={_quote(value)}" for key, value in pending.items())
    _atomic_write(path, "\n".join(output) + "\n")


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise SaveError(f"cannot write {path} ({exc.strerror})") from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp_name).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(temp_name).unlink()
        raise


def env_values(
    settings: ConnectSettings, tokens: Tokens, advertiser_ids: Sequence[str]
) -> dict[str, str]:
    """The Meltano settings (``TAP_TIKTOK_ADS_*``) that make the tap use this connection."""
    store = settings.token_store_path.resolve()
    values = {
        "TAP_TIKTOK_ADS_ADVERTISER_IDS": json.dumps(list(advertiser_ids), separators=(",", ":")),
        "TAP_TIKTOK_ADS_TOKEN_STORE_PATH": _path_for_env(store, settings.env_file),
        "TAP_TIKTOK_ADS_APP_ID": settings.app_id,
    }
    if settings.api_url != DEFAULT_API_URL:
        values["TAP_TIKTOK_ADS_API_URL"] = settings.api_url
    if tokens.refresh_token:
        # Rotating tokens can only be renewed with the app secret; .env is 0600 and is
        # where Meltano keeps secrets (`meltano config set` writes them there too).
        values["TAP_TIKTOK_ADS_APP_SECRET"] = settings.app_secret
    return values


def _path_for_env(store: Path, env_file: Path | None) -> str:
    """Relative to the Meltano project (the .env folder) when inside it, else absolute."""
    if env_file is not None:
        with contextlib.suppress(ValueError):
            return str(store.relative_to(env_file.resolve().parent))
    return str(store)


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
    """One ``dra_data_sources`` row per advertiser (created, or updated on re-connect).

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
    """Saves a chosen connection everywhere the pipeline reads it."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def __call__(
        self, settings: ConnectSettings, tokens: Tokens, advertisers: Sequence[Advertiser]
    ) -> SaveResult:
        advertiser_ids = [a.advertiser_id for a in advertisers]
        try:
            TokenStore(settings.token_store_path).save(
                StoredTokens(
                    access_token=tokens.access_token,
                    refresh_token=tokens.refresh_token,
                    token_expires_at=tokens.token_expires_at,
                    advertiser_ids=advertiser_ids,
                )
            )
        except OSError as exc:
            raise SaveError(
                f"cannot write the token store {settings.token_store_path} ({exc.strerror}); "
                "set TIKTOK_ADS_TOKEN_STORE_PATH to a writable file"
            ) from None
        env_keys: tuple[str, ...] = ()
        if settings.env_file is not None:
            values = env_values(settings, tokens, advertiser_ids)
            try:
                write_env_file(settings.env_file, values)
            except OSError as exc:
                raise SaveError(
                    f"cannot write {settings.env_file} ({exc.strerror}); "
                    "set TIKTOK_ADS_ENV_FILE to a writable file"
                ) from None
            env_keys = tuple(values)
        if not platform_configured(self._environ):
            return SaveResult(
                settings.token_store_path,
                settings.env_file,
                env_keys,
                platform_skipped_reason=NO_PLATFORM_REASON,
            )
        return SaveResult(
            settings.token_store_path,
            settings.env_file,
            env_keys,
            data_source_ids=register_on_platform(settings, tokens, advertisers),
        )
