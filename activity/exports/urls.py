from __future__ import annotations

from django.urls import path

from activity.exports import views

# Each export sits under the page it exports, and takes the same filter parameters.
urlpatterns = [
    path("logs/signins/export/", views.signin_log_export, name="signin_log_export"),
    path("logs/exports/export/", views.export_log_export, name="export_log_export"),
    path("logs/audit/export/", views.audit_trail_export, name="audit_trail_export"),
    path("me/signins/export/", views.my_signins_export, name="my_signins_export"),
    path("me/exports/export/", views.my_exports_export, name="my_exports_export"),
]
