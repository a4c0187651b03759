from __future__ import annotations

from django.urls import path

from activity import views_logs

urlpatterns = [
    path("logs/signins/", views_logs.signin_log_view, name="signin_log"),
    path("logs/signins/<int:pk>/", views_logs.signin_log_detail_view, name="signin_log_detail"),
    path("people/<int:pk>/signins/", views_logs.person_signins_view, name="person_signins"),
    path("logs/exports/", views_logs.export_log_view, name="export_log"),
    path("logs/audit/", views_logs.audit_trail_view, name="audit_trail"),
    path("me/signins/", views_logs.my_signins_view, name="my_signins"),
    path("me/exports/", views_logs.my_exports_view, name="my_exports"),
]
