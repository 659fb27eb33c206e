"""The capture and remote-config paths posthog-js calls, as patterns of the path without its leading slash.

Kept free of Django imports: settings read them (HTTPS redirect exemptions) and the URL routes are built from them.
"""
from __future__ import annotations

CAPTURE_EVENTS = r"^(?:e|i/v0/e|batch|capture|track|engage)/?$"
CAPTURE_RECORDINGS = r"^s/?$"
FLAGS = r"^(?:flags|decide)/?$"
CAPTURE_PATHS = "|".join((CAPTURE_EVENTS, CAPTURE_RECORDINGS, FLAGS))
CONFIG_PATHS = r"^array/[^/]+/config(?:\.js)?$"
