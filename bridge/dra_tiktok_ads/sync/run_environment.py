"""One data source's run environment, the only place its secrets go, and the secrets to hide.

The data source's tokens, advertisers and id reach Meltano through the subprocess
environment, never argv; per-account settings from the runner's own environment are dropped
so one data source never runs with another's. Each run gets a private Meltano system
directory so parallel runs never read each other's state files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from dra_tiktok_ads import crypto
from dra_tiktok_ads.details import ConnectionDetails
from dra_tiktok_ads.sync.ownership import OWNED_VAR
from dra_tiktok_ads.sync.settings import RunnerSettings
from tap_tiktok_ads.redaction import REDACTED, redact

DEFAULT_START_DAYS = 90

#: Per data source settings: never inherited from the runner's own environment.
_PER_SOURCE_VARS = (
    "TAP_TIKTOK_ADS_ACCESS_TOKEN",
    "TAP_TIKTOK_ADS_REFRESH_TOKEN",
    "TAP_TIKTOK_ADS_TOKEN_EXPIRES_AT",
    "TAP_TIKTOK_ADS_ADVERTISER_IDS",
    "TAP_TIKTOK_ADS_DATA_SOURCE_ID",
    "TAP_TIKTOK_ADS_TOKEN_STORE_PATH",
    "TAP_TIKTOK_ADS_APP_ID",
    "TAP_TIKTOK_ADS_APP_SECRET",
    "TAP_TIKTOK_ADS_START_DATE",
    OWNED_VAR,
    crypto.KEY_ENV_VAR,  # the pipeline never needs the platform key
)
#: Runner-wide secrets that must never show in a message or log.
_SECRET_VARS = ("TIKTOK_ADS_APP_SECRET", "TAP_TIKTOK_ADS_APP_SECRET", "PGPASSWORD")
_CREDENTIAL_PARAMETER = re.compile(
    r"((?:access_token|refresh_token|secret|Access-Token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',&]+"
)
_SYS_DIR_KINDS = ("extractors", "loaders", "utilities", "transformers", "orchestrators", "files")


def pipeline_env(
    settings: RunnerSettings,
    data_source_id: int,
    *,
    details: ConnectionDetails,
    sync_config: Mapping[str, Any],
    store_path: Path,
    sys_dir: Path,
) -> dict[str, str]:
    """The subprocess environment of one data source's run (the only place secrets go)."""
    base = settings.base_env
    env = {k: v for k, v in base.items() if k not in _PER_SOURCE_VARS}
    # MELTANO_DATABASE_URI unset: meltano.yml's database_uri, the platform database (schema
    # meltano, through the PG* variables passed on), never a file in the private folder.
    env |= {
        "MELTANO_SYS_DIR_ROOT": str(sys_dir),
        "TAP_TIKTOK_ADS_DATA_SOURCE_ID": str(data_source_id),
        "TAP_TIKTOK_ADS_ACCESS_TOKEN": details.access_token,
        "TAP_TIKTOK_ADS_ADVERTISER_IDS": json.dumps(list(details.advertiser_ids)),
        # For the job's check, when the row has no sync_config.advertiser_id in clear.
        OWNED_VAR: json.dumps(list(details.advertiser_ids)),
        "TAP_TIKTOK_ADS_TOKEN_STORE_PATH": str(store_path),
        "TAP_TIKTOK_ADS_START_DATE": _start_date(settings, details, sync_config),
        "PATH": f"{Path(settings.meltano).parent}{os.pathsep}{base.get('PATH', os.defpath)}",
    }
    if details.api_url:
        env["TAP_TIKTOK_ADS_API_URL"] = details.api_url
    # Every run of the app draws from one request budget in the platform database. An empty
    # URI means libpq's PG* variables, which the run inherits: no password in any file.
    env.setdefault("TAP_TIKTOK_ADS_SHARED_BUDGET", "postgresql://")
    app_id = details.app_id or base.get("TIKTOK_ADS_APP_ID")
    app_id = app_id or base.get("TAP_TIKTOK_ADS_APP_ID")
    if app_id:
        env["TAP_TIKTOK_ADS_APP_ID"] = str(app_id)
    app_secret = base.get("TIKTOK_ADS_APP_SECRET") or base.get("TAP_TIKTOK_ADS_APP_SECRET")
    if app_secret:
        env["TAP_TIKTOK_ADS_APP_SECRET"] = app_secret
    if details.refresh_token:
        env["TAP_TIKTOK_ADS_REFRESH_TOKEN"] = details.refresh_token
    if details.token_expires_at:
        env["TAP_TIKTOK_ADS_TOKEN_EXPIRES_AT"] = details.token_expires_at.isoformat()
    return env


