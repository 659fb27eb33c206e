"""Scheduled sweeps: new sessions summarized in the background, rolling reports, pattern identity and alerts."""
