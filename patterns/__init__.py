"""Group reports: patterns of issues across many sessions, their statistics and scheduled sweeps."""
