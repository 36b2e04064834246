"""The Meltano project's ``.env``: our lines updated, obsolete ones dropped, all others kept."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import Path

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


class EnvValueError(ValueError):
    """A value cannot be written to a dotenv file safely."""


def _quote(value: str) -> str:
    """Single-quote for dotenv: python-dotenv and Meltano read it literally."""
    if "'" in value or "\n" in value:
        raise EnvValueError("a .env value cannot contain quotes or newlines")
    return f"'{value}'"


def read_env_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def updated_env_text(
    current: str, values: Mapping[str, str], *, remove: Collection[str] = ()
) -> str:
    """``current`` with ``KEY='value'`` for each of ``values`` (in place of the first such
    line, else appended), without the lines of ``remove`` or repeats of our keys."""
    pending = dict(values)
    output: list[str] = []
    for line in current.splitlines():
        match = _ENV_LINE.match(line)
        key = match.group(1) if match else None
        if key in remove:
            continue
        if key in values:
            if key in pending:
                output.append(f"{key}={_quote(pending.pop(key))}")
            continue  # drop duplicates of a key we own
        output.append(line)
    output.extend(f"{key}={_quote(value)}" for key, value in pending.items())
    return "\n".join(output) + "\n"