def _start_date(
    settings: RunnerSettings, details: ConnectionDetails, sync_config: Mapping[str, Any]
) -> str:
    """Per data source (sync_config / details ``start_date``), else --start-date, else
    ``TAP_TIKTOK_ADS_START_DATE``, else 90 days ago. Bookmarks make later runs incremental."""
    for value in (
        sync_config.get("start_date"),
        details.start_date and details.start_date.isoformat(),
        settings.start_date,
        settings.base_env.get("TAP_TIKTOK_ADS_START_DATE"),
    ):
        if value:
            return str(value)[:10]
    return (datetime.now(timezone.utc).date() - timedelta(days=DEFAULT_START_DAYS)).isoformat()


def workdir_prefix(data_source_id: int, pid: int | None = None) -> str:
    """Name prefix of a run's private temporary folder (token store, Meltano run files): the
    data source and the runner process that made it."""
    return f"tiktok-sync-{data_source_id}-{os.getpid() if pid is None else pid}-"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def new_workdir(data_source_id: int) -> Path:
    """A fresh private folder (mode 0700) for one run, after removing those of earlier runs
    of the same data source whose runner was killed before it could clean up: they hold its
    decrypted tokens. Folders of runners still alive are left alone: another platform
    database on this host can have a data source with the same id."""
    temp_root = Path(tempfile.gettempdir())
    for stale in temp_root.glob(f"tiktok-sync-{data_source_id}-*"):
        owner = stale.name.removeprefix(f"tiktok-sync-{data_source_id}-").split("-", 1)[0]
        if owner.isdigit() and _process_alive(int(owner)):
            continue
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=workdir_prefix(data_source_id)))


def private_sys_dir(settings: RunnerSettings, target: Path) -> None:
    """A Meltano system directory of our own: shared plugin venvs, private ``run/`` files.

    Meltano keeps each plugin's run files (catalog, incoming ``state.json``) under
    ``.meltano/run/<plugin>/`` with fixed names, so two runs from one project directory would
    read each other's state. With ``MELTANO_SYS_DIR_ROOT`` pointing here, every run has its
    own, while the installed plugins are shared through symlinks.
    """
    target.mkdir(mode=0o700)
    for kind in _SYS_DIR_KINDS:
        source = settings.project_sys_dir / kind
        if source.is_dir():
            (target / kind).symlink_to(source, target_is_directory=True)


def secret_values(details: ConnectionDetails, settings: RunnerSettings) -> set[str]:
    """Every secret a run knows at its start: the data source's and the runner's own."""
    values = details.secrets()
    values |= {settings.base_env.get(name, "") for name in (*_SECRET_VARS, crypto.KEY_ENV_VAR)}
    values.add(settings.key_hex)
    return {v for v in values if v and len(v) >= 4}


def redact_message(message: str, secrets: Iterable[str]) -> str:
    """``message`` without any known secret, nor anything that looks like a credential."""
    text = redact(message, secrets)
    # Belt and braces: anything that still looks like a credential parameter.
    return _CREDENTIAL_PARAMETER.sub(rf"\1{REDACTED}", text)
