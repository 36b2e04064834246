"""Runner settings against a fresh platform database, for tests that need no pipeline."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from dra_tiktok_ads.sync.settings import RunnerSettings
from tests.e2e.harness import connect_to


@pytest.fixture
def db_settings(fresh_database: dict[str, str], tmp_path: Path) -> RunnerSettings:
    """Settings whose Meltano does not exist: a run that gets that far fails to start."""
    return RunnerSettings(
        key_hex="ab" * 32,
        project_dir=tmp_path,
        meltano="/nonexistent/meltano",
        log_dir=tmp_path / "logs",
        connect=partial(connect_to, fresh_database),
    )
