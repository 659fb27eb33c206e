"""Routes of the sweeps pages."""
from __future__ import annotations

from django.urls import path

from sweeps import views

app_name = "sweeps"
urlpatterns = [
    path("projects/<int:pk>/patterns/", views.project_patterns, name="project_patterns"),
]
