"""The alerts pages (mounted at /alerts/ by mailadmin/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from alerts import views
from alerts.report import views as report_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.alerts_list_view, name="alerts_list"),
    path("bulk/", views.alerts_bulk_view, name="alerts_bulk"),
    path("export/", views.alerts_export_view, name="alerts_export"),
    path("rules/", views.alert_rules_view, name="alert_rules"),
    path("trusts/", views.alert_trusts_view, name="alert_trusts"),
    path("trusts/<int:pk>/revoke/", views.trust_revoke_view, name="trust_revoke"),
    path("digest/", views.alert_digest_view, name="alert_digest"),
    path("<int:pk>/", views.alert_detail_view, name="alert_detail"),
    path("<int:pk>/act/", views.alert_action_view, name="alert_action"),
    path("report/signin/<int:pk>/", report_views.signin_report_view, name="signin_report"),
    path("report/<str:token>/", report_views.report_link_view, name="alert_report_link"),
]
