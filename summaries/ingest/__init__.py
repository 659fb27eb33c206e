"""Ingestion: posthog-js compatible capture, raw batches, session assembly, importers.

Pointing posthog-js at Recap (details in README, "Pointing posthog-js at Recap"):

    posthog.init("<project capture token, phc_...>", {api_host: "https://<recap host>"})

Recap's remote config turns session recording, autocapture, exceptions, dead clicks and network
timing on; the recorder script posthog-js lazy-loads is served from node_modules/posthog-js/dist.

Modules: `bodies` (decoding, size caps), `payload` (token and per-event checks), `views` / `urls`
(endpoints, CORS), `batches` (RawBatch store / process / reprocess), `processing` (rows, idempotent),
`assembly` (session figures, pure), `rrweb` (per-event decompression, activity), `ratelimit`,
`tasks` (Celery, `default` queue), `importers` (files and PostHog's API).
"""
