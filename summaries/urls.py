"""URL routes of the summaries app."""
from __future__ import annotations

from django.urls import path

from summaries import views

app_name = "summaries"

urlpatterns = [
    path("", views.home, name="home"),
]
