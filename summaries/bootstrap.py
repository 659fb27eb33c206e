"""First-run setup of the embedded install: a demo organization, project and admin user."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model

from summaries.models import Membership, Organization, Project

DEMO_ORG_SLUG = "demo"
DEMO_PROJECT_NAME = "Demo shop"


@dataclass
class DemoInstall:
    """What the demo set up, for printing."""

    organization: Organization
    project: Project
    username: str
    password: str


def ensure_demo_install(var_dir: Path) -> DemoInstall:
    """Create (once) the demo organization, its project and an admin whose password is kept under var/."""
    org, _ = Organization.objects.get_or_create(slug=DEMO_ORG_SLUG, defaults={"name": "Demo"})
    project, _ = Project.objects.get_or_create(organization=org, name=DEMO_PROJECT_NAME)
    password_file = var_dir / "admin_password"
    User = get_user_model()
    user = User.objects.filter(username="admin").first()
    if user is None or not password_file.exists():
        password = secrets.token_urlsafe(12)
        if user is None:
            user = User.objects.create_superuser("admin", "admin@example.com", password)
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        var_dir.mkdir(parents=True, exist_ok=True)
        password_file.write_text(password)
        password_file.chmod(0o600)
    Membership.objects.get_or_create(user=user, organization=org, defaults={"role": Membership.Role.OWNER})
    return DemoInstall(org, project, "admin", password_file.read_text().strip())
