"""The sweeps app's models: one module per concern, re-exported here."""
from __future__ import annotations

from sweeps.models.alerts import Alert, AlertChannel, AlertPolicy, Delivery
from sweeps.models.identity import PatternDay, RollingReport, TrackedPattern
from sweeps.models.sweep import Sweep, SweepClaim, SweepTick, SweepUsage, engine_key

__all__ = [
    "Alert", "AlertChannel", "AlertPolicy", "Delivery", "PatternDay", "RollingReport", "Sweep", "SweepClaim",
    "SweepTick", "SweepUsage", "TrackedPattern", "engine_key",
]
