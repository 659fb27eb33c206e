"""Run the demo CRM: `python -m demo_crm --recap-url http://127.0.0.1:8000 --token phc_...`."""
from __future__ import annotations

import argparse

from demo_crm.server import CrmConfig, CrmServer


def main() -> None:
    """Serve the CRM until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recap-url", required=True, help="Recap's URL, used as posthog-js api_host")
    parser.add_argument("--token", required=True, help="the Recap project's capture token (phc_...)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--faults", default="", help="faults for sessions without a crm_faults cookie, "
                                                      "e.g. save_fails.widget_noise or slow_view:angebote:8")
    args = parser.parse_args()
    config = CrmConfig(posthog_host=args.recap_url.rstrip("/"), posthog_token=args.token, default_faults=args.faults)
    server = CrmServer((args.host, args.port), config)
    server.serve_until_interrupted(
        f"Demo CRM on http://{args.host}:{server.port}/ sending analytics to {config.posthog_host}")


if __name__ == "__main__":
    main()
