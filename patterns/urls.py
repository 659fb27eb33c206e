"""URL routes of the patterns app."""
from __future__ import annotations

from django.urls import path

from patterns import project_views, views

app_name = "patterns"

urlpatterns = [
    path("reports/<int:pk>/", views.report_page, name="report"),
    path("projects/<int:pk>/reports/", project_views.project_reports, name="project_reports"),
    path("reports/<int:pk>/patterns/<int:pattern_pk>/feedback", views.pattern_feedback, name="pattern_feedback"),
    path("reports/<int:pk>/progress.json", views.report_progress, name="report_progress"),
    path("reports/<int:pk>/export.<str:fmt>", views.report_export, name="report_export"),
]
