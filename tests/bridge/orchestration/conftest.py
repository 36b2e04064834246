"""The runner's end-to-end fixtures (simulator, Meltano plugins, platform database)."""

from tests.bridge.sync.test_runner_end_to_end import (  # noqa: F401 - fixtures
    platform,
    sim,
)
