"""Sample corpora: scripted journeys on the demo apps (shop, CRM) in Chromium, recorded by posthog-js into Recap."""
