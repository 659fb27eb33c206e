"""URL routes of the replay_render app."""
from __future__ import annotations

from django.urls import path

from replay_render import views

app_name = "replay_render"

urlpatterns = [
    path("clips/<int:pk>.webm", views.clip_file, name="clip_file"),
]
