"""Keep secrets out of every log line, whoever writes it (us, the SDK, requests, urllib3).

A formatter wrapper on the root handlers rewrites each formatted line, tracebacks included,
replacing any current secret value with ``<redacted>``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

REDACTED = "<redacted>"
_MIN_SECRET_LENGTH = 4  # never "redact" trivial strings that would mangle every line


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(
        {s for s in secrets if s and len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True
    ):
        text = text.replace(secret, REDACTED)
    return text


class RedactingFormatter(logging.Formatter):
    def __init__(self, inner: logging.Formatter, secrets: Callable[[], list[str]]) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record), self.secrets())


def install_redaction(secrets: Callable[[], list[str]]) -> None:
    """Wrap the formatter of every handler reachable from the root and SDK loggers."""
    loggers = [
        logging.getLogger(),
        *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict)),
    ]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            current = handler.formatter or logging.Formatter()
            if not isinstance(current, RedactingFormatter):
                handler.setFormatter(RedactingFormatter(current, secrets))
