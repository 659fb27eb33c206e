"""Capture routes at the site root, where posthog-js expects them."""
from __future__ import annotations

from django.urls import path, re_path

from summaries.ingest import views

urlpatterns = [
    re_path(r"^(?:e|i/v0/e|batch|capture|track|engage)/?$", views.capture_events, name="capture-events"),
    re_path(r"^s/?$", views.capture_recordings, name="capture-recordings"),
    re_path(r"^(?:flags|decide)/?$", views.flags, name="capture-flags"),
    path("array/<str:token>/config", views.config_json, name="capture-config"),
    path("array/<str:token>/config.js", views.config_js, name="capture-config-js"),
    path("static/<str:version>/<str:name>", views.sdk_script, name="capture-sdk-script-versioned"),
    path("static/<str:name>", views.sdk_script, name="capture-sdk-script"),
]
