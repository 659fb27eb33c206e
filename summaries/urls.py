"""URL routes of the summaries app."""
from __future__ import annotations

from django.urls import path

from summaries import summary_views, views

app_name = "summaries"

urlpatterns = [
    path("", views.home, name="home"),
    path("projects/<int:pk>/", views.project_overview, name="project_overview"),
    path("sessions/<int:pk>/summary/", summary_views.session_summary, name="session_summary"),
]
