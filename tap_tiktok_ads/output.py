"""Singer output tuned for volume: orjson, and large writes instead of one per record.

The SDK's default writer encodes with simplejson and writes and flushes stdout for every
message; at a million report rows that was most of the tap's CPU (see README, Performance).
Records are collected into chunks of about 64 KiB; the chunk is written before any STATE,
SCHEMA or other control message, so a STATE line still never reaches the target before the
records it covers.
"""

from __future__ import annotations

import sys
import weakref
from typing import Any

import orjson
from singer_sdk.singerlib.encoding.simple import SimpleSingerWriter
from singer_sdk.singerlib.messages import Message, RecordMessage

CHUNK_BYTES = 64 * 1024
_WRITERS: weakref.WeakSet[ChunkedOrjsonWriter] = weakref.WeakSet()


def flush_all() -> None:
    """Write out records still buffered, e.g. when a sync fails: they are valid rows."""
    for writer in list(_WRITERS):
        writer.flush()


def _default(value: Any) -> Any:
    return str(value)


class ChunkedOrjsonWriter(SimpleSingerWriter):
    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()
        _WRITERS.add(self)

    def serialize_message(self, message: Message) -> str:
        return orjson.dumps(message.to_dict(), default=_default).decode()

    def write_message(self, message: Message) -> None:
        self._pending += orjson.dumps(message.to_dict(), default=_default)
        self._pending += b"\n"
        if isinstance(message, RecordMessage) and len(self._pending) < CHUNK_BYTES:
            return
        self.flush()

    def flush(self) -> None:
        """Write out buffered records."""
        if not self._pending:
            return
        binary = getattr(sys.stdout, "buffer", None)
        if binary is None:  # a text-only stdout (e.g. redirected in tests)
            sys.stdout.write(self._pending.decode())
        else:
            binary.write(self._pending)
        sys.stdout.flush()
        self._pending.clear()
