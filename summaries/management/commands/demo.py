"""The main job on the embedded defaults: set up, load the bundled sample sessions, report, and serve."""
from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from summaries.bootstrap import ensure_demo_install


class Command(BaseCommand):
    help = "Set up the embedded install, load the bundled sample sessions, and serve the result."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="stop after the job instead of serving")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, **opts) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        install = ensure_demo_install(settings.VAR_DIR)
        base = f"http://127.0.0.1:{opts['port']}"
        self.stdout.write(f"Organization {install.organization.name!r}, project {install.project.name!r} "
                          f"(capture token {install.project.capture_token}).")
        self.stdout.write(f"Sign in as {install.username} / {install.password} (kept in {settings.VAR_DIR / 'admin_password'}).")
        self.stdout.write(self.style.SUCCESS(f"Open {base}/"))
        if not opts["no_serve"]:
            call_command("serve", port=opts["port"])
