"""The command line: configuration errors end with exit status 2 and one line."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from dra_tiktok_ads import crypto
from dra_tiktok_ads.sync.cli import build_parser, default_project_dir, main

KEY = "ab" * 32
REPO_ROOT = Path(__file__).resolve().parents[3]


def test_cli_reports_configuration_errors_with_status_2(
    monkeypatch: pytest.MonkeyPatch, fresh_database: dict[str, str], tmp_path: Path
) -> None:
    monkeypatch.delenv("ENCRYPTION_KEY", raising=False)
    assert main(["--due", "--project-dir", str(tmp_path)]) == 2
    monkeypatch.setenv("ENCRYPTION_KEY", KEY)
    for name, value in fresh_database.items():
        monkeypatch.setenv(name, value)
    # No dra_data_sources table in a fresh database.
    assert main(["--due", "--project-dir", str(REPO_ROOT)]) == 2
    with pytest.raises(SystemExit):
        main(["--due", "--all"])
    assert crypto.KEY_ENV_VAR == "ENCRYPTION_KEY"
    assert isinstance(build_parser().parse_args(["--all"]), argparse.Namespace)


def test_the_default_project_is_this_checkout_wherever_the_runner_is_called_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MELTANO_PROJECT_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_project_dir() == REPO_ROOT
    monkeypatch.setenv("MELTANO_PROJECT_ROOT", str(tmp_path))
    assert default_project_dir() == tmp_path
