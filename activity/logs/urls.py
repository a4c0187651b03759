from __future__ import annotations

from django.urls import path

from activity.logs import views

urlpatterns = [
    path("logs/signins/", views.signin_log_view, name="signin_log"),
    path("logs/signins/<int:pk>/", views.signin_log_detail_view, name="signin_log_detail"),
    path("people/<int:pk>/signins/", views.person_signins_view, name="person_signins"),
    path("logs/exports/", views.export_log_view, name="export_log"),
    path("logs/audit/", views.audit_trail_view, name="audit_trail"),
    path("me/signins/", views.my_signins_view, name="my_signins"),
    path("me/exports/", views.my_exports_view, name="my_exports"),
]
