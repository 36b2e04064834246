"""The tap's catalog, discovered once per cycle and handed to every later run of the cycle.

Meltano runs the tap's discovery (a whole tap process) before every run of a tap installed
editable (``pip_url: -e``, as this project's is: Meltano never caches its catalog), and
each run of the runner has a private system folder, where no cache would survive anyway.
On 2 cores that process is a large share of a data source's daily run. The catalog comes
from the project's settings alone (meltano.yml, the runner's environment), never from a data
source's ids or tokens, so every run of a cycle would discover the same one: the first run
that loads keeps its catalog, as Meltano left it (select and metadata rules applied), and
the runs that start after it pass it as the tap's ``catalog`` extra, with which Meltano
neither discovers nor applies the rules again.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Meltano's environment variable for the extractor's ``catalog`` extra.
CATALOG_VAR = "TAP_TIKTOK_ADS__CATALOG"
#: Where Meltano leaves the catalog of a run, below the run's system folder.
RUN_CATALOG = Path("run") / "tap-tiktok-ads" / "tap.properties.json"


class CycleCatalog:
    """The catalog of one cycle: none until a run of the cycle has loaded."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "catalog.json"
        self._lock = threading.Lock()

    def env(self) -> dict[str, str]:
        """The variable a run needs to use the cycle's catalog, if there is one yet."""
        with self._lock:
            return {CATALOG_VAR: str(self.path)} if self.path.is_file() else {}

    def keep(self, sys_dir: Path) -> None:
        """Keep the catalog of a run that loaded (its system folder ``sys_dir``), unless the
        cycle has one already."""
        source = sys_dir / RUN_CATALOG
        with self._lock:
            if self.path.is_file() or not source.is_file():
                return
            partial = self.path.with_suffix(".partial")
            shutil.copyfile(source, partial)
            partial.replace(self.path)


@contextmanager
def cycle_catalog() -> Iterator[CycleCatalog]:
    """A catalog for one cycle, in a private temporary folder removed after it."""
    folder = Path(tempfile.mkdtemp(prefix="tiktok-sync-catalog-"))
    try:
        yield CycleCatalog(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
