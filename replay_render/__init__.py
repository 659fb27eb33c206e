"""Rendering rrweb replays into webm clips on the render queue, and video validation of flagged issues."""
