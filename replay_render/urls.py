"""URL routes of the replay_render app."""
from __future__ import annotations

from django.urls import path

from replay_render import player, views

app_name = "replay_render"

urlpatterns = [
    path("clips/<int:pk>.webm", views.clip_file, name="clip_file"),
    path("sessions/<int:pk>/recording.json", player.session_recording, name="session_recording"),
    path("assets/<str:name>", player.player_asset, name="player_asset"),
]
