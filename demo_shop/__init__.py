"""Demo shop: a small online shop instrumented with posthog-js, with faults injectable per browser session."""
