"""Management commands of the patterns app."""
