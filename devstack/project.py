"""A private copy of this Meltano project, for runs that must not share ``.meltano/run/``.

Meltano writes each run's plugin configuration under ``.meltano/run/<plugin>/`` with fixed
names, so two runs from one project folder race. The copy has its own ``meltano.yml``
(optionally edited) and links the plugin venvs, ``transform/`` and the tap's source.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # no stubs installed; two calls

REPO_ROOT = Path(__file__).resolve().parents[1]
TAP = "tap-tiktok-ads"


def private_project(work_dir: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """``work_dir/project``: meltano.yml copied (after ``edit`` of its parsed form), the rest
    linked (the tap's source, the bridge's platform SQL). Returns the project folder."""
    project = work_dir / "project"
    (project / ".meltano").mkdir(parents=True, exist_ok=True)
    source = REPO_ROOT / "meltano.yml"
    if edit is None:
        text = source.read_text(encoding="utf-8")
    else:
        definition = yaml.safe_load(source.read_text(encoding="utf-8"))
        edit(definition)
        text = yaml.safe_dump(definition, sort_keys=False)
    (project / "meltano.yml").write_text(text, encoding="utf-8")
    links = {
        project / "transform": REPO_ROOT / "transform",
        project / "tap_tiktok_ads": REPO_ROOT / "tap_tiktok_ads",
        # transform/dbt_project.yml reads the platform SQL from ../bridge/dra_tiktok_ads/sql.
        project / "bridge": REPO_ROOT / "bridge",
        project / "pyproject.toml": REPO_ROOT / "pyproject.toml",
        # The job's first step runs .venv/bin/tap-tiktok-ads-check from the project folder.
        project / ".venv": REPO_ROOT / ".venv",
        **{
            project / ".meltano" / kind: REPO_ROOT / ".meltano" / kind
            for kind in ("extractors", "loaders", "utilities")
        },
    }
    for link, target in links.items():
        if not link.is_symlink():
            link.symlink_to(target)
    return project


def send_records(definition: dict[str, Any]) -> None:
    """Edit for ``private_project``: the tap sends RECORD messages (no ``batch_config``)."""
    for extractor in definition["plugins"]["extractors"]:
        if extractor["name"] == TAP:
            extractor.get("config", {}).pop("batch_config", None)
