"""Sample corpus: scripted shopper journeys in Chromium, recorded by posthog-js into Recap, exported as a dataset."""
