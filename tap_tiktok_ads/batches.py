"""Singer BATCH output (``batch_config``): records in local JSON Lines files.

Why: in ``meltano run`` Meltano relays every Singer line from the tap to the target through
asyncio, a read, a write and a drain per line. At two million report rows that relay used
more CPU than the tap and the target together (docs/performance.md). With ``batch_config``
set, rows go to files and Meltano relays one BATCH line per file set.

What the SDK's own batcher does not give, and this module does:

- A STATE never runs ahead of the rows it covers. Files are closed at each checkpoint (the
  end of a 30-day window) and their BATCH message is written before the STATE message.
- Stream maps apply as they do to RECORD messages (the SDK's batcher skips them, which would
  drop ``data_source_id``).
- target-postgres adds no ``_sdc_*`` columns to rows it loads from files, and the transform
  needs them (``_sdc_batched_at`` drives its incremental loads), so the tap writes them: one
  time per file for extracted/received/batched (the file is started when its first row is
  ready, like the target's batch start time), milliseconds for ``_sdc_sequence``.
- Files are written locally (``file://`` roots only: the target reads them from this
  machine), and files of earlier runs older than ``RETENTION`` are deleted when a run
  starts; by then their target has long read them.
"""

from __future__ import annotations

import gzip
import logging
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from io import BufferedWriter
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import orjson
from singer_sdk.helpers._batch import BatchConfig, BatchFileFormat

LOGGER = logging.getLogger(__name__)

FILE_PREFIX = "tap-tiktok-ads--"
RETENTION_S = 6 * 3600
GZIP_LEVEL = 1  # level 1 compresses report rows ~8x at a fraction of level 9's CPU


def config_errors(raw: Mapping[str, Any] | None) -> list[str]:
    """What is wrong with a ``batch_config`` setting for this tap, one line each."""
    if not raw:
        return []
    try:
        config = BatchConfig.from_dict(dict(raw))
    except (KeyError, TypeError, ValueError) as error:
        return [
            f"batch_config is malformed ({error}): use e.g. "
            '{"encoding": {"format": "jsonl", "compression": "gzip"}, '
            '"storage": {"root": "file:///var/tmp/tiktok-batches"}}'
        ]
    errors = []
    if config.encoding.format != BatchFileFormat.JSONL:
        errors.append(
            f"batch_config.encoding.format {config.encoding.format!r} is not supported: use jsonl"
        )
    if config.encoding.compression not in (None, "none", "gzip"):
        errors.append(
            f"batch_config.encoding.compression {config.encoding.compression!r} is not "
            "supported: use gzip or none"
        )
    if urlparse(config.storage.root).scheme != "file":
        errors.append(
            f"batch_config.storage.root {config.storage.root!r} is not a file:// URL: the "
            "target reads the files from this machine, e.g. file:///var/tmp/tiktok-batches"
        )
    if not config.batch_size or config.batch_size < 1:
        errors.append("batch_config.batch_size must be a positive number of rows per file")
    return errors


def root_dir(config: BatchConfig) -> Path:
    return Path(unquote(urlparse(config.storage.root).path))


def delete_old_files(config: BatchConfig, now: float | None = None) -> int:
    """Delete this tap's batch files older than ``RETENTION_S``; returns how many."""
    directory = root_dir(config)
    if not directory.is_dir():
        return 0
    cutoff = (now if now is not None else time.time()) - RETENTION_S
    deleted = 0
    for path in directory.glob(f"{config.storage.prefix or ''}{FILE_PREFIX}*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
        except OSError as error:  # another run's cleanup got there first, or no permission
            LOGGER.debug("could not delete old batch file %s: %s", path, error)
    return deleted


class BatchFiles:
    """The files one stream writes until its next checkpoint."""

    def __init__(self, config: BatchConfig, stream_name: str, sync_started_ms: int) -> None:
        self._config = config
        self._directory = root_dir(config)
        self._gzip = config.encoding.compression == "gzip"
        self._name = f"{config.storage.prefix or ''}{FILE_PREFIX}{stream_name}-{uuid.uuid4()}"
        self._sync_started_ms = sync_started_ms
        self._file: gzip.GzipFile | BufferedWriter | None = None
        self._rows_in_file = 0
        self._number = 0
        self._closed: list[str] = []
        self._metadata: dict[str, Any] = {}

    def write(self, record: Mapping[str, Any]) -> None:
        if self._file is None or self._rows_in_file >= self._config.batch_size:
            self._start_file()
        assert self._file is not None
        line = orjson.dumps({**record, **self._metadata}, default=str)
        self._file.write(line + b"\n")
        self._rows_in_file += 1

    def manifest(self) -> list[str]:
        """Close the open file; the URLs of every file written since the last manifest."""
        self._close_file()
        closed, self._closed = self._closed, []
        return closed

    def discard(self) -> None:
        """A failed run: remove files that were never announced in a BATCH message."""
        for url in self.manifest():
            Path(unquote(urlparse(url).path)).unlink(missing_ok=True)

    def _start_file(self) -> None:
        self._close_file()
        self._directory.mkdir(parents=True, exist_ok=True)
        self._number += 1
        suffix = ".jsonl.gz" if self._gzip else ".jsonl"
        path = self._directory / f"{self._name}-{self._number}{suffix}"
        # Kept open across writes until the next checkpoint; closed by _close_file.
        self._file = (
            gzip.open(path, "wb", compresslevel=GZIP_LEVEL)  # noqa: SIM115
            if self._gzip
            else path.open("wb")
        )
        self._closed.append(path.as_uri())
        now = datetime.now(timezone.utc)
        stamp = now.isoformat()
        self._metadata = {
            "_sdc_extracted_at": stamp,
            "_sdc_received_at": stamp,
            "_sdc_batched_at": stamp,
            "_sdc_sequence": int(now.timestamp() * 1000),
            "_sdc_sync_started_at": self._sync_started_ms,
            "_sdc_table_version": None,
            "_sdc_deleted_at": None,
        }
        self._rows_in_file = 0

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def checkpointed_manifests(
    records: Iterator[Mapping[str, Any]],
    files: BatchFiles,
    checkpoint_due: Any,
) -> Iterator[list[str]]:
    """Write ``records`` to ``files``; a manifest whenever ``checkpoint_due()`` says a
    checkpoint passed before the next record (so the state written after it is covered),
    and one at the end. ``checkpoint_due`` also resets the signal."""
    try:
        for record in records:
            if checkpoint_due():
                yield files.manifest()
            files.write(record)
        checkpoint_due()
        yield files.manifest()
    except BaseException:
        files.discard()
        raise
