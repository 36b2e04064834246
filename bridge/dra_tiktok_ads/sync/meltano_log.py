"""What an extract-and-load said, read as data from ``meltano --log-format=json``.

Every line Meltano writes in that format is one JSON object. Its own events carry ``event``
and ``level``; a plugin's lines carry ``name`` (the plugin), ``producer`` / ``consumer``
(tap / target) and, for the Singer SDK's metrics, ``metric_info`` (``{"type": "counter",
"metric": "record_count", "value": 15, ...}``). The block's closing event says which step
failed (``exit_codes``, ``err``). Nothing here matches text patterns; a line that is not JSON
(a plugin writing raw text) is kept in the log and otherwise ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: Meltano's closing events name the failing step but not the cause.
_GENERIC_EVENTS = frozenset(
    {"Block run completed", "Run completed", "Extractor failed", "Loader failed", "Run failed"}
)
_ERROR_LEVELS = frozenset({"error", "critical"})
_STEP_NAMES = {"extractors": "extractor", "loaders": "loader", "mappers": "mapper"}
MAX_MESSAGE = 600


@dataclass(frozen=True)
class PluginError:
    """An error-level event, from a plugin (``plugin`` set) or from Meltano itself."""

    plugin: str | None
    message: str
    producer: bool = False


@dataclass
class LoadReport:
    """Everything the runner needs from one ``meltano run tap target``."""

    records_extracted: int = 0
    records_loaded: int = 0
    records_by_stream: dict[str, int] = field(default_factory=dict)
    errors: list[PluginError] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    meltano_error: str | None = None
    #: What a failed command step (``dra-check:data-source``) said last, e.g. its refusal.
    command_error: str | None = None
    _command_output: dict[str, str] = field(default_factory=dict)
    success: bool | None = None

    def read(self, line: str) -> None:
        """Take in one line of Meltano's output."""
        event = parse_line(line)
        if event is not None:
            self._take(event)

    def _take(self, event: dict[str, Any]) -> None:  # noqa: PLR0911 - one return per event kind
        metric = event.get("metric_info")
        plugin = event.get("name") if isinstance(event.get("name"), str) else None
        if isinstance(metric, dict):
            self._take_metric(metric, producer=bool(event.get("producer")))
            return
        message = _event_message(event)
        if event.get("cmd_type") == "command" and plugin is not None and message:
            self._command_output[plugin] = message
            return
        if "exit_codes" in event or event.get("event") == "Block run completed":
            self.success = bool(event.get("success"))
            if event.get("block_type") == "InvokerCommand" and not self.success:
                # A command step (the check) failed: its own last words say why.
                for plugin_name, said in self._command_output.items():
                    self.failed_steps.append(plugin_name)
                    self.command_error = said
                return
            codes = event.get("exit_codes") or {}
            if isinstance(codes, dict):
                self.failed_steps = [
                    _STEP_NAMES.get(str(kind), str(kind)) for kind, code in codes.items() if code
                ]
            return
        if event.get("event") == "Run completed":
            self.success = event.get("status") == "success" and self.success is not False
            return
        if str(event.get("level", "")).lower() not in _ERROR_LEVELS or not message:
            return
        if plugin is None:
            if message not in _GENERIC_EVENTS:
                self.meltano_error = message
            return
        self.errors.append(PluginError(plugin, message, producer=bool(event.get("producer"))))

    def _take_metric(self, metric: dict[str, Any], *, producer: bool) -> None:
        if metric.get("metric") != "record_count" or metric.get("type") != "counter":
            return
        try:
            value = int(metric.get("value") or 0)
        except (TypeError, ValueError):
            return
        if producer:
            self.records_extracted += value
            tags = metric.get("tags")
            stream = tags.get("stream") if isinstance(tags, dict) else None
            if isinstance(stream, str):
                self.records_by_stream[stream] = self.records_by_stream.get(stream, 0) + value
        else:
            self.records_loaded += value

    def error_message(self) -> str | None:
        """The error that explains the failure, best first: a failed command step's own words
        (the check's refusal), the tap's one-line ``Sync failed: ...``, then the first error
        of the failing step's plugin (the first line tells the whole story; later ones, like
        the SDK's closing "Config validation failed", add nothing), then Meltano's."""
        if self.command_error:
            return _shorten(self.command_error)
        tap_errors = [e for e in self.errors if e.producer]
        target_errors = [e for e in self.errors if not e.producer]
        for error in reversed(tap_errors):
            if error.message.startswith("Sync failed"):
                return _shorten(error.message)
        ordered = (
            (target_errors, tap_errors)
            if self.failed_steps[:1] == ["loader"]
            else (tap_errors, target_errors)
        )
        for errors in ordered:
            if errors:
                error = errors[0]
                return _shorten(f"{error.plugin}: {error.message}")
        if self.meltano_error:
            return _shorten(self.meltano_error)
        if self.failed_steps:
            return f"the {' and '.join(self.failed_steps)} failed"
        return None


def parse_line(line: str) -> dict[str, Any] | None:
    """One JSON log line as a dict, or None for anything else."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _event_message(event: dict[str, Any]) -> str:
    message = str(event.get("event") or "").strip()
    # Plugins with structured logging attach the exception that ended them.
    exception = event.get("plugin_exception") or event.get("exception")
    if isinstance(exception, dict) and exception.get("message"):
        detail = str(exception["message"]).strip()
        if detail and detail not in message:
            message = f"{message}: {detail}" if message else detail
    return message


def _shorten(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + " ..."
