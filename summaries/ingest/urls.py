"""Capture routes at the site root, where posthog-js expects them."""
from __future__ import annotations

from django.urls import path, re_path

from summaries.ingest import views
from summaries.ingest.paths import CAPTURE_EVENTS, CAPTURE_RECORDINGS, FLAGS

urlpatterns = [
    re_path(CAPTURE_EVENTS, views.capture_events, name="capture-events"),
    re_path(CAPTURE_RECORDINGS, views.capture_recordings, name="capture-recordings"),
    re_path(FLAGS, views.flags, name="capture-flags"),
    path("array/<str:token>/config", views.config_json, name="capture-config"),
    path("array/<str:token>/config.js", views.config_js, name="capture-config-js"),
    path("static/<str:version>/<str:name>", views.sdk_script, name="capture-sdk-script-versioned"),
    path("static/<str:name>", views.sdk_script, name="capture-sdk-script"),
]
