"""The sweeps app's models: one module per concern, re-exported here."""
from __future__ import annotations

from sweeps.models.sweep import Sweep, SweepClaim, SweepTick, SweepUsage, engine_key

__all__ = ["Sweep", "SweepClaim", "SweepTick", "SweepUsage", "engine_key"]
