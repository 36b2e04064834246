"""What the cycle's ``dbt build`` did, read as data: ``run_results.json`` and dbt's JSON log.

``run_results.json`` (in the build's target path) has one result per node: status
(``success``/``pass`` ... ``error``/``fail``/``skipped``), message and timing. When dbt stops
before writing it (a project that does not parse, a database that refuses the connection),
the error events of ``dbt --log-format json`` say why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dra_tiktok_ads.sync.meltano_log import parse_line

_FAILED = frozenset({"error", "fail", "runtime error"})
MAX_MESSAGE = 600


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    status: str
    message: str = ""
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status in _FAILED

    @property
    def name(self) -> str:
        """``model.dra_tiktok_ads.campaign_performance`` -> ``model campaign_performance``."""
        parts = self.unique_id.split(".")
        return f"{parts[0]} {parts[-1]}" if len(parts) > 1 else self.unique_id


@dataclass
class BuildResults:
    """The nodes of one build, or (``nodes`` empty) the errors dbt logged before any ran."""

    nodes: list[NodeResult] = field(default_factory=list)
    elapsed_s: float = 0.0
    logged_errors: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[NodeResult]:
        return [node for node in self.nodes if node.failed]

    def count(self, *statuses: str) -> int:
        return sum(node.status in statuses for node in self.nodes)

    def error_message(self, returncode: int) -> str:
        """One actionable line for ``sync_error_message``."""
        if self.failures:
            first = self.failures[0]
            more = len(self.failures) - 1
            detail = " ".join(first.message.split())
            text = f"{first.name} {first.status}: {detail}" if detail else first.name
            if more:
                text += f" (and {more} more failed node{'s' if more > 1 else ''})"
        elif self.logged_errors:
            text = " ".join(self.logged_errors[-1].split())
        else:
            text = f"dbt exited with status {returncode}"
        text = text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + " ..."
        return (
            f"the transform (dbt build) failed: {text}; the raw data was loaded, the platform"
            " tables are built again by the next cycle"
        )


def read_run_results(target_path: Path) -> BuildResults:
    """``<target_path>/run_results.json``; an empty result when dbt wrote none."""
    try:
        document = json.loads((target_path / "run_results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return BuildResults()
    results: list[dict[str, Any]] = document.get("results") or []
    nodes = [
        NodeResult(
            unique_id=str(result.get("unique_id", "")),
            status=str(result.get("status", "")),
            message=str(result.get("message") or ""),
            seconds=float(result.get("execution_time") or 0.0),
        )
        for result in results
        if isinstance(result, dict)
    ]
    return BuildResults(nodes=nodes, elapsed_s=float(document.get("elapsed_time") or 0.0))


def logged_error(line: str) -> str | None:
    """The message of an error event in ``dbt --log-format json`` output, else None."""
    event = parse_line(line)
    info = event.get("info") if event else None
    if not isinstance(info, dict) or info.get("level") != "error":
        return None
    message = str(info.get("msg") or "").strip()
    return message or None
