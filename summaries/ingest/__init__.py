"""Ingestion: posthog-js compatible capture, raw batches, session assembly, importers.

Pointing posthog-js at Recap (details in README, "Pointing posthog-js at Recap"):

    posthog.init("<project capture token, phc_...>", {api_host: "https://<recap host>"})

Recap's remote config turns session recording, autocapture, exceptions, dead clicks and network
timing on; the recorder script posthog-js lazy-loads is served from node_modules/posthog-js/dist.

Modules: `bodies` (decoding one event at a time, size caps), `lz64` (legacy decoding, capped), `sanitize` (NUL,
surrogates, non-finite numbers), `payload` (token and per-event checks), `views` / `urls` / `paths` (endpoints,
CORS, JSON errors), `binding` (hot statements bound on the server), `batches` (RawBatch store / process in groups /
reprocess), `processing` (rows, quarantine, idempotent), `assembly` (session figures, pure, incremental), `rrweb`
(per-event decompression, recording figures), `ratelimit`, `tasks` (Celery, `default` queue: drains, sweeps),
`importers` (files and PostHog's API), `admin` (raw batches, quarantined events).
"""
