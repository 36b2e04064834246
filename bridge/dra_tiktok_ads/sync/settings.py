"""What every part of a run shares: the runner's settings, its logger and its fatal error."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from dra_tiktok_ads import db

#: One logger name for the whole runner: its lines read ``tap-tiktok-ads-sync: ...``.
LOGGER = logging.getLogger("tap-tiktok-ads-sync")

DEFAULT_MAX_PARALLEL = 2
DEFAULT_TIMEOUT_S = 3600
DEFAULT_KEEP_LOGS = 20


class RunnerError(RuntimeError):
    """The runner cannot work at all (configuration, database); exit status 2."""


@dataclass(frozen=True)
class RunnerSettings:
    """Everything a run needs besides the data source."""

    key_hex: str
    project_dir: Path
    meltano: str
    log_dir: Path
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_parallel: int = DEFAULT_MAX_PARALLEL
    start_date: str | None = None
    environment: str | None = None
    full_refresh: bool = False
    keep_logs: int = DEFAULT_KEEP_LOGS
    base_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    connect: Callable[[], psycopg.Connection] = field(default=lambda: db.connect(autocommit=True))

    @property
    def project_sys_dir(self) -> Path:
        """The project's Meltano system directory (installed plugins, system database)."""
        configured = self.base_env.get("MELTANO_SYS_DIR_ROOT")
        return Path(configured) if configured else self.project_dir / ".meltano"
