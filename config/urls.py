"""Top-level URL routes: admin, health, sign-in, and each app's pages and endpoints."""
from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # Members sign in here (staff or not); the admin keeps its own page for staff.
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=False), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("summaries.urls")),
    path("", include("summaries.ingest.urls")),
    path("", include("replay_render.urls")),
    path("", include("patterns.urls")),
    path("", include("sweeps.urls")),
]

if settings.DEBUG:  # pragma: no cover - production serves media from storage
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
