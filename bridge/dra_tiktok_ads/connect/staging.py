"""Files written in two steps: first under a temporary name beside the target, then put in place.

Saving a connection stages every file, does the database work, and only then renames them,
so a failure before the rename leaves each earlier file exactly as it was. Staged files are
created 0600 (they hold tokens); one left behind by a killed run is removed by the next save.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

SUFFIX = ".connect-tmp"
# A staged file older than this cannot belong to a save still running.
LEFTOVER_AGE_SECONDS = 60.0


class StagedFile:
    """``text`` written and fsynced under a temporary name next to ``path``."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=SUFFIX, dir=path.parent)
        self._temp = Path(name)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            self.discard()
            raise

    def install(self) -> None:
        """Replace ``path`` atomically: a reader sees the old file or the new one."""
        self._temp.replace(self.path)

    def discard(self) -> None:
        self._temp.unlink(missing_ok=True)


def sync_folders(folders: Iterable[Path]) -> None:
    """Make the renames in ``folders`` durable, once per folder after all of them."""
    for folder in folders:
        try:
            descriptor = os.open(folder, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fsync(descriptor)
        except OSError:
            pass  # a file system that cannot sync a folder keeps the rename all the same
        finally:
            os.close(descriptor)


def remove_leftovers(folder: Path) -> None:
    """Delete staged files a killed save left in ``folder`` (they may hold tokens)."""
    cutoff = time.time() - LEFTOVER_AGE_SECONDS
    with contextlib.suppress(OSError):
        for leftover in folder.glob(f".*{SUFFIX}"):
            with contextlib.suppress(OSError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
