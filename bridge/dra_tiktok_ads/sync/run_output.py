"""Reading what a ``meltano run`` said: records extracted, the best error line, the message.

Only the standard library, so the demo (devstack/demo.py) counts records the same way
without importing the rest of the runner.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

_METRIC = re.compile(r"METRIC: (\{.*\})")
# Meltano re-renders the SDK's JSON metric as key=value pairs.
_PLUGIN = re.compile(r"^\S+\s+\[\w+\s*\]\s+(\S+)")
_METRIC_KV = re.compile(r"\bmetric_name=record_count\s+metric_value=(\d+)")
_DBT_FAILURE = re.compile(
    r"((?:Failure in test|(?:Database|Compilation|Runtime) Error in \w+)\s+\S+)"
)
_CHECK_REFUSED = re.compile(r"tap-tiktok-ads-check refused the run: (.*?)(?:\s+cmd_type=|$)")
_SYNC_FAILED = re.compile(r"(Sync failed: .*?)(?:\s+cmd_type=|\s+name=tap-tiktok-ads|$)")
_LEVEL_ERROR = re.compile(r"\|\s*(?:ERROR|CRITICAL)\s*\|\s*[\w.-]+\s*\|\s*(.*?)(?:\s+cmd_type=|$)")
_MELTANO_ERROR = re.compile(r"\[(?:error|critical)\s*\]\s+meltano\s+(.*?)(?:\s+cmd_type=.*)?$")
#: Meltano's closing lines say nothing about the cause.
_GENERIC_ERRORS = ("Block run completed", "Run completed", "Run failed")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class MeltanoResult:
    """How one ``meltano run`` ended and what its output said."""

    returncode: int
    records: int
    error_line: str | None
    log_path: Path
    timed_out: bool = False


@dataclass
class RunOutput:
    """Reads a run's output line by line: records counted, the best error line kept."""

    records: int = 0
    error_line: str | None = None

    def read(self, line: str) -> None:
        self.records += record_count_in_line(line)
        found = error_in_line(line)
        if found and not (self.error_line or "").startswith("Sync failed"):
            self.error_line = found


def record_count_in_line(line: str) -> int:
    """Records in a tap ``record_count`` metric line (JSON or Meltano's key=value form)."""
    plugin = _PLUGIN.search(line)
    if "record_count" not in line or (plugin and not plugin.group(1).startswith("tap-")):
        return 0  # not a metric, or the loader counting the same records again
    plain = _METRIC_KV.search(line)
    if plain:
        return int(plain.group(1))
    match = _METRIC.search(line)
    try:
        metric = json.loads(match.group(1)) if match else {}
        if metric.get("metric") == "record_count" and metric.get("type") == "counter":
            return int(metric.get("value", 0))
    except (TypeError, ValueError, AttributeError):
        pass
    return 0


def error_in_line(line: str) -> str | None:
    """The message of an error line, best first: the tap's one-line "Sync failed: ..."."""
    text = _ANSI.sub("", line).strip()
    match = _CHECK_REFUSED.search(text)
    if match:
        return f"Sync failed: {match.group(1).strip()}"
    match = _SYNC_FAILED.search(text)
    if match:
        return match.group(1).strip()
    match = _DBT_FAILURE.search(text)
    if match:
        return (
            f"the transform (dbt build) failed: {match.group(1)}; the raw data was loaded,"
            " the platform tables may be stale"
        )
    match = _LEVEL_ERROR.search(text)
    # The SDK's closing "Config validation failed" follows the line that says what is wrong.
    if match and match.group(1).strip() and match.group(1).strip() != "Config validation failed":
        return match.group(1).strip()
    return None


def final_error(result: MeltanoResult, *, timeout_s: float) -> str:
    """An actionable one-paragraph message for ``sync_error_message``."""
    log = f"Full log on the sync host: {result.log_path}."
    if result.timed_out:
        return (
            f"Sync timed out after {timeout_s:.0f} s and was stopped; the next run"
            f" resumes from the saved state. Raise --timeout if the account is large. {log}"
        )
    tail = _meltano_error_tail(result.log_path)
    if result.error_line:
        message = result.error_line
        if not message.startswith("Sync failed"):
            message = f"Sync failed: {message}"
    elif tail:
        message = f"Sync failed: {tail}"
    else:
        message = f"Sync failed: meltano run exited with status {result.returncode}."
    return f"{message} {log}"


def _meltano_error_tail(log_path: Path) -> str | None:
    """Meltano's own last error (e.g. a loader or dbt failure), from the redacted log."""
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines[-400:]):
        text = _ANSI.sub("", line).strip()
        match = _MELTANO_ERROR.search(text)
        if match and match.group(1).strip() and not match.group(1).startswith(_GENERIC_ERRORS):
            message = match.group(1).strip()
            return message if len(message) <= 400 else message[:400] + " ..."
    return None
