"""Single-session analysis as pure functions: input preparation, output schema, grounding, rule engine, scoring.

Nothing in this package touches the database or a network; Django and Celery live at the edges
(`summaries.summarize`, `summaries.tasks`, the management commands).
"""
