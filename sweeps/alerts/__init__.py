"""Alerts: which conditions fire, the payload of each channel, delivery with retries, digests."""
