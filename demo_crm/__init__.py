"""Kontora, a demo B2B CRM (German UI, single-page app) whose faults are injected per browser session."""
