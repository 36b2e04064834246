"""A local simulator of the TikTok Marketing API v1.3 (see docs/simulator.md)."""

from tiktok_sim.config import SimConfig
from tiktok_sim.dataset import Dataset
from tiktok_sim.faults import Faults
from tiktok_sim.server import Simulator
from tiktok_sim.stats import Stats

__all__ = ["Dataset", "Faults", "SimConfig", "Simulator", "Stats"]
