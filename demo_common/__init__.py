"""What the demo apps (the shop, the CRM) share."""
