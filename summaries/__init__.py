"""Organizations, projects, captured sessions, events and recordings, and single-session summaries."""
