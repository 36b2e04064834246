"""Records extracted, read from ``meltano run``'s human-readable output (``make demo``).

The runner reads Meltano's JSON events instead (:mod:`.meltano_log`); the demo shows a person
Meltano's usual console output and counts records from it. Only the standard library, so the
demo does not import the rest of the runner.
"""

from __future__ import annotations

import json
import re

_METRIC = re.compile(r"METRIC: (\{.*\})")
# Meltano re-renders the SDK's JSON metric as key=value pairs.
_PLUGIN = re.compile(r"^\S+\s+\[\w+\s*\]\s+(\S+)")
_METRIC_KV = re.compile(r"\bmetric_name=record_count\s+metric_value=(\d+)")


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
