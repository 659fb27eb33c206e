"""Management commands of replay_render."""
