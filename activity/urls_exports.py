from __future__ import annotations

from django.urls import path

from activity import views_exports

# Each export sits under the page it exports, and takes the same filter parameters.
urlpatterns = [
    path("logs/signins/export/", views_exports.signin_log_export, name="signin_log_export"),
    path("logs/exports/export/", views_exports.export_log_export, name="export_log_export"),
    path("logs/audit/export/", views_exports.audit_trail_export, name="audit_trail_export"),
    path("me/signins/export/", views_exports.my_signins_export, name="my_signins_export"),
    path("me/exports/export/", views_exports.my_exports_export, name="my_exports_export"),
]
