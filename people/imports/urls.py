from __future__ import annotations

from django.urls import path

from people.imports import views

urlpatterns = [
    path("", views.import_upload_view, name="people_import"),
    path("template.csv", views.import_template_view, name="people_import_template"),
    path("<int:pk>/", views.import_job_view, name="people_import_job"),
    path("<int:pk>/apply/", views.import_apply_view, name="people_import_apply"),
    path("<int:pk>/discard/", views.import_discard_view, name="people_import_discard"),
]
